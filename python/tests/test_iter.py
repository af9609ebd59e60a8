"""Iteration (txn.items/keys/values, for k, v in txn) and cursors."""

import pytest

import sombra
from conftest import fill

KEYS = [b"a", b"ab", b"abc", b"abd", b"b", b"b\xff", b"b\xff\xff", b"c", b"\xff", b"\xff\x01"]


@pytest.fixture
def full(db):
    fill(db, {k: k.upper() for k in KEYS})
    return db


def ranged(keys, prefix=None, start=None, stop=None, reverse=False):
    out = [k for k in sorted(keys)
           if (prefix is None or k.startswith(prefix))
           and (start is None or k >= start) and (stop is None or k < stop)]
    return out[::-1] if reverse else out


@pytest.mark.parametrize("write", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("prefix,start,stop", [
    (None, None, None), (b"a", None, None), (b"ab", None, None), (b"b\xff", None, None),
    (b"\xff", None, None), (b"zz", None, None), (b"", None, None),
    (None, b"abc", None), (None, None, b"b"), (None, b"ab", b"b\xff"), (b"a", b"abc", b"b"),
    (None, b"x", b"a"),
])
def test_ranges(full, write, reverse, prefix, start, stop):
    want = ranged(KEYS, prefix, start, stop, reverse)
    with full.begin(write=write) as txn:
        kw = dict(prefix=prefix, start=start, stop=stop, reverse=reverse)
        assert list(txn.keys(**kw)) == want
        assert list(txn.values(**kw)) == [k.upper() for k in want]
        assert list(txn.items(**kw)) == [(k, k.upper()) for k in want]
        cur = txn.cursor()
        assert list(cur.keys(**kw)) == want


def test_for_k_v_in_txn(full):
    with full.begin() as txn:
        assert [k for k, v in txn] == sorted(KEYS)
        it = iter(txn)
        assert iter(it) is it
        list(it)
        with pytest.raises(StopIteration):
            next(it)


def test_empty_database_iterates_nothing(db):
    with db.begin() as txn:
        assert list(txn) == [] and list(txn.items(reverse=True)) == []
        cur = txn.cursor()
        assert not cur.first() and not cur.last() and not cur.seek(b"a")
        assert cur.key() is None and cur.value() is None and cur.item() is None


def test_cursor_moves(full):
    with full.begin() as txn:
        cur = txn.cursor()
        assert not cur.valid and cur.key() is None
        assert not cur.next() and not cur.prev()  # unpositioned: stays invalid
        assert cur.first() and cur.key() == b"a" and cur.value() == b"A"
        assert cur.next() and cur.item() == (b"ab", b"AB")
        assert cur.prev() and cur.key() == b"a"
        assert not cur.prev() and not cur.valid
        assert cur.last() and cur.key() == b"\xff\x01"
        assert not cur.next()
        assert cur.seek(b"abz") and cur.key() == b"b"
        assert cur.seek(b"") and cur.key() == b"a"  # any bytes are a position
        assert not cur.seek(b"\xff\x02")
        assert cur.seek(b"x" * 5000)  # longer than a key may be: still a position


def test_cursor_iterates_from_where_it_is(full):
    with full.begin() as txn:
        cur = txn.cursor()
        assert list(cur)[:2] == [(b"a", b"A"), (b"ab", b"AB")]  # never positioned: first
        assert not cur.valid
        cur.seek(b"c")
        assert [k for k, _ in cur] == [b"c", b"\xff", b"\xff\x01"]
        cur.last()
        cur.next()
        assert list(cur) == []  # positioned past the end


def test_write_cursor_continues_after_changes(db):
    fill(db, {b"a": b"1", b"c": b"3", b"e": b"5"})
    with db.begin(write=True) as txn:
        cur = txn.cursor()
        assert cur.first() and cur.key() == b"a"
        txn.put(b"b", b"2")
        assert cur.next() and cur.key() == b"b"
        txn.delete(b"c")
        assert cur.next() and cur.key() == b"e"
        seen = []
        for k, _ in txn:  # iterating while writing
            seen.append(k)
            if not k.endswith(b"!"):
                txn.put(k + b"!", b"x")
        assert seen == [b"a", b"a!", b"b", b"b!", b"e", b"e!"]


def test_cursor_and_iterator_end_with_the_transaction(full):
    txn = full.begin()
    cur = txn.cursor()
    cur.first()
    it = txn.items()
    next(it)
    txn.abort()
    for call in [cur.first, cur.next, cur.key, lambda: cur.valid, lambda: next(it),
                 lambda: cur.items(), lambda: iter(cur)]:
        with pytest.raises(sombra.InvalidArgument, match="has ended"):
            call()


def test_range_arguments_are_bytes(full):
    with full.begin() as txn:
        with pytest.raises(TypeError):
            txn.items(prefix="a")
        with pytest.raises(TypeError):
            txn.keys(start=1)
        with pytest.raises(TypeError):
            txn.cursor().seek("a")
