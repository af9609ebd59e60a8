// inspect/inspect_internal.h: pieces shared by the sombra-inspect commands.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "env/env.h"
#include "pager/format.h"
#include "pager/meta.h"
#include "pager/pager.h"
#include "pager/snapshot.h"
#include "sombra/status.h"
#include "util/result.h"

namespace sombra::inspect {

class JsonWriter;

struct Flags {
  bool json = false;
  bool hex = true;                    // page: show the hex dump
  bool verbose = false;               // tree: one line per page
  std::optional<std::string> tree;    // tree --tree NAME: a named tree
  std::optional<uint32_t> page_size;  // recover --page-size N
};

// A database file opened for inspection: read-only, its newest valid meta
// page chosen, and checked to be long enough for the pages that meta counts.
//
// The database is seen as a reader would see it: the page file with the
// committed transactions of its log (FILE-wal) replayed in memory by a
// read-only pager::Pager (no lock taken; the page file and the log are
// never written). Pages changed since the last checkpoint come from the
// log; every other page from the file. When the log cannot be replayed
// (damaged past salvage) the page file alone is shown and log_note() says
// why.
//
// A live database (a writer in another process has it open): the pager
// registers its snapshot in the shared reader table `FILE-shm`
// (docs/design/readers.md), so the writer's checkpoints never rewrite a
// page the snapshot reads and every data page is read through it. The
// meta pages, which the writer's checkpoints do rewrite, are read until
// they settle (pager::ReadSettledMetas, as DB::Verify reads them) and
// kept: ReadPage(0 or 1) returns them as choice() was made from them.
// The pager's read-only open reads the log again itself when the writer
// truncates or restarts it under the reading. live() says when a writer
// had the database open.
//
// Invariants:
//  1. The meta page in force counts meta().page_count pages, all in the
//     file at open time.
//  2. state() is the meta's tree state, or the last replayed commit's (the
//     snapshot's); page_count() >= meta().page_count.
//  3. ReadPage of a data page returns the snapshot's page whenever there is
//     a snapshot, so no write of a writer elsewhere shows through.
class InspectedFile {
 public:
  // Errors (all meant for a one-line message): NotFound for a missing
  // path; InvalidArgument for a directory, a special file or a file that is
  // not a Sombra database; Corruption when no meta page is valid or the file
  // is shorter than its meta says; NotSupported for a newer format.
  static Result<std::unique_ptr<InspectedFile>> Open(const std::string& path);
  ~InspectedFile();

  const std::string& path() const { return path_; }
  const pager::MetaChoice& choice() const { return choice_; }
  // The meta page in force in the page file.
  const pager::Meta& meta() const { return choice_.meta; }
  // The database after the log: root, freelist, page count, last LSN.
  const pager::TreeState& state() const { return state_; }
  uint32_t page_size() const { return choice_.meta.page_size; }
  uint64_t page_count() const { return state_.page_count; }
  uint64_t file_size() const { return file_size_; }
  // Committed transactions replayed from the log (0 without a log).
  uint64_t log_transactions() const { return log_transactions_; }
  // Why the log was not replayed, or was replayed only up to damage; "" when
  // it was replayed whole (or there is none).
  const std::string& log_note() const { return log_note_; }
  // True when log_note() reports damage to a committed transaction.
  bool log_damaged() const { return log_damaged_; }
  // The read-only view the tree rules of btree::VerifyDatabase run on; null
  // when the log could not be replayed. Checksums are not verified by its
  // reads.
  const pager::Snapshot* snapshot() const { return snapshot_.get(); }

  // True when a writer had the database open when it was read (the pager
  // saw one at open or at its snapshot, or one holds the writer's mark in
  // FILE-shm now).
  bool live() const { return live_; }
  // "live: a writer has this database open; read at LSN N (snapshot)",
  // without a newline; the commands print it first (text) and set "live"
  // (JSON).
  std::string LiveNote() const;

