import sys, sombra
with sombra.open(sys.argv[1] if len(sys.argv) > 1 else "/tmp/hello.db") as db:
    with db.begin(write=True) as txn:             # commits, or aborts on an exception
        txn.put(b"apple", b"red")
        txn.put(b"banana", b"yellow")
    with db.begin() as txn:                       # a snapshot
        print(txn[b"apple"], txn.get(b"kiwi"))    # b'red' None
        print(list(txn.items(prefix=b"b")))       # [(b'banana', b'yellow')]
