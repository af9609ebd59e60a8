"""Transactions: every reading and writing call, their arguments and errors."""

import array
import gc

import pytest

import sombra
from conftest import fill


def test_write_commits_on_success_and_aborts_on_exception(db):
    with db.begin(write=True) as txn:
        txn.put(b"a", b"1")
        assert isinstance(txn, sombra.WriteTxn) and isinstance(txn, sombra.Txn)
    with pytest.raises(RuntimeError):
        with db.begin(write=True) as txn:
            txn.put(b"b", b"2")
            raise RuntimeError("boom")
    assert txn.ended
    with db.begin() as r:
        assert isinstance(r, sombra.ReadTxn)
        assert dict(r) == {b"a": b"1"}
    assert r.ended


def test_explicit_commit_and_abort_inside_with(db):
    with db.begin(write=True) as txn:
        txn.put(b"a", b"1")
        txn.commit()
    assert txn.ended
    with pytest.raises(sombra.InvalidArgument, match="ended"):
        txn.commit()
    txn.abort()  # abort of an ended transaction is a no-op
    with db.begin(write=True) as txn:
        txn.put(b"b", b"2")
        txn.abort()
    assert db.get(b"a") == b"1" and db.get(b"b") is None
    assert "(ended)" in repr(txn)


def test_get_getitem_contains(db):
    fill(db, {b"k": b"v", b"empty": b""})
    with db.begin() as txn:
        assert txn.get(b"k") == b"v"
        assert txn.get(b"empty") == b""
        assert txn.get(b"x") is None
        assert txn.get(b"x", b"d") == b"d"
        assert txn.get(key=b"x", default=7) == 7
        assert txn[b"k"] == b"v"
        with pytest.raises(KeyError) as e:
            txn[b"x"]
        assert e.value.args == (b"x",)
        assert b"k" in txn and b"x" not in txn
        assert type(txn.get(b"k")) is bytes


def test_bytes_like_in_bytes_out(db):
    with db.begin(write=True) as txn:
        txn.put(bytearray(b"a"), memoryview(b"1"))
        txn.put(memoryview(b"xbx")[1:2], array.array("B", [50]))
    with db.begin() as txn:
        assert txn[memoryview(b"a")] == b"1"
        assert txn[bytearray(b"b")] == b"2"


@pytest.mark.parametrize("bad", ["a", 1, None, 1.5, [b"a"]])
def test_non_bytes_is_type_error(db, bad):
    with db.begin(write=True) as txn:
        with pytest.raises(TypeError):
            txn.put(bad, b"v")
        with pytest.raises(TypeError):
            txn.put(b"k", bad)
        with pytest.raises(TypeError):
            txn.get(bad)
        with pytest.raises(TypeError):
            txn[bad]
        with pytest.raises(TypeError):
            bad in txn
        with pytest.raises(TypeError):
            txn.delete(bad)
        txn.put(b"still", b"usable")
    assert db.get(b"still") == b"usable"


def test_str_message_says_encode(db):
    with db.begin() as txn:
        with pytest.raises(TypeError, match=r"not str: encode it"):
            txn.get("key")


def test_non_contiguous_buffer_is_type_error(db):
    with db.begin() as txn:
        with pytest.raises(TypeError, match="C-contiguous"):
            txn.get(memoryview(b"abcd")[::2])


def test_key_limits_are_invalid_argument(db):
    with db.begin(write=True) as txn:
        with pytest.raises(sombra.InvalidArgument, match="key of 0 bytes"):
            txn.put(b"", b"v")
        with pytest.raises(sombra.InvalidArgument, match="key of 1025 bytes is over"):
            txn.put(b"k" * 1025, b"v")
        with pytest.raises(sombra.InvalidArgument):
            txn.get(b"")
        txn.put(b"k" * 1024, b"v")  # the transaction goes on
    with db.begin() as txn:
        with pytest.raises(ValueError):
            txn.get(b"")
        assert txn.get(b"k" * 1024) == b"v"


def test_large_values_use_overflow_pages(db):
    big = bytes(range(256)) * 400
    fill(db, {b"big": big, b"small": b"s"})
    with db.begin() as txn:
        assert txn[b"big"] == big
        assert bytes(txn.view(b"big")) == big
    db.verify()


