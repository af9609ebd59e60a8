// cli/cli.cc: the command line: options, commands, help, dispatch.
#include "cli/cli.h"

#include <array>
#include <charconv>
#include <string_view>

#include "cli/cli_internal.h"
#include "sombra/version.h"

namespace sombra::cli {

namespace {

struct OptionSpec {
  std::string_view name;  // without "--"
  bool takes_value;
  bool global;
};

constexpr std::array<OptionSpec, 19> kOptions = {{
    {"page-size", true, true},   {"salvage", false, true},   {"wait", true, true},
    {"durability", true, true},  {"read-only", false, true}, {"hex", false, true},
    {"help", false, true},       {"version", false, true},   {"from", true, false},
    {"to", true, false},         {"reverse", false, false},  {"limit", true, false},
    {"keys-only", false, false}, {"format", true, false},    {"batch", true, false},
    {"json", false, false},      {"sorted", false, false},   {"prefix", true, false},
    {"tree", true, false},
}};

struct CommandSpec {
  std::string_view name;
  int (*run)(const Invocation&);
  size_t min_operands;  // DB included
  size_t max_operands;
  bool writes;
  std::vector<std::string_view> options;  // command options it accepts
  std::string_view synopsis;
  std::string_view help;
};

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> commands = {
      {"put",
       RunPut,
       3,
       3,
       true,
       {"tree"},
       "put DB KEY VALUE [--tree NAME]",
       "Stores VALUE under KEY (replacing any value) in one transaction. Creates\n"
       "DB when it does not exist.\n"},
      {"get",
       RunGet,
       2,
       2,
       false,
       {"tree"},
       "get DB KEY [--tree NAME]",
       "Prints the value of KEY followed by a newline. Exit status 1 when KEY is\n"
       "absent.\n"},
      {"del",
       RunDel,
       2,
       2,
       true,
       {"tree"},
       "del DB KEY [--tree NAME]",
       "Deletes KEY. Exit status 1 (and nothing written) when KEY is absent.\n"},
      {"delrange",
       RunDelRange,
       3,
       3,
       true,
       {"tree"},
       "delrange DB BEGIN END [--tree NAME]",
       "Deletes every key k with BEGIN <= k < END in one transaction (END before\n"
       "BEGIN is an error) and prints how many were deleted. A leaf at a time,\n"
       "with no search per key; emptied pages go to the freelist.\n"},
      {"scan",
       RunScan,
       1,
       1,
       false,
       {"from", "to", "prefix", "reverse", "limit", "keys-only", "format", "tree"},
       "scan DB [--from K] [--to K] [--prefix P] [--reverse] [--limit N] [--keys-only]\n"
       "         [--format tsv|csv] [--tree NAME]",
       "Prints the records with --from <= key < --to in key order, one per line in\n"
       "the dump format (KEY<TAB>VALUE, escaped). --prefix P keeps the keys that\n"
       "start with P (within --from/--to when given too). --reverse walks from the\n"
       "high end down; --limit stops after N records; --keys-only prints keys only.\n"},
      {"count",
       RunCount,
       1,
       1,
       false,
       {"from", "to", "prefix", "tree"},
       "count DB [--from K] [--to K] [--prefix P] [--tree NAME]",
       "Prints the number of records with --from <= key < --to (and starting with\n"
       "--prefix P), every record without them, read from one snapshot.\n"},
      {"load",
       RunLoad,
       1,
       2,
       true,
       {"format", "batch", "sorted", "tree"},
       "load DB [FILE] [--format tsv|csv] [--batch N] [--sorted] [--tree NAME]",
       "Stores the records of FILE (default or \"-\": standard input): KEY<TAB>VALUE lines\n"
       "with escapes as dump writes them, or RFC 4180 CSV with --format csv. Commits\n"
       "one write transaction per N records (--batch, default 10000); on an error\n"
       "the batches committed before it stay. Draws a progress line on standard\n"
       "error when it is a terminal. Creates DB when it does not exist.\n"
       "--sorted: the keys are in ascending order, each after every key already\n"
       "stored: they are appended (WriteTxn::Append, no search per key, leaves\n"
       "filled completely); a key out of order stops the load with an error\n"
       "naming its line.\n"},
      {"dump",
       RunScan,
       1,
       1,
       false,
       {"format", "tree"},
       "dump DB [--format tsv|csv] [--tree NAME]",
       "Prints every record in key order in exactly the format load reads, so\n"
       "`sombra dump A | sombra load B` copies any keys and values. TSV escapes\n"
       "tab, newline, backslash and every byte outside printable ASCII as\n"
       "\\t \\n \\\\ \\xHH.\n"},
      {"verify",
       RunVerify,
       1,
       1,
       false,
       {},
       "verify DB",
       "Checks every page, checksum and the tree structure (DB::Verify). Prints\n"
       "\"DB: OK\"; exit status 1 on corruption, naming where.\n"},
      {"checkpoint",
       RunCheckpoint,
       1,
       1,
       true,
       {},
       "checkpoint DB",
       "Writes every committed page into the page file and restarts the log; free\n"
       "pages at the end of the file are given back first.\n"},
      {"compact",
       RunCompact,
       1,
       1,
       true,
       {"json"},
       "compact DB [--json]",
       "Moves live pages from the end of the file into free pages, a few hundred per\n"
       "transaction (other processes' readers keep their snapshots), then shrinks\n"
       "the file to its live pages (DB::Compact; docs/operations.md). Prints pages\n"
       "moved, pages given back and the file's size before and after, or with\n"
       "--json one JSON object.\n"},
      {"stats",
       RunStats,
       1,
       1,
       false,
       {"json"},
       "stats DB [--json]",
       "Prints the database's statistics (every Stats field, then the `all` map of\n"
       "every counter by name); --json prints one JSON object.\n"},
      {"trees",
       RunTrees,
       1,
       1,
       false,
       {"json"},
       "trees DB [--json]",
       "Lists the named trees, one per line in name order: NAME<TAB>RECORDS<TAB>PAGES\n"
       "(the name escaped as dump escapes keys; PAGES counts the tree's leaf,\n"
       "internal and overflow pages), read from one snapshot. The default tree is\n"
       "not listed. --json prints one JSON object.\n"},
      {"backup",
       RunBackup,
       2,
       2,
       false,
       {"json"},
       "backup DB DEST [--json]",
       "Writes a consistent copy of the latest committed state to DEST (DB::Backup)\n"
       "while other processes go on reading and writing DB: only the live pages,\n"
       "renumbered, no log; synced and verified, then renamed into place (until\n"
       "then DEST.partial). DEST must not exist. A progress line on a terminal;\n"
       "prints pages, bytes, seconds and the commit sequence copied, or with\n"
       "--json one JSON object.\n"},
      {"recover",
       RunRecover,
       2,
       2,
       false,
       {"json"},
       "recover DB OUT [--json] [--page-size N]",
       "Gets the records of a damaged database DB (meta pages, tree or log) out of\n"
       "every page whose checksum holds, the newest page winning, into a new\n"
       "database OUT, and reports per tree the records recovered, the pages\n"
       "unreadable and the key ranges possibly lost (sombra-inspect DB recover OUT;\n"
       "docs/tools.md). DB is only read. --page-size for a file whose meta pages\n"
       "are both unreadable. Exit status 1 when anything was lost.\n"},
      {"droptree",
       RunDropTree,
       2,
       2,
       true,
       {},
       "droptree DB NAME",
       "Drops the named tree NAME and every record in it in one transaction; its\n"
       "pages go to the freelist. Exit status 1 (and nothing written) when there\n"
       "is no such tree. The default tree cannot be dropped.\n"},
  };
  return commands;
}

const CommandSpec* FindCommand(std::string_view name) {
  for (const CommandSpec& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const OptionSpec* FindOption(std::string_view name) {
  for (const OptionSpec& o : kOptions) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

constexpr std::string_view kGlobalHelp =
    "Options (before or after the command):\n"
    "  --page-size N      page size of a database created now (4096..65536, a\n"
    "                     power of two; default 4096). An existing database keeps\n"
    "                     its own, found in its file.\n"
    "  --durability full|normal|off\n"
    "                     what a commit promises after a crash (default full)\n"
    "  --read-only        open without writing (the default for get, scan, count,\n"
    "                     dump, verify, stats and trees; refused by put, del,\n"
    "                     delrange, load, checkpoint and droptree)\n"
    "  --salvage          open a database whose log is damaged past a torn tail:\n"
    "                     keep the transactions before the damage, drop the\n"
    "                     rest (writing commands keep the old log as DB-wal.salvaged)\n"
    "  --wait MS          a writing command waits up to MS milliseconds for the\n"
    "                     database's writer lock held by another process, then\n"
    "                     fails with Busy (default 0: at once)\n"
    "  --hex              keys and values (operands, --from/--to, output, load\n"
    "                     and dump fields) are hex: two digits per byte\n"
    "  --help, -h         this text; `sombra COMMAND --help` for one command\n"
    "  --version          the version and the formats this build writes\n"
    "  --                 the arguments after it are operands, even if they start\n"
    "                     with --\n";

constexpr std::string_view kExitHelp =
    "Exit status: 0 success; 1 key not found (get, del), no such tree (droptree)\n"
    "or corruption found (verify); 2 usage error or any other error, with one\n"
    "line on stderr:\n"
    "  sombra: COMMAND: DB: Code: message\n";

// The --tree option of the commands that take it.
constexpr std::string_view kTreeHelp =
    "  --tree NAME        act on the named tree NAME (taken literally, also with\n"
    "                     --hex) instead of the default tree. put and load create\n"
    "                     it when missing (in a transaction of its own); every\n"
    "                     other command fails on a missing tree, naming it, and\n"
    "                     creates nothing (exit 2). `sombra trees DB` lists them.\n";

bool TakesOption(const CommandSpec& c, std::string_view option) {
  for (std::string_view o : c.options) {
    if (o == option) return true;
  }
  return false;
}

std::string CommandHelp(const CommandSpec& c) {
  std::string text = "Usage: sombra " + std::string(c.synopsis) + "\n\n" + std::string(c.help);
  if (TakesOption(c, "tree")) text += "\n" + std::string(kTreeHelp);
  text += "\n" + std::string(kGlobalHelp) + "\n" + std::string(kExitHelp) + "\nSee docs/cli.md.\n";
  return text;
}

// The keys that start with `prefix` are [prefix, its successor): the
// prefix with its trailing 0xff bytes dropped and the last byte left
// raised by one (none when every byte is 0xff: no upper bound). *from and
// *to narrow to the intersection with that range.
void NarrowToPrefix(const std::string& prefix, std::optional<std::string>* from,
                    std::optional<std::string>* to) {
  if (!*from || **from < prefix) *from = prefix;
  std::string upper = prefix;
  while (!upper.empty() && static_cast<uint8_t>(upper.back()) == 0xff) upper.pop_back();
  if (upper.empty()) return;
  upper.back() = static_cast<char>(static_cast<uint8_t>(upper.back()) + 1);
  if (!*to || upper < **to) *to = upper;
}

bool ParseUint(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

}  // namespace

std::string Usage() {
  std::string text =
      "Usage: sombra COMMAND DB [ARGS] [OPTIONS]\n"
      "\n"
      "Sombra, a durable ordered key-value store: read and write a database\n"
      "from the shell.\n"
      "\n"
      "Commands:\n";
  for (const CommandSpec& c : Commands()) text += "  sombra " + std::string(c.synopsis) + "\n";
  text += "  sombra help [COMMAND]\n\n";
  text += "Option of get, put, del, delrange, scan, count, load and dump:\n";
  text += kTreeHelp;
  text += "\n";
  text += kGlobalHelp;
  text += "\n";
  text += kExitHelp;
  text +=
      "\nKeys and values on the command line are taken literally (or as hex with\n"
      "--hex). See docs/cli.md.\n";
  return text;
}

int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err, bool err_is_tty, int64_t in_size) {
  Invocation inv;
  inv.in = &in;
  inv.out = &out;
  inv.err = &err;
  inv.err_is_tty = err_is_tty;
  inv.in_size = in_size;

  // Pass 1: split options from operands.
  std::vector<std::string> positional;
  std::vector<std::pair<const OptionSpec*, std::string>> options;
  bool help = false;
  bool version = false;
  std::string parse_error;
  bool operands_only = false;
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& a = args[i];
    if (operands_only || a.size() < 2 || a[0] != '-' || (a[1] != '-' && a != "-h")) {
      positional.push_back(a);
      continue;
    }
    if (a == "--") {
      operands_only = true;
      continue;
    }
    if (a == "-h") {
      help = true;
      continue;
    }
    const size_t eq = a.find('=');
    const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const OptionSpec* spec = FindOption(name);
    if (spec == nullptr) {
      if (parse_error.empty()) parse_error = "unknown option --" + name;
      continue;
    }
    std::string value;
    if (spec->takes_value) {
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else if (parse_error.empty()) {
        parse_error = "--" + name + " needs a value";
      }
    } else if (eq != std::string::npos && parse_error.empty()) {
      parse_error = "--" + name + " takes no value";
    }
    if (spec->name == "help") help = true;
    if (spec->name == "version") version = true;
    options.emplace_back(spec, value);
  }

  if (version && parse_error.empty()) {
    out << VersionLine("sombra") << "\n";
    out.flush();
    return kExitOk;
  }
  // The command, and help.
  const CommandSpec* cmd = nullptr;
  if (!positional.empty() && positional[0] == "help") {
    help = true;
    positional.erase(positional.begin());
  }
  if (!positional.empty()) {
    cmd = FindCommand(positional[0]);
    if (cmd == nullptr) {
      return UsageError(inv, "unknown command '" + positional[0] + "'");
    }
    inv.command = std::string(cmd->name);
  }
  if (help) {
    out << (cmd != nullptr ? CommandHelp(*cmd) : Usage());
    out.flush();
    return kExitOk;
  }
  if (cmd == nullptr) {
    if (!parse_error.empty()) return UsageError(inv, parse_error);
    err << Usage();
    err.flush();
    return kExitError;
  }
  if (!parse_error.empty()) return UsageError(inv, parse_error);

  // Pass 2: option values.
  std::optional<std::string> from_text, to_text, prefix_text;
  for (const auto& [spec, value] : options) {
    const std::string_view name = spec->name;
    if (!spec->global) {
      if (!TakesOption(*cmd, name)) {
        return UsageError(inv, "--" + std::string(name) + " does not apply to " + inv.command);
      }
    }
    uint64_t n = 0;
    if (name == "page-size") {
      if (!ParseUint(value, &n) || n > UINT32_MAX) {
        return UsageError(inv, "--page-size wants a number, not '" + value + "'");
      }
      inv.page_size = static_cast<uint32_t>(n);
    } else if (name == "durability") {
      if (value == "full") {
        inv.durability = Durability::kFull;
      } else if (value == "normal") {
        inv.durability = Durability::kNormal;
      } else if (value == "off") {
        inv.durability = Durability::kOff;
      } else {
        return UsageError(inv, "--durability wants full, normal or off, not '" + value + "'");
      }
    } else if (name == "read-only") {
      inv.read_only = true;
    } else if (name == "salvage") {
      inv.salvage = true;
    } else if (name == "wait") {
      if (!ParseUint(value, &n) || n > UINT32_MAX) {
        return UsageError(inv, "--wait wants milliseconds, not '" + value + "'");
      }
      inv.wait_ms = static_cast<uint32_t>(n);
    } else if (name == "hex") {
      inv.hex = true;
    } else if (name == "tree") {
      inv.tree = value;
    } else if (name == "prefix") {
      prefix_text = value;
    } else if (name == "from") {
      from_text = value;
    } else if (name == "to") {
      to_text = value;
    } else if (name == "reverse") {
      inv.reverse = true;
    } else if (name == "limit") {
      if (!ParseUint(value, &n)) {
        return UsageError(inv, "--limit wants a number >= 0, not '" + value + "'");
      }
      inv.limit = n;
    } else if (name == "keys-only") {
      inv.keys_only = true;
    } else if (name == "sorted") {
      inv.sorted = true;
    } else if (name == "format") {
      if (value == "tsv") {
        inv.format = Format::kTsv;
      } else if (value == "csv") {
        inv.format = Format::kCsv;
      } else {
        return UsageError(inv, "--format wants tsv or csv, not '" + value + "'");
      }
    } else if (name == "batch") {
      if (!ParseUint(value, &n) || n == 0) {
        return UsageError(inv, "--batch wants a number >= 1, not '" + value + "'");
      }
      inv.batch = n;
    } else if (name == "json") {
      inv.json = true;
    }
  }

  // Operands.
  inv.operands.assign(positional.begin() + 1, positional.end());
  if (inv.operands.size() < cmd->min_operands || inv.operands.size() > cmd->max_operands) {
    return UsageError(inv, "expected: sombra " + std::string(cmd->synopsis));
  }
  if (inv.operands[0].empty()) return UsageError(inv, "DB is an empty path");
  if (inv.read_only && cmd->writes) {
    return UsageError(inv, "--read-only is refused: " + inv.command + " writes");
  }
  if (from_text && !DecodeOperand(inv, *from_text, "--from", &inv.from.emplace())) {
    return kExitError;
  }
  if (to_text && !DecodeOperand(inv, *to_text, "--to", &inv.to.emplace())) return kExitError;
  if (prefix_text) {
    std::string prefix;
    if (!DecodeOperand(inv, *prefix_text, "--prefix", &prefix)) return kExitError;
    NarrowToPrefix(prefix, &inv.from, &inv.to);
  }
  const int code = cmd->run(inv);
  out.flush();
  if (code == kExitOk && !out) {
    return Fail(inv, kExitError, Status::IOError("cannot write the output"));
  }
  return code;
}

}  // namespace sombra::cli