  // Reads page `page_no` as the database sees it into `buf` (resized to
  // page_size()). Sets *complete to whether the whole page was read (false
  // when the file shrank), and *from_log (when not null) to whether the
  // page came from the log. A page from the log is sealed with the
  // database's salt, as the checkpoint will write it. Meta pages always
  // come from the file, as read when choice() was made.
  Status ReadPage(uint64_t page_no, std::vector<uint8_t>* buf, bool* complete,
                  bool* from_log = nullptr) const;

 private:
  InspectedFile(std::string path, std::unique_ptr<File> file, pager::MetaChoice choice,
                uint64_t file_size);
  // Opens the read-only pager and takes a snapshot; failures become
  // log_note_.
  void ReplayLog();
  // Reads both meta pages again (choice_ and meta_pages_) with
  // pager::ReadSettledMetas: a torn read of a meta page a writer's
  // checkpoint is writing is read again, not reported.
  void SettleMetas();

  std::string path_;
  std::unique_ptr<File> file_;
  pager::MetaChoice choice_;
  uint64_t file_size_;
  pager::TreeState state_;
  uint64_t log_transactions_ = 0;
  std::string log_note_;
  bool log_damaged_ = false;
  std::unique_ptr<pager::Pager> pager_;  // outlives snapshot_
  std::unique_ptr<pager::Snapshot> snapshot_;
  bool live_ = false;
  // Meta pages 0 and 1 as read when choice_ was made (page_size() bytes
  // each, fewer when the file is shorter).
  std::vector<uint8_t> meta_pages_[2];
};

// The fields of a meta page as stored, whether or not the page is valid.
struct RawMeta {
  bool magic_ok = false;
  uint32_t version = 0;
  uint32_t page_size = 0;
  uint64_t salt = 0;
  uint64_t page_count = 0;
  uint32_t root = 0;
  uint32_t freelist_head = 0;
  uint64_t freelist_count = 0;
  uint64_t checkpoint_seq = 0;
  uint64_t checkpoint_lsn = 0;
  uint32_t catalog_root = 0;  // bytes [88, 92): zero in a format-3 page
  uint64_t checksum = 0;
};
// REQUIRES: `page` holds at least pager::kMetaEndOffset bytes.
RawMeta DecodeRawMeta(const uint8_t* page);

// Prints the meta fields as "label: value" lines indented by `indent`
// spaces (text) or as keys of the current JSON object.
void PrintRawMeta(const RawMeta& m, std::ostream& out, int indent = 2);
void WriteRawMeta(const RawMeta& m, JsonWriter* json);

using pager::StripWhere;  // pager/format.h

// `indent` spaces, "label:" padded to a fixed column, then the value.
void PrintField(std::ostream& out, std::string_view label, std::string_view value, int indent = 2);

// ---- B+tree pages (btree_page.cc; docs/format/page.md) ----

// Bytes for a person: in double quotes (with \" and \\ escaped) when every
// byte is printable ASCII, else "0x" and lowercase hex. "" for no bytes.
std::string ShowBytes(std::string_view bytes);
// The same as a JSON object: {"hex": ..., "text": ...}, "text" only when
// every byte is printable ASCII.
void WriteBytes(std::string_view bytes, JsonWriter* json);
// A fence: null when empty (infinite), else WriteBytes.
void WriteFence(std::string_view fence, JsonWriter* json);
// used / usable as a percentage with one decimal ("97.3%"); "-" for 0 usable.
std::string FillText(uint64_t used, uint64_t usable);

// How many bytes of an inline value the page command shows.
constexpr size_t kValuePreview = 32;

struct NodeSlot {
  uint32_t offset;
  uint32_t length;
  uint32_t head;  // as stored: KeyHead of the key
};

struct NodeRecord {
  std::string key;            // the leaf key, or the separator
  uint64_t value_length = 0;  // leaf
  bool overflow = false;      // leaf: the value is in an overflow chain
  uint32_t first_page = 0;    // leaf, overflow: the chain's first page
  std::string preview;        // leaf, inline: the value's first kValuePreview bytes
  uint32_t child = 0;         // internal: the child right of the separator
};

// A leaf (kind 3) or internal (kind 4) page decoded. The header fields are
// as stored; the fields after `layout` are set only when layout is OK.
struct NodeInfo {
  bool leaf = false;  // else internal
  uint16_t count = 0;
  uint16_t level = 0;
  uint32_t free_start = 0;
  uint32_t free_end = 0;
  uint32_t hole_bytes = 0;
  uint32_t left = 0;   // leaf: left sibling
  uint32_t right = 0;  // leaf: right sibling; internal: leftmost child
  uint16_t low_len = 0;
  uint16_t high_len = 0;
  uint32_t usable_bytes = 0;  // page_size - the node header, the writer's measure
  // LeafLayout::Parse or InternalNode::Validate; its message as
  // they wrote it.
  Status layout;
  uint32_t arena_start = 0;
  uint32_t used_bytes = 0;  // records and slots
  std::string low_fence;    // leaf; empty: -infinity
  std::string high_fence;   // leaf; empty: +infinity
  std::vector<NodeSlot> slots;
  std::vector<NodeRecord> records;
  std::vector<std::pair<uint32_t, uint32_t>> holes;  // [begin, end), address order
};

// REQUIRES: `page` holds page_size bytes (a valid page size) and its kind
// byte is leaf or internal.
NodeInfo DecodeNode(const uint8_t* page, uint32_t page_size);

// Leaf, internal or overflow.
bool IsBtreeKind(uint8_t kind);
// The page command's lines (text) or fields (JSON: "node" or "overflow")
// for a page of a B+tree kind; nothing for other kinds.
void PrintBtreePage(const uint8_t* page, uint32_t page_size, std::ostream& out);
void WriteBtreePage(const uint8_t* page, uint32_t page_size, JsonWriter* json);

int RunMeta(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err);
// `meta` of a file InspectedFile::Open refused with Corruption (no valid
// meta page, or shorter than its meta says): both meta pages as stored,
// each with why it is not valid; exit 1 (meta_damaged.cc).
int RunMetaDamaged(const std::string& path, const Status& open_error, const Flags& flags,
                   std::ostream& out, std::ostream& err);
int RunPage(const InspectedFile& db, uint32_t page_no, const Flags& flags, std::ostream& out,
            std::ostream& err);
int RunVerify(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err);
// The B+tree from the root of the meta page in force (or, with
// flags.tree, of that named tree in the catalog). Exit 1 when a page of a
// tree, an overflow chain or the freelist is damaged; 2 when there is no
// such named tree.
int RunTree(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err);
// Every entry of the catalog of named trees: name, root, height, pages and
// records. Exit 1 when the catalog or a tree is damaged.
int RunCatalog(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err);
// The write-ahead log `db_path`-wal; db_path need not be a valid page file.
// Exit 1 when recovery would refuse the log (a synced transaction is damaged).
// The freelist chain from the head in state(), checked against its count.
// Exit 1 when the chain is broken or its length differs from the count.
int RunFreelist(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err);
// Database-level statistics. Exit 1 when damaged pages left them
// incomplete.
int RunStats(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err);
int RunWal(const std::string& db_path, const Flags& flags, std::ostream& out, std::ostream& err);
// The records of every good leaf page of `db_path` (and of its log's
// committed transactions), newest first, into the new database `out_path`
// (recover.h; docs/tools.md, "recover"); db_path need not have a valid meta
// page. Exit 1 when something is known lost; 2 when nothing could be read
// (no salt), OUT exists, or writing OUT failed.
int RunRecover(const std::string& db_path, const std::string& out_path, const Flags& flags,
               std::ostream& out, std::ostream& err);

// Writes "sombra-inspect: <message>" as exactly one line (control
// characters in the message are escaped) and returns kExitError.
int PrintError(std::ostream& err, std::string_view message);

}  // namespace sombra::inspect
