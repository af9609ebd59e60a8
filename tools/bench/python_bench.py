#!/usr/bin/env python3
"""The sombra Python package against py-lmdb, plyvel (LevelDB) and sqlite3.

    PYTHONPATH=build/release/python:python python3 tools/bench/python_bench.py [--n 200000]

Workloads, each engine on a fresh database per run, median of --repeat runs:
  seq-insert    N keys in key order, --batch keys per durable transaction
  random-insert the same keys shuffled, same batches
  point-read    N gets of present keys in random order, one read transaction
  scan          every (key, value) in key order
Keys are 16 bytes (a big-endian 8-byte counter, then 8 bytes mixed from it),
values 100 bytes. Durability is full for every engine: sombra's default
(fdatasync per commit), lmdb sync=True (its default), plyvel
WriteBatch(sync=True), sqlite3 journal_mode=WAL with synchronous=FULL.

Then the binding's own cost: ns per txn.get of one present key in a loop
(the same key: the engine's work is cached), sombra against py-lmdb.

Prints one Markdown table of ops/s with sombra / peer ratios (docs/python.md).
"""

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

import sombra

try:
    import lmdb
except ImportError:  # python3-lmdb
    lmdb = None
try:
    import plyvel
except ImportError:  # python3-plyvel
    plyvel = None

VALUE = bytes(range(100))
MASK = (1 << 64) - 1


