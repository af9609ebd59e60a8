"""Builds the sombra package: setuptools' build_ext runs CMake.

The native module is the CMake target sombra_python of the repository
(python/CMakeLists.txt), configured with -DSOMBRA_BUILD_PYTHON=ON and
nothing else, for the python that runs this script. Offline on Debian 12
(docs/python.md, "Installing"):

    pip install --no-build-isolation --break-system-packages ./python
    # or, in a venv made with: python3 -m venv --system-site-packages VENV
    VENV/bin/pip install --no-build-isolation ./python

SOMBRA_JOBS sets the build's parallel jobs (default: the number of cores).
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent


def version():
    text = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(sombra VERSION ([0-9.]+)", text).group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = pathlib.Path(self.build_temp).resolve() / "cmake"
        build.mkdir(parents=True, exist_ok=True)
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build),
            "-DCMAKE_BUILD_TYPE=Release",
            "-DSOMBRA_BUILD_PYTHON=ON",
            "-DSOMBRA_BUILD_TESTS=OFF",
            "-DSOMBRA_BUILD_TOOLS=OFF",
            "-DSOMBRA_BUILD_BENCH=OFF",
            "-DSOMBRA_BUILD_EXAMPLES=OFF",
            "-DSOMBRA_INSTALL=OFF",
            "-DSOMBRA_BUILD_C_API=OFF",
            f"-DPython3_EXECUTABLE={sys.executable}",
        ]
        if shutil.which("ninja") and not (build / "CMakeCache.txt").exists():
            configure += ["-G", "Ninja"]
        subprocess.run(configure, check=True)
        jobs = os.environ.get("SOMBRA_JOBS", str(os.cpu_count() or 2))
        subprocess.run(["cmake", "--build", str(build), "--target", "sombra_python", "-j", jobs],
                       check=True)
        built = next((build / "python" / "sombra").glob("_sombra*"))
        dest = pathlib.Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, dest)


setup(
    version=version(),
    packages=["sombra"],
    ext_modules=[Extension("sombra._sombra", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
