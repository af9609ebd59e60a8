// btree/db_verify.h: VerifyDatabase, the one check behind DB::Verify,
// `sombra verify` and `sombra-inspect FILE verify`.
//
// It checks one state of a database (docs/format/file.md and page.md, "A
// page is valid if and only if" and the tree rules):
//  1. both meta pages as the file stores them, the one not in force too;
//  2. every page in [2, page count): pager::VerifyPage (kind, page number,
//     reserved bytes, checksum), and no meta page outside slots 0 and 1;
//  3. the freelist from its head: every link in range, no cycle, only free
//     pages on it, as many pages as counted;
//  4. the tree rules (VerifyTree): levels, layouts, keys inside fences,
//     separators, sibling links, overflow chains, every page reachable
//     exactly once or free.
// It collects every problem instead of stopping at the first, except that
// the freelist walk stops at its first problem and the tree walk at its
// first, which is not repeated when it is on a page checks 1-3 already
// reported, or about a freelist check 3 already found broken.
//
// Thread safety: as the page source and the snapshot it reads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pager/meta.h"
#include "pager/pager.h"
#include "pager/snapshot.h"
#include "util/result.h"

namespace sombra::btree {

struct VerifyProblem {
  uint64_t page = 0;  // 0 and 1 are the meta pages
  std::string what;   // without "page N of FILE: "; tree rules start "tree: "
};

struct VerifyReport {
  std::vector<VerifyProblem> problems;  // by page; one page may have several
  uint64_t pages = 0;                   // the state's page count, meta pages included
  bool ok() const { return problems.empty(); }
};

// Page `page_no` (2 <= page_no < the state's page count) of the state being
// verified: page_size bytes, valid until the next call; nullptr when the
// page file ends before the page. Corruption is a damaged page (reported
// as a problem); any other error ends the verification.
using VerifyPageSource = std::function<Result<const uint8_t*>(uint32_t page_no)>;

struct VerifyTarget {
  std::string file;         // the page file, as messages name it
  pager::MetaChoice metas;  // both meta slots, as read from the file
  pager::TreeState state;   // the root, page count and freelist checked
  uint32_t page_size = 0;
  uint64_t salt = 0;
  VerifyPageSource read;
  // True: `read` returns each page as the page file stores it or (a page
  // committed since the checkpoint) sealed as the checkpoint will store it,
  // and every rule of pager::VerifyPage is checked, the checksum included.
  // False: `read` verified the checksum of every page it read from the
  // file (returning Corruption) and may return a committed version held in
  // memory, which has no checksum until a checkpoint writes it; a sealed
  // copy of each page is checked for the other rules.
  bool pages_sealed = true;
  // The tree rules run over this snapshot of `state`; null leaves them out
  // (no consistent view of the tree, e.g. a log that cannot be replayed).
  const pager::Snapshot* tree = nullptr;
};

// Every check above. An error (not Corruption) only when a page could not
// be read for another reason (I/O, Busy): the report would be incomplete.
Result<VerifyReport> VerifyDatabase(const VerifyTarget& target);

// DB::Verify: the snapshot's state, its pages read through it (checksums as
// the pager verifies them: Options::verify_checksums), the tree rules over
// it. `metas` as pager::ReadNewestMeta read them from `file`.
Result<VerifyReport> VerifyDatabase(const pager::Snapshot& snap, const pager::MetaChoice& metas,
                                    const std::string& file);

// "page N of FILE: what" ("meta page N of FILE: what" for pages 0 and 1):
// a problem as a Status message names it.
std::string DescribeProblem(const VerifyProblem& problem, const std::string& file);

}  // namespace sombra::btree
