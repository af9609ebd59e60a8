// cli/cli_internal.h: what the command implementations share.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/record_io.h"
#include "sombra/db.h"

namespace sombra::cli {

// One parsed command line and the streams it runs with.
struct Invocation {
  std::string command;
  std::vector<std::string> operands;  // after the command: DB first

  // Global options.
  std::optional<uint32_t> page_size;
  Durability durability = Durability::kFull;
  bool read_only = false;
  bool salvage = false;  // --salvage: Options::salvage_wal
  uint32_t wait_ms = 0;  // --wait MS: Options::busy_timeout_ms
  bool hex = false;

  // Command options, already decoded (--from/--to honour --hex).
  std::optional<std::string> from;
  std::optional<std::string> to;
  bool reverse = false;
  std::optional<uint64_t> limit;
  bool keys_only = false;
  Format format = Format::kTsv;
  uint64_t batch = 10000;
  bool sorted = false;  // load --sorted: WriteTxn::Append
  bool json = false;
  // --tree NAME: the named tree the command acts on (taken literally);
  // none: the default tree.
  std::optional<std::string> tree;

  std::istream* in = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  bool err_is_tty = false;
  int64_t in_size = -1;

  const std::string& db_path() const { return operands.at(0); }
};

// Writes "sombra: <command>: <db>: <status>" to err and returns `code`.
int Fail(const Invocation& inv, int code, const Status& status);
// Writes "sombra: <command>: <message>" to err and returns kExitError.
int UsageError(const Invocation& inv, std::string_view message);

// Opens the database per the invocation: read_only unless `write`;
// creating it only when `create`. --page-size applies to a database it
// creates; an existing one opens with its own page size (DB::Open's rule).
// A read-only open beside a writer in another process is DB::Open's own:
// the library reads the log again when the writer truncates or restarts
// it under the reading (docs/design/readers.md), so no retry here.
Status OpenDb(const Invocation& inv, bool write, bool create, std::unique_ptr<DB>* db);

// A read command that succeeded on `db` (opened read-only) after reading
// the snapshot at `lsn`: when a writer had the database open meanwhile,
// writes one line on err (never on out, which scripts read):
//   sombra: COMMAND: DB: live: a writer has this database open; read at LSN N (snapshot)
void NoteIfLive(const Invocation& inv, DB* db, uint64_t lsn);

// The tree the command acts on (*tree, owned by db): the default tree
// without --tree, else the named tree. `create` (put, load): made when
// missing, in its own transaction (DB::OpenTree). Otherwise a missing tree
// is NotFound naming it (NoSuchTree) and nothing is created.
Status OpenTreeOf(const Invocation& inv, DB* db, bool create, Tree** tree);
// NotFound: no tree named "NAME" (escaped).
Status NoSuchTree(std::string_view name);

// `s` as a JSON string (bytes outside printable ASCII as \u00XX).
std::string JsonString(std::string_view s);

// Decodes a KEY or VALUE operand (literal, or hex with --hex).
bool DecodeOperand(const Invocation& inv, std::string_view text, const char* what,
                   std::string* out);

// The commands. Each returns an exit status and has already written any
// error message.
int RunPut(const Invocation& inv);
int RunGet(const Invocation& inv);
int RunDel(const Invocation& inv);
int RunScan(const Invocation& inv);  // also dump
int RunCount(const Invocation& inv);
int RunDelRange(const Invocation& inv);
int RunLoad(const Invocation& inv);
int RunVerify(const Invocation& inv);
int RunCheckpoint(const Invocation& inv);
int RunCompact(const Invocation& inv);
int RunStats(const Invocation& inv);
int RunTrees(const Invocation& inv);
int RunDropTree(const Invocation& inv);
int RunBackup(const Invocation& inv);
int RunRecover(const Invocation& inv);

}  // namespace sombra::cli
