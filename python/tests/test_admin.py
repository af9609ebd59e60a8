"""checkpoint, verify (and Corruption), backup, compact, stats, page_size."""

import os

import pytest

import sombra
from conftest import fill


def test_checkpoint_and_stats(db):
    fill(db, {b"k%d" % i: b"v" for i in range(100)})
    s = db.stats()
    assert isinstance(s, dict)
    assert s["commits"] == 1 and s["page_size"] == 4096 and s["sequence"] >= 1
    assert isinstance(s["commits_per_fsync"], float)
    assert "wal_commit_fsyncs" in s  # every counter of Stats::all by name
    db.checkpoint()
    assert db.stats()["checkpoints"] >= 1


def test_verify_ok_and_corruption(path):
    with sombra.open(path) as db:
        fill(db, {b"k%04d" % i: b"v" * 50 for i in range(2000)})
        db.verify()
    with open(path, "r+b") as f:  # damage page 3 (a tree page) in the middle
        f.seek(3 * 4096 + 2000)
        f.write(b"\xde\xad\xbe\xef" * 16)
    with pytest.raises(sombra.Corruption, match="page"):
        with sombra.open(path) as db:
            db.verify()


def test_compact(path):
    with sombra.open(path) as db:
        low = db.tree("low")
        fill(db, {b"k%06d" % i: b"x" * 200 for i in range(3000)}, tree=low)
        fill(db, {b"a": b"1", b"b": b"2"})
        db.drop_tree("low")
        report = db.compact()
        assert set(report) == {"steps", "pages_moved", "pages_rewritten", "pages_given_back",
                               "file_bytes_before", "file_bytes_after", "seconds"}
        assert report["pages_given_back"] > 0
        assert report["file_bytes_after"] < report["file_bytes_before"]
        assert report["file_bytes_after"] == os.path.getsize(path)
        db.verify()
        with db.begin() as txn:
            assert list(txn) == [(b"a", b"1"), (b"b", b"2")]
        with db.begin(write=True):
            with pytest.raises(sombra.Busy):
                db.compact()  # would wait for this thread's own write transaction
    with sombra.open(path, read_only=True) as db:
        with pytest.raises(sombra.NotSupported):
            db.compact()


def test_backup(db, tmp_path):
    fill(db, {b"k%d" % i: b"v%d" % i for i in range(1000)})
    dest = tmp_path / "copy.db"
    report = db.backup(dest)
    assert set(report) == {"pages", "bytes", "sequence", "seconds"}
    assert report["bytes"] == os.path.getsize(dest)
    with sombra.open(dest, read_only=True) as copy:
        with copy.begin() as txn, db.begin() as src:
            assert list(txn) == list(src)
        copy.verify()
    with pytest.raises(sombra.InvalidArgument, match="exists"):
        db.backup(dest)
