"""Sombra, an embeddable durable ordered key-value index, from Python.

A thin package over the native module ``sombra._sombra`` (pybind11 over the
C++ API; docs/python.md)::

    import sombra

    with sombra.open("/tmp/app.db") as db:
        with db.begin(write=True) as txn:      # commits, or aborts on an exception
            txn.put(b"apple", b"red")
        with db.begin() as txn:                # a snapshot
            print(txn[b"apple"])               # b'red'
"""

# The native module may live in another directory named sombra/ on sys.path
# (a CMake build tree: build/.../python/sombra/_sombra*.so) beside this
# source package.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)

from ._sombra import (  # noqa: E402
    DB,
    Busy,
    Corruption,
    Cursor,
    Durability,
    Error,
    InvalidArgument,
    IoError,
    Iterator,
    MAX_VALUE_SIZE,
    NoSpace,
    NotFound,
    NotSupported,
    ReadTxn,
    Tree,
    Txn,
    WriteTxn,
    __version__,
    destroy,
    open,
)

__all__ = [
    "Busy",
    "Corruption",
    "Cursor",
    "DB",
    "Durability",
    "Error",
    "InvalidArgument",
    "IoError",
    "Iterator",
    "MAX_VALUE_SIZE",
    "NoSpace",
    "NotFound",
    "NotSupported",
    "ReadTxn",
    "Tree",
    "Txn",
    "WriteTxn",
    "destroy",
    "open",
]
