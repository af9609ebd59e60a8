"""Threads: readers see only committed states while writers commit.

A bank of accounts whose total never changes: two writer threads move
money in transactions (some aborted half way by an exception), two reader
threads check in every snapshot that the total holds and that a view and
a get agree. The writers also contend for the writer slot, which begin
waits for without the GIL (a GIL held there would deadlock this test).
"""

import random
import threading

import sombra

ACCOUNTS = 20
START = 1000
TRANSFERS = 150


def key(i):
    return b"acct:%03d" % i


def balance(b):
    return int(b.decode())


def writer(db, seed, errors):
    rng = random.Random(seed)
    try:
        for n in range(TRANSFERS):
            a, b = rng.sample(range(ACCOUNTS), 2)
            amount = rng.randint(1, 50)
            try:
                with db.begin(write=True) as txn:
                    txn.put(key(a), b"%d" % (balance(txn[key(a)]) - amount))
                    if n % 7 == 0:
                        raise KeyboardInterrupt  # aborts half way; caught below
                    txn.put(key(b), b"%d" % (balance(txn[key(b)]) + amount))
            except KeyboardInterrupt:
                pass
    except Exception as e:  # reported by the main thread
        errors.append(e)


def reader(db, stop, errors, checks):
    try:
        while not stop.is_set():
            with db.begin() as snap:
                total = sum(balance(v) for _, v in snap.items(prefix=b"acct:"))
                assert total == ACCOUNTS * START, total
                i = random.randrange(ACCOUNTS)
                assert bytes(snap.view(key(i))) == snap.get(key(i))
            checks.append(1)
    except Exception as e:
        errors.append(e)


def test_readers_see_only_committed_states(tmp_path):
    with sombra.open(tmp_path / "bank.db", durability="normal") as db:
        with db.begin(write=True) as txn:
            for i in range(ACCOUNTS):
                txn.put(key(i), b"%d" % START)
        stop, errors, checks = threading.Event(), [], []
        writers = [threading.Thread(target=writer, args=(db, s, errors)) for s in (1, 2)]
        readers = [threading.Thread(target=reader, args=(db, stop, errors, checks))
                   for _ in range(2)]
        for t in writers + readers:
            t.start()
        for t in writers:
            t.join(timeout=120)
            assert not t.is_alive(), "a writer hangs"
        stop.set()
        for t in readers:
            t.join(timeout=60)
        assert not errors, errors
        assert checks
        with db.begin() as snap:
            assert sum(balance(v) for v in snap.values()) == ACCOUNTS * START
        assert db.stats()["commits"] > TRANSFERS
