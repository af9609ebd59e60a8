"""A hypothesis state machine against a dict model, with reopen and SIGKILL.

Rules put/delete/delete_range act on an open write transaction (begun when
needed) and on a pending copy of the model; commit makes the pending copy
the model, abort drops it; reopen closes (aborting) and opens again; kill
closes, runs kill_child.py (one committed transaction, then one left
uncommitted), SIGKILLs it and reopens. After every step the committed
database equals the model exactly, and the open write transaction sees the
pending copy. Bounded and derandomized: the same examples on every run.
"""

import json
import os
import signal
import subprocess
import sys

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (RuleBasedStateMachine, invariant, precondition, rule,
                                 run_state_machine_as_test)

import sombra
from conftest import HERE, child_env

KEYS = st.binary(min_size=1, max_size=2)
# Mostly small values, some past page_size / 4 + 64 (overflow pages).
VALUES = st.one_of(st.binary(max_size=16),
                   st.builds(lambda n, b: bytes([b]) * n, st.integers(1000, 5000),
                             st.integers(0, 255)))
OPS = st.lists(st.one_of(st.tuples(st.just("put"), KEYS, VALUES),
                         st.tuples(st.just("delete"), KEYS)), max_size=5)

MAX_KILLS = 1  # per example: each costs a python start-up (~0.3 s)


def apply_to_model(model, op):
    if op[0] == "put":
        model[op[1]] = op[2]
    elif op[0] == "delete":
        model.pop(op[1], None)
    else:
        for k in [k for k in model if op[1] <= k < op[2]]:
            del model[k]


class SombraMachine(RuleBasedStateMachine):
    directory = None  # set per test run
    runs = 0

    def __init__(self):
        super().__init__()
        SombraMachine.runs += 1
        self.path = os.path.join(self.directory, "m%d.db" % SombraMachine.runs)
        self.db = sombra.open(self.path)
        self.model = {}
        self.pending = None
        self.txn = None
        self.kills = 0

    def writer(self):
        if self.txn is None:
            self.txn = self.db.begin(write=True)
            self.pending = dict(self.model)
        return self.txn

    @rule(key=KEYS, value=VALUES)
    def put(self, key, value):
        self.writer().put(key, value)
        apply_to_model(self.pending, ("put", key, value))

    @rule(key=KEYS)
    def delete(self, key):
        self.writer().delete(key)
        apply_to_model(self.pending, ("delete", key))

    @rule(a=KEYS, b=KEYS)
    def delete_range(self, a, b):
        a, b = min(a, b), max(a, b)
        self.writer().delete_range(a, b)
        apply_to_model(self.pending, ("delete_range", a, b))

    @rule()
    def commit(self):
        if self.txn is not None:
            self.txn.commit()
            self.model, self.txn, self.pending = self.pending, None, None

    @rule()
    def abort(self):
        if self.txn is not None:
            self.txn.abort()
            self.txn, self.pending = None, None

    def close(self):
        self.db.close()  # aborts the open write transaction
        self.txn, self.pending = None, None

    @rule()
    def reopen(self):
        self.close()
        self.db = sombra.open(self.path)

    @precondition(lambda self: self.kills < MAX_KILLS)
    @rule(committed=OPS, pending=OPS)
    def kill(self, committed, pending):
        self.kills += 1
        self.close()
        enc = lambda ops: [[op[0]] + [a.hex() for a in op[1:]] for op in ops]  # noqa: E731
        arg = json.dumps({"committed": enc(committed), "pending": enc(pending)})
        child = subprocess.Popen([sys.executable, os.path.join(HERE, "kill_child.py"),
                                  self.path, arg], stdout=subprocess.PIPE, env=child_env())
        try:
            line = child.stdout.readline()
            assert line == b"pending\n", line
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
            child.stdout.close()
        for op in committed:
            apply_to_model(self.model, op)
        self.db = sombra.open(self.path)

    @invariant()
    def database_equals_model(self):
        with self.db.begin() as snap:
            assert dict(snap.items()) == self.model
            assert list(snap.keys(reverse=True)) == sorted(self.model, reverse=True)
        if self.txn is not None:
            assert dict(self.txn) == self.pending

    def teardown(self):
        self.db.verify()
        self.db.close()
        sombra.destroy(self.path)


def test_sombra_matches_a_dict_model(tmp_path):
    SombraMachine.directory = str(tmp_path)
    run_state_machine_as_test(
        SombraMachine,
        settings=settings(max_examples=40, stateful_step_count=40, derandomize=True,
                          deadline=None, database=None,
                          suppress_health_check=list(HealthCheck)))
