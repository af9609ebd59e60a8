// cli/cmd_trees.cc: trees (a read_only open: every named tree with its
// records and pages, from one snapshot) and droptree (a writable open).
#include <memory>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/cli_internal.h"
#include "cli/escape.h"
#include "cli/tree_pages.h"
#include "db/db_txn.h"

namespace sombra::cli {

namespace {

// NAME<TAB>RECORDS<TAB>PAGES, the name escaped as dump escapes keys.
void WriteTreesText(const std::vector<TreeSize>& trees, std::ostream& out) {
  for (const TreeSize& t : trees) {
    out << Escape(t.name) << '\t' << t.records << '\t' << t.pages << '\n';
  }
}

void WriteTreesJson(const std::string& path, const std::vector<TreeSize>& trees,
                    std::ostream& out) {
  out << "{\n  \"path\": " << JsonString(path) << ",\n  \"trees\": [";
  bool first = true;
  for (const TreeSize& t : trees) {
    out << (first ? "\n    " : ",\n    ") << "{\"name\": " << JsonString(t.name)
        << ", \"records\": " << t.records << ", \"pages\": " << t.pages << "}";
    first = false;
  }
  out << (first ? "]" : "\n  ]") << "\n}\n";
}

}  // namespace

int RunTrees(const Invocation& inv) {
  std::unique_ptr<DB> db;
  Status s = OpenDb(inv, /*write=*/false, /*create=*/false, &db);
  std::unique_ptr<ReadTxn> txn;
  if (s.ok()) s = db->BeginRead(&txn);
  if (!s.ok()) return Fail(inv, kExitError, s);
  // The catalog and every tree it names, at the snapshot's state.
  const auto* impl = dynamic_cast<const db::ReadTxnImpl*>(txn.get());
  if (impl == nullptr) return Fail(inv, kExitError, Status::NotSupported("not a Sombra snapshot"));
  std::vector<TreeSize> trees;
  s = MeasureNamedTrees(impl->snapshot(), &trees);
  const uint64_t lsn = txn->Sequence();
  txn.reset();
  if (!s.ok()) return Fail(inv, kExitError, s);
  if (inv.json) {
    WriteTreesJson(inv.db_path(), trees, *inv.out);
  } else {
    WriteTreesText(trees, *inv.out);
  }
  inv.out->flush();
  NoteIfLive(inv, db.get(), lsn);
  return kExitOk;
}

// Exit 1 when there is no such tree, as del of an absent key.
int RunDropTree(const Invocation& inv) {
  const std::string& name = inv.operands[1];
  std::unique_ptr<DB> db;
  Status s = OpenDb(inv, /*write=*/true, /*create=*/false, &db);
  if (!s.ok()) return Fail(inv, kExitError, s);
  s = db->DropTree(name);
  if (s.IsNotFound()) return Fail(inv, kExitNotFound, NoSuchTree(name));
  if (!s.ok()) return Fail(inv, kExitError, s);
  return kExitOk;
}

}  // namespace sombra::cli