def test_argument_errors_of_the_fast_calls(db):
    with db.begin(write=True) as txn:
        with pytest.raises(TypeError, match="missing required argument 'key'"):
            txn.get()
        with pytest.raises(TypeError, match="at most 2 positional"):
            txn.get(b"k", None, None)
        with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
            txn.get(b"k", bogus=1)
        with pytest.raises(TypeError, match="multiple values"):
            txn.get(b"k", key=b"k")
        with pytest.raises(TypeError, match="missing required argument 'value'"):
            txn.put(b"k")
        txn.put(key=b"k", value=b"v")
        assert txn.get(b"k") == b"v"


def test_delete_and_delete_range(db):
    fill(db, {bytes([c]): b"v" for c in b"abcdefgh"})
    with db.begin(write=True) as txn:
        txn.delete(b"a")
        txn.delete(b"zz")  # absent: fine
        txn.delete_range(b"c", b"f")
        txn.delete_range(b"g", b"g")  # empty range
        with pytest.raises(sombra.InvalidArgument):
            txn.delete_range(b"h", b"b")
        assert list(txn.keys()) == [b"b", b"f", b"g", b"h"]
    with db.begin() as txn:
        assert list(txn.keys()) == [b"b", b"f", b"g", b"h"]


def test_append(db):
    with db.begin(write=True) as txn:
        for i in range(2000):
            txn.append(b"%08d" % i, b"v%d" % i)
        with pytest.raises(sombra.InvalidArgument, match="does not sort after"):
            txn.append(b"00000005", b"x")
        txn.put(b"zzz", b"last")  # the transaction goes on
    with db.begin() as txn:
        assert txn[b"00001999"] == b"v1999"
        assert sum(1 for _ in txn) == 2001
    db.verify()


def test_write_txn_sees_its_own_writes_and_snapshots_do_not(db):
    fill(db, {b"a": b"1"})
    snap = db.begin()
    with db.begin(write=True) as txn:
        txn.put(b"a", b"2")
        txn.put(b"b", b"3")
        assert txn[b"a"] == b"2"
        assert dict(txn) == {b"a": b"2", b"b": b"3"}
        assert snap[b"a"] == b"1"
    assert snap[b"a"] == b"1" and b"b" not in snap
    assert db.begin().sequence > snap.sequence
    snap.abort()


def test_same_thread_second_writer_is_busy_not_a_deadlock(db):
    with db.begin(write=True) as txn:
        with pytest.raises(sombra.Busy, match="this thread holds"):
            db.begin(write=True)
        with pytest.raises(sombra.Busy):
            db.put(b"k", b"v")
        with pytest.raises(sombra.Busy):
            db.delete(b"k")
        txn.put(b"k", b"w")
    db.put(b"k", b"v")  # the writer slot is free again
    assert db.get(b"k") == b"v"


def test_garbage_collected_write_txn_aborts(db):
    txn = db.begin(write=True)
    txn.put(b"k", b"v")
    del txn
    gc.collect()
    with db.begin(write=True) as txn:
        assert b"k" not in txn


def test_ended_transaction_refuses_every_call(db):
    fill(db, {b"a": b"1"})
    for write in (False, True):
        txn = db.begin(write=write)
        txn.abort()
        calls = [lambda: txn.get(b"a"), lambda: txn[b"a"], lambda: b"a" in txn,
                 lambda: txn.view(b"a"), lambda: txn.cursor(), lambda: txn.items(),
                 lambda: iter(txn)]
        if write:
            calls += [lambda: txn.put(b"a", b"2"), lambda: txn.delete(b"a"),
                      lambda: txn.append(b"b", b"2"), lambda: txn.delete_range(b"a", b"b")]
        else:
            calls += [lambda: txn.sequence]
        for call in calls:
            with pytest.raises(sombra.InvalidArgument, match="has ended"):
                call()


def test_transactions_cannot_be_made_directly():
    with pytest.raises(TypeError):
        sombra.ReadTxn()
    with pytest.raises(TypeError):
        sombra.Cursor()
