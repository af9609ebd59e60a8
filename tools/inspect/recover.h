// inspect/recover.h: the pieces of `sombra-inspect FILE recover OUT`
// (docs/tools.md, "recover"), one module each:
//
//   recover_params.cc   the page size and salt: candidates, and the pair
//                       under which the most data pages verify
//   recover_source.cc   PageSource: every data page as the database has it
//                       (through InspectedFile and its pager when a meta
//                       page is valid, else the page file and the log read
//                       here), and the root sources, freshest first
//   recover_log.cc      the log replayed without the pager
//   recover_scan.cc     PageTable: each page classified (zeroed, damaged,
//                       leaf, internal, other), leaves' fences and links,
//                       internal pages' children
//   recover_trees.cc    Forest: subtrees from every top page, named by the
//                       root sources and the catalog, orphans attributed
//   recover_records.cc  the records of a tree, newest leaf first, and OUT
//   recover_report.cc   the report, text or JSON
//   recover_command.cc  RunRecover: the steps in order
//   key_ranges.h        KeyRanges, the key-range set the steps share
//
// Nothing read from FILE is trusted: every page is checked with
// pager::VerifyPage and decoded by LeafLayout::Parse or
// InternalNodeView::Validate before a byte of it is used.
//
// Thread safety: none; each object belongs to one call of RunRecover.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "env/env.h"
#include "inspect/inspect_internal.h"
#include "inspect/key_ranges.h"
#include "pager/txn_replay.h"
#include "sombra/db.h"
#include "sombra/status.h"
#include "util/result.h"

namespace sombra::inspect::recover {

// ---- Page size and salt (recover_params.cc) ----

struct Params {
  uint32_t page_size = 0;
  uint64_t salt = 0;
  std::string page_size_from;  // "meta page 0", "the log header", "--page-size", "tried"
  std::string salt_from;       // "meta page 1", "the log header", ...
  uint64_t sampled = 0;        // data pages sampled to choose the pair
  uint64_t verified = 0;       // of those, pages valid under the pair chosen
};

// The candidate pairs: the page size and salt stored in each meta page
// (valid or not; slot 1 read at each candidate page size), the log
// header's (as stored), and `forced_page_size` in place of every page size
// when given; every page size from 4096 to 65536 when none is known. The
// pair under which the most sampled data pages verify wins (ties: the
// order above). NotFound naming both files when no salt is known at all,
// or none makes a sampled data page valid (a salt read from a page that is
// not a meta page). `wal` may be null (no log).
Result<Params> ChooseParams(const std::string& path, File* file, File* wal,
                            std::optional<uint32_t> forced_page_size);

// ---- Pages (recover_source.cc) ----

// Where a tree's roots are named: the state after the log, the log's last
// commit or header, a meta page. Freshest first.
struct RootSource {
  std::string name;
  uint32_t root = 0;
  uint32_t catalog_root = 0;
  uint64_t page_count = 0;
  // The LSN of the state it names (a checkpoint LSN, a commit's LSN). A
  // good page with a higher LSN makes it stale: written before the pages.
  uint64_t lsn = 0;
};

// What the log gave.
struct LogSummary {
  std::string note;           // one sentence for the report
  uint64_t transactions = 0;  // committed transactions whose pages were used
  bool damaged = false;       // a damaged committed transaction (or header) was passed
  uint64_t not_applied = 0;   // records that did not apply (read alone)
};

// "1 page", "2 pages".
std::string Plural(uint64_t n, const char* one, const char* many);

// Every data page as the database has it.
//
// With a valid meta page of the chosen page size and salt (InspectedFile
// opens and replays the log: pager::Pager's own recovery, salvage of a
// damaged log included), each page is read through it. Otherwise the page
// file is read with the chosen salt, and the committed transactions of
// FILE-wal (when it binds to this salt and page size) are replayed here:
// images, deltas and page ops in order, a page's version from the log
// used unless the file holds a valid version with an LSN as high.
class PageSource {
 public:
  static Result<std::unique_ptr<PageSource>> Open(const std::string& path, const Params& params);
  ~PageSource();

  uint32_t page_size() const { return params_.page_size; }
  uint64_t salt() const { return params_.salt; }
  const std::string& path() const { return path_; }
  // Pages to scan: [2, pages()).
  uint64_t pages() const { return pages_; }
  // The highest page count any root source names (0 when none does): zero
  // pages below it are zeroed pages, not the file's preallocated tail.
  uint64_t known_page_count() const;
  const std::vector<RootSource>& roots() const { return roots_; }
  const LogSummary& log() const { return log_; }
  // Meta pages 0 and 1: OK, or why each is not valid.
  const Status& meta_status(int slot) const { return meta_status_[slot]; }
  bool through_pager() const { return db_ != nullptr; }
  bool live() const;

