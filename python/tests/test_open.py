"""sombra.open and its options, DB properties, close, destroy."""

import pathlib

import pytest

import sombra


def test_open_creates_and_context_manager_closes(path):
    with sombra.open(path) as db:
        assert not db.closed
        assert db.path == path
        assert db.page_size == 4096
        assert db.max_key_size == 1024
        assert repr(db) == f"<sombra.DB {path}>"
        db.put(b"k", b"v")
    assert db.closed
    assert repr(db) == "<sombra.DB (closed)>"
    with sombra.open(path) as db:
        assert db.get(b"k") == b"v"


def test_path_may_be_pathlike_or_bytes(tmp_path):
    with sombra.open(tmp_path / "a.db") as db:
        db.put(b"k", b"1")
    with sombra.open(bytes(tmp_path / "a.db")) as db:
        assert db.get(b"k") == b"1"
    with pytest.raises(TypeError):
        sombra.open(42)
    with sombra.open(bytes(tmp_path) + b"/b\xff.db") as db:  # not UTF-8
        assert db.path == str(tmp_path / "b\udcff.db")
        assert repr(db).endswith("b\\xff.db>")


def test_every_option_by_name(path):
    with sombra.open(
        path,
        create_if_missing=True,
        error_if_exists=False,
        read_only=False,
        page_size=8192,
        durability="normal",
        wal_checkpoint_bytes=1 << 20,
        wal_compression=False,
        verify_checksums=True,
        cache_bytes=0,
        busy_timeout_ms=0,
        salvage_wal=False,
    ) as db:
        assert db.page_size == 8192
        assert db.max_key_size == 2048
    # An existing database keeps its page size whatever the option says.
    with sombra.open(path, page_size=4096, durability=sombra.Durability.OFF) as db:
        assert db.page_size == 8192


@pytest.mark.parametrize("durability", ["full", "normal", "off", sombra.Durability.FULL,
                                        sombra.Durability.NORMAL, sombra.Durability.OFF])
def test_durability_values(path, durability):
    with sombra.open(path, durability=durability) as db:
        db.put(b"a", b"b")


def test_unknown_option_is_type_error(path):
    with pytest.raises(TypeError, match="unexpected keyword argument 'cache_size'"):
        sombra.open(path, cache_size=10)


@pytest.mark.parametrize("kwargs", [
    {"read_only": 1},
    {"page_size": "4096"},
    {"page_size": True},
    {"durability": 3},
    {"busy_timeout_ms": 1.5},
])
def test_option_of_wrong_type_is_type_error(path, kwargs):
    with pytest.raises(TypeError):
        sombra.open(path, **kwargs)


@pytest.mark.parametrize("kwargs", [
    {"page_size": 1000},
    {"page_size": -1},
    {"page_size": 1 << 40},
    {"durability": "fast"},
    {"wal_checkpoint_bytes": 1},
])
def test_option_out_of_range_is_invalid_argument(path, kwargs):
    with pytest.raises(sombra.InvalidArgument):
        sombra.open(path, **kwargs)
    with pytest.raises(ValueError):  # InvalidArgument is a ValueError too
        sombra.open(path, **kwargs)


def test_missing_database_without_create_is_not_found(path):
    with pytest.raises(sombra.NotFound, match="does not exist"):
        sombra.open(path, create_if_missing=False)
    with pytest.raises(sombra.NotFound):
        sombra.open(path, read_only=True)


def test_error_if_exists(path):
    sombra.open(path).close()
    with pytest.raises(sombra.InvalidArgument):
        sombra.open(path, error_if_exists=True)


def test_not_a_database(tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(b"x" * 10000)
    with pytest.raises(sombra.InvalidArgument, match="not a Sombra database"):
        sombra.open(junk)


def test_second_writer_is_busy(db, path):
    with pytest.raises(sombra.Busy, match="-lock"):
        sombra.open(path)
    with pytest.raises(sombra.Busy, match="waited"):
        sombra.open(path, busy_timeout_ms=30)


def test_io_error_carries_errno(tmp_path):
    with pytest.raises(sombra.IoError) as e:
        sombra.open(tmp_path / "missing-dir" / "db")
    assert isinstance(e.value, OSError)
    assert e.value.errno == 2


def test_read_only_beside_writer(db, path):
    db.put(b"k", b"v")
    with sombra.open(path, read_only=True) as ro:
        assert ro.get(b"k") == b"v"
        with pytest.raises(sombra.NotSupported):
            ro.begin(write=True)
        with pytest.raises(sombra.NotFound):
            ro.tree("absent")
        db.put(b"k", b"w")
        with ro.begin() as txn:
            assert txn[b"k"] == b"w"


def test_exception_hierarchy():
    for name in ["NotFound", "Corruption", "NotSupported", "InvalidArgument", "IoError",
                 "NoSpace", "Busy"]:
        assert issubclass(getattr(sombra, name), sombra.Error)
    assert issubclass(sombra.InvalidArgument, ValueError)
    assert issubclass(sombra.IoError, OSError)
    assert issubclass(sombra.NoSpace, sombra.IoError)
    assert sombra.Corruption.__module__ == "sombra"


def test_closed_database_refuses_calls(path):
    db = sombra.open(path)
    db.close()
    db.close()  # twice is fine
    for call in [lambda: db.begin(), lambda: db.get(b"k"), lambda: db.put(b"k", b"v"),
                 lambda: db.stats(), lambda: db.checkpoint(), lambda: db.page_size,
                 lambda: db.tree("t"), lambda: db.trees()]:
        with pytest.raises(sombra.InvalidArgument, match="closed"):
            call()


def test_close_ends_open_transactions(path):
    db = sombra.open(path)
    r = db.begin()
    w = db.begin(write=True)
    w.put(b"k", b"v")
    cur = r.cursor()
    it = r.items()
    db.close()
    assert r.ended and w.ended
    for call in [lambda: r.get(b"k"), lambda: w.put(b"a", b"b"), lambda: cur.first(),
                 lambda: next(it), lambda: w.commit()]:
        with pytest.raises(sombra.InvalidArgument, match="ended"):
            call()
    with sombra.open(path) as again:  # the lock was released; the write was aborted
        assert again.get(b"k") is None


def test_one_operation_calls(db):
    assert db.get(b"k") is None
    assert db.get(b"k", b"dflt") == b"dflt"
    db.put(b"k", b"v")
    assert db.get(b"k") == b"v"
    db.delete(b"k")
    db.delete(b"k")  # absent: fine
    assert db.get(b"k") is None


def test_destroy(path):
    sombra.open(path).close()
    sombra.destroy(path)
    assert not pathlib.Path(path).exists()
    with pytest.raises(sombra.NotFound):
        sombra.destroy(path)


def test_version_and_limits():
    assert sombra.__version__.count(".") == 2
    assert sombra.MAX_VALUE_SIZE == 2**32 - 1
