#include "inspect/inspect.h"

#include <charconv>
#include <exception>
#include <memory>
#include <string_view>
#include <system_error>

#include "inspect/inspect_internal.h"
#include "sombra/version.h"

namespace sombra::inspect {
namespace {

struct Command {
  std::string file;
  std::string name;                   // meta, page, tree, catalog, freelist, stats, verify, wal
                                      // or recover
  std::vector<std::string> operands;  // after the command name
  Flags flags;
  bool help = false;
  bool version = false;
};

bool ParsePageNumber(std::string_view s, uint64_t* value);

// --page-size N: a power of two from 4096 to 65536.
std::string ParsePageSize(const std::string& value, Flags* flags) {
  uint64_t n = 0;
  if (!ParsePageNumber(value, &n) || !pager::IsValidPageSize(n)) {
    return "--page-size: not a page size (a power of two from 4096 to 65536): " + value;
  }
  flags->page_size = static_cast<uint32_t>(n);
  return "";
}

// Splits args into flags and positionals; "--" ends the flags. Returns an
// error message, or "" when args are well formed.
std::string Parse(const std::vector<std::string>& args, Command* cmd) {
  std::vector<std::string> positional;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!flags_done && arg.size() > 1 && arg[0] == '-') {
      if (arg == "--") {
        flags_done = true;
      } else if (arg == "--help" || arg == "-h") {
        cmd->help = true;
      } else if (arg == "--version") {
        cmd->version = true;
      } else if (arg == "--json") {
        cmd->flags.json = true;
      } else if (arg == "--hex") {
        cmd->flags.hex = true;
      } else if (arg == "--no-hex") {
        cmd->flags.hex = false;
      } else if (arg == "--verbose") {
        cmd->flags.verbose = true;
      } else if (arg == "--tree" || arg.rfind("--tree=", 0) == 0) {
        if (arg == "--tree" && i + 1 == args.size()) return "--tree needs a tree name";
        cmd->flags.tree = arg == "--tree" ? args[++i] : arg.substr(7);
      } else if (arg == "--page-size" || arg.rfind("--page-size=", 0) == 0) {
        if (arg == "--page-size" && i + 1 == args.size()) return "--page-size needs a page size";
        const std::string value = arg == "--page-size" ? args[++i] : arg.substr(12);
        if (std::string why = ParsePageSize(value, &cmd->flags); !why.empty()) return why;
      } else {
        return "unknown option " + arg + " (see --help)";
      }
      continue;
    }
    positional.push_back(arg);
  }
  if (cmd->help || cmd->version) return "";
  if (positional.empty()) return "missing FILE and command (see --help)";
  if (positional.size() == 1) {
    return "missing command: meta, page N, tree, catalog, freelist, stats, verify, wal or "
           "recover OUT (see --help)";
  }
  cmd->file = positional[0];
  cmd->name = positional[1];
  cmd->operands.assign(positional.begin() + 2, positional.end());
  size_t want = 0;
  if (cmd->name == "page") {
    want = 1;
    if (cmd->operands.empty()) return "page: missing page number";
  } else if (cmd->name == "recover") {
    want = 1;
    if (cmd->operands.empty()) return "recover: missing OUT, the new database to write";
  } else if (cmd->name != "meta" && cmd->name != "tree" && cmd->name != "verify" &&
             cmd->name != "wal" && cmd->name != "freelist" && cmd->name != "stats" &&
             cmd->name != "catalog") {
    return "unknown command " + cmd->name +
           "; expected meta, page, tree, catalog, freelist, stats, verify, wal or recover";
  }
  if (cmd->flags.tree && cmd->name != "tree") return "--tree applies to the tree command only";
  if (cmd->flags.page_size && cmd->name != "recover") {
    return "--page-size applies to the recover command only";
  }
  if (cmd->operands.size() > want) {
    return cmd->name + ": unexpected argument " + cmd->operands[want];
  }
  return "";
}

// A decimal page number; false for anything else (signs, spaces, hex,
// overflow).
bool ParsePageNumber(std::string_view s, uint64_t* value) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *value);
  return ec == std::errc() && end == s.data() + s.size();
}