  // Page `page_no` (>= 2) into *buf: page_size() bytes, zeros past the end
  // of the file. Pages from the log come sealed with salt(); *from_log (when
  // not null) says so.
  Status Read(uint32_t page_no, std::vector<uint8_t>* buf, bool* from_log = nullptr) const;

 private:
  PageSource(std::string path, const Params& params) : path_(std::move(path)), params_(params) {}
  // The modes of Open.
  Status OpenThroughPager(std::unique_ptr<InspectedFile> db);
  Status OpenAlone();
  // The log FILE-wal replayed into log_pages_ (OpenAlone; recover_log.cc).
  Status ReadLog();
  // Page `page_no` as the log's replay has it before the transaction being
  // applied: its version from the log, else the file's valid page at LSN
  // `lsn`, else the double-write file's copy; "" when none.
  std::string PageBefore(uint32_t page_no, uint64_t lsn);
  // One record of a committed transaction applied to log_pages_, its copies
  // reading `sources`: false when it does not apply (a delta on a page the
  // log and the file lack at its base LSN, a copy from a page not kept).
  bool ApplyLogRecord(const pager::TxnRecord& r, const pager::CopySources& sources);
  void AddMetaSources();
  void CheckMetas();

  std::string path_;
  Params params_;
  std::unique_ptr<InspectedFile> db_;  // through the pager
  std::unique_ptr<File> file_;         // alone
  uint64_t file_pages_ = 0;
  std::unordered_map<uint32_t, std::string> log_pages_;  // alone: newest committed versions
  uint32_t log_version_ = 0;                             // alone: the log's format
  uint64_t pages_ = 0;
  std::vector<RootSource> roots_;
  LogSummary log_;
  Status meta_status_[2];
};

// ---- Page table (recover_scan.cc) ----

enum class PageClass : uint8_t {
  kTail,      // all zero, past every page in use: the file's preallocation
  kZeroed,    // all zero where a page should be
  kDamaged,   // fails VerifyPage, or its node layout does not decode
  kLeaf,      // a valid leaf
  kInternal,  // a valid internal page
  kOther,     // valid: free, overflow, raw
};

struct LeafInfo {
  uint64_t lsn = 0;
  uint32_t left = 0;
  uint32_t right = 0;
  std::string low;   // "": -infinity
  std::string high;  // "": +infinity
  uint32_t records = 0;
  // Every record could be a catalog entry (docs/format/file.md): a name of
  // 1 to 255 bytes, an inline 8-byte value whose reserved half is zero.
  bool catalog_like = false;
};

struct InternalInfo {
  uint64_t lsn = 0;
  uint16_t level = 0;
  std::vector<uint32_t> children;       // count + 1, leftmost first
  std::vector<std::string> separators;  // count
};

struct DamagedPage {
  uint32_t page = 0;
  std::string what;
};

struct PageTable {
  std::vector<PageClass> cls;  // by page number; [0, 2) unused
  std::map<uint32_t, LeafInfo> leaves;
  std::map<uint32_t, InternalInfo> internals;
  std::vector<DamagedPage> damaged;
  uint64_t zeroed = 0;
  uint64_t read = 0;      // data pages read
  uint64_t from_log = 0;  // of them, versions from the log
  uint64_t max_lsn = 0;   // the highest page LSN of a good page

  PageClass Class(uint64_t page) const { return page < cls.size() ? cls[page] : PageClass::kTail; }
  bool Unreadable(uint64_t page) const {
    return Class(page) == PageClass::kZeroed || Class(page) == PageClass::kDamaged;
  }
  // The node level of a valid leaf (0) or internal page; -1 otherwise.
  int Level(uint64_t page) const;
};

// Reads every page of [2, src.pages()) once and classifies it. A zero page
// is zeroed when it lies below the end of the pages in use (the highest
// page count a source names, the last page that is not zero, any page a
// good page links to), else the file's tail.
Status ScanPages(const PageSource& src, PageTable* table);

// ---- Trees (recover_trees.cc) ----

// The pages below one top page (a valid node page no valid internal page
// names as its child).
struct Fragment {
  uint32_t top = 0;
  std::vector<uint32_t> leaves;
  // Children its internal pages name that are not valid node pages of the
  // level below (unreadable ones, mostly), and their key ranges, from the
  // top's (-infinity, +infinity).
  std::vector<uint32_t> broken;
  KeyRanges holes;
};

enum class TreeKind { kDefault, kCatalog, kNamed, kLostFound };

struct TreePlan {
  TreeKind kind = TreeKind::kDefault;
  std::string name;
  std::vector<size_t> fragments;  // into Forest::fragments
  std::set<uint32_t> unreadable;  // its unreadable root, children and sibling leaves
  KeyRanges holes;                // key ranges under its fragments' broken links
  bool root_lost = false;         // a source names a root that is unreadable
  bool settled = false;           // its root is known (0: empty)
  bool rooted = false;            // a source names a root other than 0
  // No key range of it is known to lack its pages.
  bool Complete() const { return settled && !root_lost && unreadable.empty() && holes.empty(); }
};

struct Forest {
  std::vector<Fragment> fragments;
  std::vector<TreePlan> trees;       // default, catalog, named in name order, lost+found groups
  uint64_t attributed_by_links = 0;  // orphan leaves joined to a tree by sibling links
  uint64_t attributed_by_holes = 0;  // orphan leaves placed under a tree's unreadable page
  uint64_t attributed_whole = 0;     // orphan leaves of the one whole tree no source names
  uint64_t lost_found_leaves = 0;

