"""Named trees: db.tree/trees/drop_tree and the tree= argument."""

import pytest

import sombra
from conftest import fill


def test_trees_are_separate_key_spaces_committed_together(db):
    users = db.tree("users")
    by_email = db.tree(b"users.by_email")
    assert isinstance(users, sombra.Tree)
    assert users.name == "users" and by_email.name == "users.by_email"
    assert repr(users) == "<sombra.Tree 'users'>"
    with db.begin(write=True) as txn:
        txn.put(b"u1", b"Ada", tree=users)
        txn.put(b"ada@example.org", b"u1", tree=by_email)
        txn.put(b"schema", b"2")
    with db.begin() as txn:
        assert txn.get(b"u1", tree=users) == b"Ada"
        assert txn.get(b"u1") is None
        assert list(txn.items(tree=by_email)) == [(b"ada@example.org", b"u1")]
        assert list(txn.keys()) == [b"schema"]
        cur = txn.cursor(tree=users)
        assert cur.first() and cur.key() == b"u1"
        assert bytes(txn.view(b"u1", tree=users)) == b"Ada"
    assert db.trees() == ["users", "users.by_email"]


def test_every_write_call_takes_tree(db):
    t = db.tree("t")
    with db.begin(write=True) as txn:
        for i in range(10):
            txn.append(b"%02d" % i, b"v", tree=t)
        txn.delete(b"00", tree=t)
        txn.delete_range(b"02", b"05", tree=t)
        txn.put(b"99", b"w", tree=t)
        assert list(txn.keys(tree=t)) == [b"01", b"05", b"06", b"07", b"08", b"09", b"99"]
        assert list(txn) == []


def test_same_name_reopens_the_same_tree(db):
    fill(db, {b"k": b"v"}, tree=db.tree("a"))
    with db.begin() as txn:
        assert txn.get(b"k", tree=db.tree("a")) == b"v"


def test_non_utf8_names_round_trip(db):
    t = db.tree(b"\xff\xfe")
    assert db.trees() == ["\udcff\udcfe"]
    assert t.name == "\udcff\udcfe"
    fill(db, {b"k": b"v"}, tree=db.tree("\udcff\udcfe"))
    db.drop_tree(db.trees()[0])
    assert db.trees() == []


def test_drop_tree(db):
    t = db.tree("t")
    fill(db, {b"k%d" % i: b"v" * 100 for i in range(500)}, tree=t)
    before = db.stats()["freelist_pages"]
    db.drop_tree("t")
    assert db.stats()["freelist_pages"] > before
    assert db.trees() == []
    with db.begin(write=True) as txn:
        with pytest.raises(sombra.InvalidArgument):
            txn.get(b"k1", tree=t)  # a dropped handle
        with pytest.raises(sombra.InvalidArgument):
            txn.put(b"k1", b"v", tree=t)
        txn.put(b"k", b"v")  # the transaction goes on
    t2 = db.tree("t")
    fill(db, {b"x": b"y"}, tree=t2)
    db.drop_tree(t2)  # a Tree works too
    db.verify()


def test_tree_errors(db, tmp_path):
    with pytest.raises(sombra.NotFound):
        db.drop_tree("absent")
    with pytest.raises(sombra.NotFound, match=r"\\xff"):  # not UTF-8: escaped in the message
        db.drop_tree(b"\xff")
    with pytest.raises(sombra.InvalidArgument):
        db.drop_tree("")
    with pytest.raises(sombra.InvalidArgument):
        db.tree("")
    with pytest.raises(sombra.InvalidArgument):
        db.tree("n" * 256)
    with pytest.raises(TypeError):
        db.tree(5)
    with db.begin() as txn:
        with pytest.raises(TypeError, match="sombra.Tree"):
            txn.get(b"k", tree="users")
    with db.begin(write=True) as txn:  # creating needs the writer this thread holds
        with pytest.raises(sombra.Busy):
            db.tree("new")
        with pytest.raises(sombra.Busy):
            db.drop_tree("whatever")
    with sombra.open(tmp_path / "other.db") as other:
        foreign = other.tree("f")
        with db.begin() as txn:
            with pytest.raises(sombra.InvalidArgument, match="another database"):
                txn.get(b"k", tree=foreign)
        with pytest.raises(sombra.InvalidArgument, match="another database"):
            db.drop_tree(foreign)
    with db.begin() as txn:
        with pytest.raises(sombra.InvalidArgument, match="closed database"):
            txn.get(b"k", tree=foreign)
    assert repr(foreign) == "<sombra.Tree of a closed database>"
    with pytest.raises(sombra.InvalidArgument):
        foreign.name


def test_a_tree_handle_does_not_keep_its_database_open(path):
    db = sombra.open(path)
    t = db.tree("t")
    db.close()
    sombra.open(path).close()  # not Busy
    assert t is not None
