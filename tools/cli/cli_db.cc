// cli/cli_db.cc: opening the database, reporting errors, and the note
// about a live database.
#include <algorithm>
#include <string>
#include <vector>

#include "btree/catalog.h"
#include "cli/cli.h"
#include "cli/cli_internal.h"
#include "cli/escape.h"
#include "db/db_impl.h"
#include "inspect/live.h"

namespace sombra::cli {

namespace {

// One line: a message never spans lines on stderr.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

void NoteIfLive(const Invocation& inv, DB* db, uint64_t lsn) {
  // A writer was there when the handle opened or caught up with the log
  // (the pager saw its mark), or is there now.
  const auto* impl = dynamic_cast<const db::DBImpl*>(db);
  const bool live = live::SawWriter(impl != nullptr ? impl->pager() : nullptr, inv.db_path());
  if (!live) return;
  *inv.err << "sombra: " << inv.command << ": " << OneLine(inv.db_path())
           << ": live: a writer has this database open; read at LSN " << lsn << " (snapshot)\n";
  inv.err->flush();
}

int Fail(const Invocation& inv, int code, const Status& status) {
  *inv.err << "sombra: " << inv.command << ": " << OneLine(inv.db_path()) << ": "
           << OneLine(status.ToString()) << "\n";
  inv.err->flush();
  return code;
}

int UsageError(const Invocation& inv, std::string_view message) {
  *inv.err << "sombra: ";
  if (!inv.command.empty()) *inv.err << inv.command << ": ";
  *inv.err << OneLine(std::string(message)) << " (see: sombra "
           << (inv.command.empty() ? "" : inv.command + " ") << "--help)\n";
  inv.err->flush();
  return kExitError;
}

Status OpenDb(const Invocation& inv, bool write, bool create, std::unique_ptr<DB>* db) {
  Options options;
  options.read_only = !write;
  options.create_if_missing = write && create;
  options.durability = inv.durability;
  options.salvage_wal = inv.salvage;
  options.busy_timeout_ms = inv.wait_ms;
  // --page-size applies when the database is created; an existing one
  // opens with its own (DB::Open's rule).
  if (inv.page_size.has_value()) options.page_size = *inv.page_size;
  // Read-only beside a writer in another process: the library reads the
  // log again when the writer restarts or truncates it under the reading
  // (docs/design/readers.md), so a failure here is the database's.
  return DB::Open(options, inv.db_path(), db);
}

Status NoSuchTree(std::string_view name) {
  return Status::NotFound("no tree named \"" + Escape(name) + "\"");
}

Status OpenTreeOf(const Invocation& inv, DB* db, bool create, Tree** tree) {
  if (!inv.tree) {
    *tree = db->DefaultTree();
    return Status::OK();
  }
  const std::string& name = *inv.tree;
  Status s = btree::CheckTreeName(name);
  if (s.ok() && !create) {
    // DB::OpenTree creates a missing tree on a writable handle: look first.
    // (A writable handle is the only writer, so the answer stands.)
    std::vector<std::string> names;
    s = db->ListTrees(&names);
    if (s.ok() && !std::binary_search(names.begin(), names.end(), name)) s = NoSuchTree(name);
  }
  if (s.ok()) s = db->OpenTree(name, tree);
  // A read-only handle refuses to create one that went away meanwhile.
  return s.IsNotFound() ? NoSuchTree(name) : s;
}

bool DecodeOperand(const Invocation& inv, std::string_view text, const char* what,
                   std::string* out) {
  if (!inv.hex) {
    out->assign(text);
    return true;
  }
  std::string why;
  if (HexDecode(text, out, &why)) return true;
  UsageError(inv, std::string(what) + " is not hex (--hex): " + why);
  return false;
}

}  // namespace sombra::cli