  // The good leaves of `tree`'s fragments.
  std::vector<uint32_t> Leaves(const TreePlan& tree) const;
};

struct CatalogEntry {
  std::string name;
  uint32_t root = 0;
};
// The catalog entries the catalog tree's leaves hold (newest wins).
using CatalogReader =
    std::function<Status(const TreePlan& catalog, std::vector<CatalogEntry>* entries)>;

// Steps 1 to 3 of recover_trees.cc: every top and its fragment; the trees
// (the default tree, the catalog, each catalog entry) and the fragments
// they take; the orphans' trees, lost+found ones included.
Status BuildForest(const PageTable& table, const std::vector<RootSource>& roots,
                   const CatalogReader& read_catalog, Forest* forest);

// ---- Records (recover_records.cc) ----

struct LostValue {
  std::string key;
  uint64_t length = 0;
  uint32_t first_page = 0;
};

// What one tree gave.
struct TreeYield {
  uint64_t records = 0;     // taken
  uint64_t superseded = 0;  // dropped: inside a newer leaf's fences
  std::vector<LostValue> lost_values;
  KeyRanges covered;  // the fences of the leaves taken
};

// Visits the records of `leaves`, newest page LSN first; a record whose key
// lies inside the fences of a newer leaf already taken is dropped. An
// overflow value is read through the good pages; a broken chain loses the
// record (*yield names it). `put` gets each record taken.
using RecordSink = std::function<Status(std::string_view key, std::string_view value)>;
Status CollectRecords(const PageSource& src, const PageTable& table,
                      const std::vector<uint32_t>& leaves, const RecordSink& put, TreeYield* yield);

// OUT, a new database made through the public API (<sombra/db.h>):
// created (never opened when it exists), filled tree by tree in
// transactions of up to kBatchRecords records, then checkpointed, checked
// with DB::Verify and closed.
class OutDb {
 public:
  static constexpr uint64_t kBatchRecords = 10000;

  // InvalidArgument when `path` exists (DB::Open's error_if_exists).
  static Result<std::unique_ptr<OutDb>> Create(const std::string& path, uint32_t page_size);
  ~OutDb();

  // Commits the batch in progress and makes `name` ("" the default tree)
  // the tree Put writes to, creating it.
  Status UseTree(const std::string& name);
  Status Put(std::string_view key, std::string_view value);
  // Commits, checkpoints, verifies and closes. Corruption when DB::Verify
  // finds a problem.
  Status Finish();

 private:
  explicit OutDb(std::unique_ptr<DB> db);
  Status Commit();

  std::unique_ptr<DB> db_;
  Tree* tree_ = nullptr;
  std::unique_ptr<WriteTxn> txn_;
  uint64_t batch_ = 0;
};

// ---- The report (recover_report.cc) ----

struct TreeReport {
  const TreePlan* plan = nullptr;
  uint64_t leaf_pages = 0;
  TreeYield yield;
  std::vector<KeyRange> lost;  // key ranges no leaf taken covers
};

struct Report {
  std::string file;
  std::string out;
  Params params;
  const PageSource* src = nullptr;
  const PageTable* table = nullptr;
  const Forest* forest = nullptr;
  std::vector<TreeReport> trees;  // default, named, lost+found, then the catalog
  uint64_t records = 0;
  uint64_t superseded = 0;
  uint64_t values_lost = 0;
  uint64_t out_trees = 0;  // trees in OUT, the default one included

  // Nothing known lost: no unreadable page, no damaged meta page or log,
  // no range possibly lost, no value lost, no orphan in lost+found.
  bool Complete() const;
  std::string Summary() const;
};

void PrintReport(const Report& r, std::ostream& out);
void WriteReport(const Report& r, std::ostream& out);

// A key for the report: in double quotes, escaped as the sombra tool's dump
// format escapes it (docs/cli.md: \t, \n, \\, \xHH for other bytes outside
// 0x20..0x7e) and a double quote as \x22, so the text between the quotes
// unescapes as `sombra load` reads a key. `infinity` ("-infinity" or
// "+infinity") for an empty bound.
std::string ShowKey(std::string_view key, const char* infinity);

}  // namespace sombra::inspect::recover
