// examples/trees.cc: several indexes in one file (named trees), written by
// one atomic transaction and read from one snapshot; then one dropped.
//
//   trees [PATH]      (default /tmp/sombra-trees.db)
//
// Built with the project (target `trees_example`) and run by the test suite.
#include <sombra/db.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {

void Check(const sombra::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "trees: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "/tmp/sombra-trees.db";
  (void)sombra::DestroyDB(path);
  std::unique_ptr<sombra::DB> db;
  Check(sombra::DB::Open(sombra::Options(), path, &db), "open");

  // Each tree is created (in its own durable transaction) on first open.
  sombra::Tree* users = nullptr;
  sombra::Tree* by_email = nullptr;
  Check(db->OpenTree("users", &users), "open tree users");
  Check(db->OpenTree("users.by_email", &by_email), "open tree users.by_email");

  // One transaction writes a record and its index entry: both or neither.
  std::unique_ptr<sombra::WriteTxn> txn;
  Check(db->BeginWrite(&txn), "begin write");
  Check(txn->Put(users, "u1", "Ada Lovelace"), "put");
  Check(txn->Put(by_email, "ada@example.org", "u1"), "put");
  Check(txn->Put(users, "u2", "Alan Turing"), "put");
  Check(txn->Put(by_email, "alan@example.org", "u2"), "put");
  Check(txn->Put("schema", "2"), "put");  // no Tree*: the default tree
  Check(txn->Commit(), "commit");

  // One snapshot sees every tree at the same commit.
  std::unique_ptr<sombra::ReadTxn> snap;
  Check(db->BeginRead(&snap), "begin read");
  std::string id, name;
  Check(snap->Get(by_email, "alan@example.org", &id), "get by email");
  Check(snap->Get(users, id, &name), "get user");
  std::printf("alan@example.org -> %s -> %s\n", id.c_str(), name.c_str());
  std::unique_ptr<sombra::Cursor> it = snap->NewCursor(users);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::printf("  users: %.*s = %.*s\n", static_cast<int>(it->key().size()), it->key().data(),
                static_cast<int>(it->value().size()), it->value().data());
  }
  Check(it->status(), "scan");
  it.reset();
  snap.reset();

  std::vector<std::string> names;
  Check(db->ListTrees(&names), "list trees");
  std::printf("trees:");
  for (const std::string& n : names) std::printf(" %s", n.c_str());
  std::printf("\n");

  // Dropping frees every page of the tree in one transaction; the old
  // handle is invalid from now on.
  Check(db->DropTree("users.by_email"), "drop tree");
  Check(db->ListTrees(&names), "list trees");
  std::printf("after drop: %zu tree(s), free pages %llu\n", names.size(),
              static_cast<unsigned long long>(db->GetStats().freelist_pages));
  std::unique_ptr<sombra::ReadTxn> after;
  Check(db->BeginRead(&after), "begin read");
  const sombra::Status dropped = after->Get(by_email, "ada@example.org", &id);
  std::printf("dropped handle: %s\n", dropped.IsInvalidArgument() ? "InvalidArgument" : "?");
  Check(db->Verify(), "verify");
  return 0;
}
