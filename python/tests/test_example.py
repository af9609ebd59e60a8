"""python/examples/hello.py, the README's "From Python" program, runs."""

import os
import subprocess
import sys

from conftest import HERE, child_env


def test_hello_example(tmp_path):
    script = os.path.join(HERE, "..", "examples", "hello.py")
    out = subprocess.run([sys.executable, script, str(tmp_path / "hello.db")], env=child_env(),
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert out == "b'red' None\n[(b'banana', b'yellow')]\n"
