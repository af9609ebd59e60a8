// cli/cli.h: `sombra`, the command-line tool over the public API
// (docs/cli.md).
//
//   sombra put DB KEY VALUE         sombra get DB KEY
//   sombra del DB KEY               sombra scan DB [--from K] [--to K] ...
//   sombra load DB [FILE]           sombra dump DB
//   sombra verify DB                sombra checkpoint DB
//   sombra stats DB [--json]        sombra help [COMMAND]
//   sombra trees DB [--json]        sombra droptree DB NAME
//   (and delrange, count; the per-key commands take --tree NAME)
//
// get, scan, count, dump, verify, stats and trees open the database
// read_only and read one snapshot, so they work beside a process that has
// it open for writing (a writer that comes and goes never fails them);
// after reading a live database they add one "live: ..." line on stderr,
// never on stdout (docs/cli.md, "Live databases"). put, del, delrange,
// load, checkpoint and droptree open it for writing. --tree NAME acts on a
// named tree: put and load create it, the others refuse a missing one
// (docs/cli.md, "Named trees").
//
// Thread safety: RunCli keeps no state between calls; concurrent calls on
// the same database behave like concurrent processes.
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace sombra::cli {

// Exit statuses.
constexpr int kExitOk = 0;
constexpr int kExitNotFound = 1;     // get/del of an absent key, droptree of an absent tree
constexpr int kExitCheckFailed = 1;  // verify found corruption
constexpr int kExitError = 2;        // usage error, or any other error

// Runs `sombra` with `args` (argv without argv[0]). Records read by load
// come from `in` when no FILE is given; results go to `out`; an error is
// exactly one line "sombra: <command>: <db>: <Code>: <message>" (or
// "sombra: <message>" for a usage error) on `err`. `err_is_tty` enables the
// load progress line on `err`; `in_size` is the size of `in` in bytes when
// known (a regular file), else -1, and gives the progress line its ETA.
// Returns one of the exit statuses above.
int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err, bool err_is_tty, int64_t in_size = -1);

// The text printed by `sombra --help`.
std::string Usage();

}  // namespace sombra::cli
