// inspect/inspect.h: sombra-inspect, the database inspector (docs/tools.md).
//
//   sombra-inspect FILE meta             both meta pages, which is in force,
//                                        and the state after the log
//   sombra-inspect FILE page N [--hex]   one page: header decoded (B+tree,
//                                        overflow and free pages: body too),
//                                        hex dump (--no-hex leaves it out)
//   sombra-inspect FILE tree [--verbose] [--tree NAME]
//                                        the B+tree (the default tree, or
//                                        the named tree NAME): height,
//                                        pages, records and fill per
//                                        level, totals
//   sombra-inspect FILE catalog          the named trees: name, root,
//                                        height, pages, records
//   sombra-inspect FILE freelist         the freelist chain and its count
//   sombra-inspect FILE stats            database-level statistics
//   sombra-inspect FILE verify           both meta pages, every page, the
//                                        freelist, the tree rules
//                                        (btree::VerifyDatabase, as
//                                        DB::Verify), the log
//   sombra-inspect FILE wal              the write-ahead log FILE-wal
//   sombra-inspect FILE recover OUT [--page-size N]
//                                        salvage: the records of every
//                                        good leaf page (and of the log's
//                                        committed transactions), newest
//                                        page first, into the new database
//                                        OUT (recover.h)
//   --json                               the same as one JSON object
//
// The page file and the log are never written (recover writes OUT, a new
// database, through the public API): they are opened read-only,
// no lock is taken, and the log's committed transactions are replayed in
// memory by a read-only pager::Pager, which registers its snapshot in the
// shared reader table FILE-shm like any read-only handle. So a database
// another process has open for writing can be inspected: every command
// reads one consistent snapshot, none fails or reports damage because the
// writer checkpointed, came or went meanwhile, and each says it read a
// live database ("live: ..." first, "live": true in JSON; docs/tools.md,
// "Live databases"). Nothing read from the files is trusted without a
// bounds check.
//
// Thread safety: RunInspect keeps no state between calls.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace sombra::inspect {

// Exit codes.
constexpr int kExitOk = 0;
constexpr int kExitCheckFailed = 1;  // a check (verify, tree, catalog, freelist, stats, wal)
                                     // failed, or recover lost something
constexpr int kExitError = 2;        // usage error, or the file cannot be inspected

// Runs sombra-inspect with `args` (argv without argv[0]). Results go to
// `out`; an error is exactly one line "sombra-inspect: <message>" on `err`.
// Returns one of the exit codes above.
int RunInspect(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The text printed by --help.
std::string Usage();

}  // namespace sombra::inspect
