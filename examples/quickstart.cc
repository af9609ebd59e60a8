// examples/quickstart.cc: open a database, write in a transaction, read
// with a snapshot and a cursor.
//
//   quickstart [PATH]      (default /tmp/sombra-quickstart.db)
//
// Built with the project (target `quickstart`) and run by the test suite.
#include <sombra/db.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

// Prints the failure and exits: every Sombra call returns a Status.
void Check(const sombra::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "quickstart: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "/tmp/sombra-quickstart.db";

  // 1. Open (created when missing). durability=kFull: a Commit that
  //    returned OK survives a crash or a power loss.
  sombra::Options options;
  options.durability = sombra::Durability::kFull;
  std::unique_ptr<sombra::DB> db;
  (void)sombra::DestroyDB(path);  // start from an empty database every run
  Check(sombra::DB::Open(options, path, &db), "open");

  // 2. Write several keys atomically: all of them or none after a crash.
  std::unique_ptr<sombra::WriteTxn> txn;
  Check(db->BeginWrite(&txn), "begin write");
  Check(txn->Put("apple", "red"), "put");
  Check(txn->Put("banana", "yellow"), "put");
  Check(txn->Put("cherry", "dark red"), "put");
  Check(txn->Delete("durian"), "delete");  // absent: still OK
  Check(txn->Commit(), "commit");

  // One-operation transactions are shortcuts.
  Check(db->Put("grape", "green"), "put");

  // 3. A snapshot: a consistent view that later commits do not change.
  std::unique_ptr<sombra::ReadTxn> snap;
  Check(db->BeginRead(&snap), "begin read");
  Check(db->Put("apple", "green"), "update");  // not seen by `snap`

  std::string value;
  Check(snap->Get("apple", &value), "get");
  std::printf("snapshot %llu: apple = %s\n", static_cast<unsigned long long>(snap->Sequence()),
              value.c_str());
  Check(db->Get("apple", &value), "get");
  std::printf("latest:      apple = %s\n", value.c_str());
  if (db->Get("kiwi", &value).IsNotFound()) std::printf("kiwi: not found\n");

  // 4. A cursor walks keys in byte order, both ways.
  std::unique_ptr<sombra::Cursor> it = snap->NewCursor();
  for (it->Seek("b"); it->Valid(); it->Next()) {
    std::printf("  %.*s -> %.*s\n", static_cast<int>(it->key().size()), it->key().data(),
                static_cast<int>(it->value().size()), it->value().data());
  }
  Check(it->status(), "scan");
  it->SeekToLast();
  std::printf("last key: %.*s\n", static_cast<int>(it->key().size()), it->key().data());

  // 5. Cursors and transactions end before the database closes; closing
  //    checkpoints the log into the page file and releases the lock.
  it.reset();
  snap.reset();
  Check(db->Verify(), "verify");
  sombra::Stats stats = db->GetStats();
  std::printf("commits %llu, fsyncs %llu, wal bytes %llu\n",
              static_cast<unsigned long long>(stats.commits),
              static_cast<unsigned long long>(stats.fsyncs),
              static_cast<unsigned long long>(stats.wal_bytes));
  db.reset();
  return 0;
}
