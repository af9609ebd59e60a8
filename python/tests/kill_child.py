"""Child of test_model.py's kill rule (not a test).

    python3 kill_child.py DB OPS_JSON

OPS_JSON is {"committed": [...], "pending": [...]}, each a list of
["put", key_hex, value_hex] | ["delete", key_hex] | ["delete_range", a_hex, b_hex].
Commits the first list in one write transaction, applies the second in
another without committing, prints "pending" and waits to be SIGKILLed.
"""

import json
import sys
import time

import sombra


def apply(txn, ops):
    for op in ops:
        args = [bytes.fromhex(a) for a in op[1:]]
        getattr(txn, op[0])(*args)


def main():
    path, ops = sys.argv[1], json.loads(sys.argv[2])
    db = sombra.open(path)
    with db.begin(write=True) as txn:
        apply(txn, ops["committed"])
    txn = db.begin(write=True)
    apply(txn, ops["pending"])
    print("pending", flush=True)
    time.sleep(60)


if __name__ == "__main__":
    main()
