"""Shared fixtures of the sombra package's tests (python/tests/).

Run by ctest (python_tests, label unit) with PYTHONPATH naming the build
tree's native module and python/ (the package), or by hand:

    PYTHONPATH=build/release/python:python python3 -m pytest -q python/tests
"""

import os
import sys

import pytest

import sombra

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def path(tmp_path):
    """A database path in a fresh directory."""
    return str(tmp_path / "t.db")


@pytest.fixture
def db(path):
    """An open database (default options), closed after the test."""
    d = sombra.open(path)
    yield d
    d.close()


def child_env():
    """The environment a child python needs to import sombra as we do."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def fill(db, items, tree=None):
    """Commits items (a dict or pairs) in one write transaction."""
    with db.begin(write=True) as txn:
        for k, v in dict(items).items():
            txn.put(k, v, tree=tree)
