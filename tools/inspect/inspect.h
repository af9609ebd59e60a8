// inspect/inspect.h: sombra-inspect, the offline page-file inspector.
//
//   sombra-inspect FILE meta             both meta pages, and which is in force
//   sombra-inspect FILE page N [--hex]   one page: header decoded (B+tree
//                                        pages: node, slots, records), hex dump
//   sombra-inspect FILE tree [--verbose] the B+tree: height, pages, records
//                                        and fill per level, totals
//   sombra-inspect FILE verify           every page and the freelist checked
//   --json                               the same as one JSON object
//
// The file is opened read-only through Env::Default() and read with pread
// only: no map, no lock, no write, so inspecting a database that another
// process has open is safe (the result may then mix old and new pages).
// Nothing read from the file is trusted without a bounds check.
//
// Thread safety: RunInspect keeps no state between calls.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace sombra::inspect {

// Exit codes.
constexpr int kExitOk = 0;
constexpr int kExitCheckFailed = 1;  // verify or tree found problems
constexpr int kExitError = 2;        // usage error, or the file cannot be inspected

// Runs sombra-inspect with `args` (argv without argv[0]). Results go to
// `out`; an error is exactly one line "sombra-inspect: <message>" on `err`.
// Returns one of the exit codes above.
int RunInspect(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The text printed by --help.
std::string Usage();

}  // namespace sombra::inspect