int Run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    out << Usage();
    return kExitError;
  }
  Command cmd;
  const std::string problem = Parse(args, &cmd);
  if (cmd.help) {
    out << Usage();
    return kExitOk;
  }
  if (cmd.version) {
    out << VersionLine("sombra-inspect") << "\n";
    return kExitOk;
  }
  if (!problem.empty()) return PrintError(err, problem);

  uint64_t page_no = 0;
  if (cmd.name == "page" && !ParsePageNumber(cmd.operands[0], &page_no)) {
    return PrintError(err, "page: not a page number: " + cmd.operands[0]);
  }

  // The log is inspected even when the page file is missing or damaged;
  // recover needs no valid meta page.
  if (cmd.name == "wal") return RunWal(cmd.file, cmd.flags, out, err);
  if (cmd.name == "recover") return RunRecover(cmd.file, cmd.operands[0], cmd.flags, out, err);

  Result<std::unique_ptr<InspectedFile>> db = InspectedFile::Open(cmd.file);
  if (!db.ok() && cmd.name == "meta" && db.status().IsCorruption()) {
    return RunMetaDamaged(cmd.file, db.status(), cmd.flags, out, err);
  }
  if (!db.ok()) return PrintError(err, db.status().message());
  // A live database: one line first (JSON: "live" in every command).
  if ((*db)->live() && !cmd.flags.json) out << (*db)->LiveNote() << '\n';

  if (cmd.name == "meta") return RunMeta(**db, cmd.flags, out, err);
  if (cmd.name == "verify") return RunVerify(**db, cmd.flags, out, err);
  if (cmd.name == "tree") return RunTree(**db, cmd.flags, out, err);
  if (cmd.name == "catalog") return RunCatalog(**db, cmd.flags, out, err);
  if (cmd.name == "freelist") return RunFreelist(**db, cmd.flags, out, err);
  if (cmd.name == "stats") return RunStats(**db, cmd.flags, out, err);
  const uint64_t count = (*db)->page_count();
  if (page_no >= count) {
    return PrintError(err, "page " + std::to_string(page_no) + " is out of range: " + cmd.file +
                               " has " + std::to_string(count) + " pages (0 to " +
                               std::to_string(count - 1) + ")");
  }
  return RunPage(**db, static_cast<uint32_t>(page_no), cmd.flags, out, err);
}

}  // namespace

std::string Usage() {
  return "usage: sombra-inspect FILE COMMAND [--json]\n"
         "\n"
         "Inspects a Sombra database offline or in use: read-only, no lock\n"
         "taken, neither FILE nor its log written. The committed transactions\n"
         "of the log FILE-wal are replayed in memory, so the database is shown\n"
         "as a reader would see it. Beside a writer in another process it\n"
         "reads one snapshot, registered in FILE-shm (which the writer's\n"
         "checkpoints respect), and says so on its first line:\n"
         "  live: a writer has this database open; read at LSN N (snapshot)\n"
         "\n"
         "commands:\n"
         "  meta             both meta pages, which one is in force, and the\n"
         "                   state after the log\n"
         "  page N [--hex]   page N: header decoded (B+tree pages: node\n"
         "                   header, fences, slots, records, holes; overflow\n"
         "                   pages: next page, bytes used; free pages: next\n"
         "                   page, place on the freelist), then a hex dump\n"
         "                   (shown by default; --no-hex leaves it out)\n"
         "  tree [--verbose] [--tree NAME]\n"
         "                   the B+tree from the root: height, pages, records\n"
         "                   and fill per level (--verbose: each page and its\n"
         "                   fences too), totals, and the damaged pages it met;\n"
         "                   the default tree, or with --tree the named tree\n"
         "                   NAME as the catalog has it\n"
         "  catalog          the catalog of named trees: each tree's name, root\n"
         "                   page, height, pages and records\n"
         "  freelist         the freelist chain: each free page and its link,\n"
         "                   checked against the freelist count\n"
         "  stats            database statistics: sizes, sequence numbers,\n"
         "                   tree height, pages by kind, leaf fill, records,\n"
         "                   key and value bytes\n"
         "  verify           check both meta pages, every page, the freelist,\n"
         "                   the tree rules (the check DB::Verify runs) and\n"
         "                   the log\n"
         "  wal              the write-ahead log FILE-wal: header, records,\n"
         "                   where its valid prefix ends and what recovery\n"
         "                   would replay (FILE itself may be damaged)\n"
         "  recover OUT [--page-size N]\n"
         "                   salvage a damaged database: the records of every\n"
         "                   good leaf page and of the log's committed\n"
         "                   transactions, the newest page winning, into the\n"
         "                   new database OUT (which must not exist); reports\n"
         "                   per tree the records recovered, pages unreadable\n"
         "                   and key ranges possibly lost. --page-size: take N\n"
         "                   as the page size (both meta pages unreadable)\n"
         "\n"
         "options:\n"
         "  --json           print the result as one JSON object\n"
         "  --help, -h       print this help\n"
         "\n"
         "exit status: 0 ok, 1 a check failed (verify, tree, catalog, freelist or\n"
         "stats met damage, recovery would refuse the log, or recover lost\n"
         "something), 2 usage error, no such tree (tree --tree), the file cannot\n"
         "be inspected, or recover found no salt or OUT exists\n";
}

int RunInspect(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    return Run(args, out, err);
  } catch (const std::exception& e) {
    // Nothing above should throw but an allocation; report it as an error.
    return PrintError(err, std::string("internal error: ") + e.what());
  }
}

}  // namespace sombra::inspect