def mix(i):
    """splitmix64: 8 bytes that vary in every bit with i."""
    z = (i + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def make_keys(n):
    return [i.to_bytes(8, "big") + mix(i).to_bytes(8, "big") for i in range(n)]


def batches(keys, size):
    for i in range(0, len(keys), size):
        yield keys[i:i + size]


class Sombra:
    name = "sombra"

    def __init__(self, path):
        self.db = sombra.open(os.path.join(path, "db"))

    def insert(self, keys, batch):
        for chunk in batches(keys, batch):
            with self.db.begin(write=True) as txn:
                put = txn.put
                for k in chunk:
                    put(k, VALUE)

    def read(self, keys):
        with self.db.begin() as txn:
            get = txn.get
            for k in keys:
                get(k)

    def scan(self):
        n = 0
        with self.db.begin() as txn:
            for _ in txn:
                n += 1
        return n

    def get_loop(self, key, n):
        with self.db.begin() as txn:
            get = txn.get
            t0 = time.perf_counter()
            for _ in range(n):
                get(key)
            return time.perf_counter() - t0

    def close(self):
        self.db.close()


class Lmdb:
    name = "py-lmdb"

    def __init__(self, path):
        self.env = lmdb.open(os.path.join(path, "db"), map_size=8 << 30, sync=True)

    def insert(self, keys, batch):
        for chunk in batches(keys, batch):
            with self.env.begin(write=True) as txn:
                put = txn.put
                for k in chunk:
                    put(k, VALUE)

    def read(self, keys):
        with self.env.begin() as txn:
            get = txn.get
            for k in keys:
                get(k)

    def scan(self):
        n = 0
        with self.env.begin() as txn:
            for _ in txn.cursor():
                n += 1
        return n

    def get_loop(self, key, n):
        with self.env.begin() as txn:
            get = txn.get
            t0 = time.perf_counter()
            for _ in range(n):
                get(key)
            return time.perf_counter() - t0

    def close(self):
        self.env.close()


class Plyvel:
    name = "plyvel"

    def __init__(self, path):
        self.db = plyvel.DB(os.path.join(path, "db"), create_if_missing=True)

    def insert(self, keys, batch):
        for chunk in batches(keys, batch):
            with self.db.write_batch(sync=True) as wb:
                put = wb.put
                for k in chunk:
                    put(k, VALUE)

    def read(self, keys):
        snap = self.db.snapshot()
        get = snap.get
        for k in keys:
            get(k)
        snap.close()

    def scan(self):
        n = 0
        for _ in self.db.iterator():
            n += 1
        return n

    def close(self):
        self.db.close()


class Sqlite:
    name = "sqlite3"

    def __init__(self, path):
        self.conn = sqlite3.connect(os.path.join(path, "db"), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID")

    def insert(self, keys, batch):
        for chunk in batches(keys, batch):
            self.conn.execute("BEGIN")
            self.conn.executemany("INSERT OR REPLACE INTO kv VALUES (?, ?)",
                                  [(k, VALUE) for k in chunk])
            self.conn.execute("COMMIT")

    def read(self, keys):
        cur = self.conn.cursor()
        self.conn.execute("BEGIN")
        for k in keys:
            cur.execute("SELECT v FROM kv WHERE k = ?", (k,)).fetchone()
        self.conn.execute("COMMIT")

    def scan(self):
        n = 0
        for _ in self.conn.execute("SELECT k, v FROM kv ORDER BY k"):
            n += 1
        return n

    def close(self):
        self.conn.close()


def run_once(engine_cls, keys, shuffled, batch, root):
    """One fresh run of every workload: {workload: ops/s}."""
    out = {}
    for workload, order in (("seq-insert", keys), ("random-insert", shuffled)):
        d = tempfile.mkdtemp(dir=root)
        e = engine_cls(d)
        t0 = time.perf_counter()
        e.insert(order, batch)
        out[workload] = len(order) / (time.perf_counter() - t0)
        if workload == "random-insert":
            t0 = time.perf_counter()
            e.read(shuffled)
            out["point-read"] = len(shuffled) / (time.perf_counter() - t0)
            t0 = time.perf_counter()
            n = e.scan()
            out["scan"] = n / (time.perf_counter() - t0)
            assert n == len(keys), (engine_cls.name, n)
        e.close()
        shutil.rmtree(d)
    return out


def per_call_ns(engine_cls, root, calls):
    d = tempfile.mkdtemp(dir=root)
    e = engine_cls(d)
    keys = make_keys(1000)
    e.insert(keys, 1000)
    best = min(e.get_loop(keys[500], calls) for _ in range(3))
    e.close()
    shutil.rmtree(d)
    return best / calls * 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--calls", type=int, default=1_000_000, help="gets for the per-call cost")
    ap.add_argument("--dir", default=None, help="where databases go (default: a temp dir)")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("SOMBRA_SEED", "1")))
    args = ap.parse_args()

    print(f"seed {args.seed} (SOMBRA_SEED), n {args.n}, batch {args.batch}, "
          f"median of {args.repeat}", file=sys.stderr)
    keys = make_keys(args.n)
    shuffled = list(keys)
    random.Random(args.seed).shuffle(shuffled)
    engines = [Sombra] + [c for c, mod in ((Lmdb, lmdb), (Plyvel, plyvel), (Sqlite, sqlite3))
                          if mod is not None]
    root = tempfile.mkdtemp(prefix="python-bench-", dir=args.dir)
    results = {}
    try:
        for engine in engines:
            runs = [run_once(engine, keys, shuffled, args.batch, root) for _ in range(args.repeat)]
            results[engine.name] = {w: statistics.median(r[w] for r in runs) for w in runs[0]}
            print(f"{engine.name}: " + ", ".join(f"{w} {v:,.0f}/s"
                                                  for w, v in results[engine.name].items()),
                  file=sys.stderr)
        ns = {e.name: per_call_ns(e, root, args.calls) for e in (Sombra, Lmdb)
              if e is Sombra or lmdb is not None}
    finally:
        shutil.rmtree(root, ignore_errors=True)

    peers = [e.name for e in engines[1:]]
    print("| workload (ops/s) | " + " | ".join(e.name for e in engines) + " | " +
          " | ".join(f"sombra / {p}" for p in peers) + " |")
    print("|---" * (1 + len(engines) + len(peers)) + "|")
    for w in results["sombra"]:
        row = [f"{results[e.name][w]:,.0f}" for e in engines]
        ratios = [f"{results['sombra'][w] / results[p][w]:.2f}x" for p in peers]
        print(f"| {w} | " + " | ".join(row + ratios) + " |")
    print()
    print("| per call | " + " | ".join(ns) + " |")
    print("|---" * (1 + len(ns)) + "|")
    print("| txn.get, one present key, ns | " + " | ".join(f"{v:.0f}" for v in ns.values()) + " |")


if __name__ == "__main__":
    main()
