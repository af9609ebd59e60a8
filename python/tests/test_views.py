"""txn.view(): zero-copy reads and what happens after the transaction ends."""

import gc

import pytest

import sombra
from conftest import fill


def test_view_is_a_read_only_memoryview_of_the_value(db):
    fill(db, {b"k": b"value", b"e": b""})
    with db.begin() as txn:
        v = txn.view(b"k")
        assert isinstance(v, memoryview) and v.readonly
        assert v == b"value" and v.tobytes() == b"value" and len(v) == 5
        with pytest.raises(TypeError):
            v[0] = 1
        assert txn.view(b"e") == b""
        assert txn.view(b"absent") is None
        assert txn.view(b"absent", b"d") == b"d"
        assert txn.view(b"kz") is None  # Seek lands on a neighbour: absent
        with pytest.raises(sombra.InvalidArgument):
            txn.view(b"")


def test_view_is_released_when_the_transaction_ends(db):
    fill(db, {b"k": b"value"})
    with db.begin() as txn:
        v = txn.view(b"k")
    with pytest.raises(ValueError, match="released"):
        bytes(v)
    with pytest.raises(ValueError):
        v[0]


def test_a_derived_buffer_pins_the_snapshot_and_stays_correct(path):
    db = sombra.open(path)
    fill(db, {b"k": b"A" * 3000, b"s": b"small"})  # an overflow value and an inline one
    txn = db.begin()
    big = txn.view(b"k")[10:20]  # a slice outlives the view's release
    small = txn.view(b"s")[:]
    txn.abort()
    for i in range(200):  # rewrite the pages the snapshot read, checkpoint
        fill(db, {b"k": b"B" * 3000, b"s": b"other", b"n%d" % i: b"x" * 200})
    db.checkpoint()
    assert bytes(big) == b"A" * 10 and bytes(small) == b"small"
    db.close()  # closes once the slices are released
    assert bytes(big) == b"A" * 10
    with pytest.raises(sombra.Busy):
        sombra.open(path)
    del big, small
    gc.collect()
    sombra.open(path).close()


def test_view_exported_to_another_consumer_keeps_memory_valid(db):
    fill(db, {b"k": b"abcdef"})
    txn = db.begin()
    v = txn.view(b"k")
    inner = memoryview(v.obj)  # a second export of the same record
    txn.abort()
    assert bytes(inner) == b"abcdef"
    with pytest.raises(ValueError):
        bytes(v)
    inner.release()


def test_write_transaction_view_is_a_copy(db):
    fill(db, {b"k": b"old"})
    with db.begin(write=True) as txn:
        v = txn.view(b"k")
        txn.put(b"k", b"new")
        assert v == b"old" and txn.view(b"k") == b"new"
        assert txn.view(b"absent") is None
    assert v == b"old"  # a copy: valid after the transaction


def test_many_views_in_one_transaction(db):
    fill(db, {b"%04d" % i: b"v%d" % i for i in range(500)})
    with db.begin() as txn:
        views = [txn.view(b"%04d" % i) for i in range(500)]
        assert all(v == b"v%d" % i for i, v in enumerate(views))
        for _ in range(1000):
            txn.view(b"0001")  # dropped at once: nothing accumulates
    with pytest.raises(ValueError):
        bytes(views[0])


def test_a_view_exported_itself_cannot_be_released_and_stays_valid(path):
    import struct
    db = sombra.open(path)
    fill(db, {b"k": b"\x01\x02\x03"})
    txn = db.begin()
    v = txn.view(b"k")
    it = struct.iter_unpack("B", v)  # holds a buffer of v itself: v.release() fails
    txn.abort()
    assert bytes(v) == b"\x01\x02\x03"  # not released, still pinned and correct
    assert [x for (x,) in it] == [1, 2, 3]
    db.close()
    del it, v
    gc.collect()
    sombra.open(path).close()  # the pin is gone: the database closed
