// sombra-inspect FILE stats: database-level statistics of the database as a
// reader sees it (the page file with its log replayed): sizes, sequence
// numbers, the tree's shape and fill, records and their key and value bytes.
//
// The tree is walked from the root, each page checked (pager::VerifyPage,
// then DecodeNode) before it is counted; a damaged page or a link already
// followed is counted as damaged and not descended into, so the numbers
// are then incomplete (exit 1). `verify` says what is wrong. The tree
// fields are the default tree's; the catalog and the named trees are
// walked after it (sharing its pages reached) and summed apart: "named
// pages" (the catalog's pages included) and "named records".
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "btree/node_format.h"
#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"
#include "inspect/tree_walker.h"
#include "util/coding.h"

namespace sombra::inspect {
namespace {

struct Stats {
  uint64_t wal_file_bytes = 0;
  uint32_t height = 0;
  uint64_t internal_pages = 0;
  uint64_t leaf_pages = 0;
  uint64_t overflow_pages = 0;
  uint64_t leaf_used = 0;
  uint64_t leaf_usable = 0;
  uint64_t records = 0;
  uint64_t overflow_values = 0;
  uint64_t key_bytes = 0;
  uint64_t value_bytes = 0;
  uint64_t overflow_value_bytes = 0;
  uint64_t damaged_pages = 0;
};

class StatsWalker {
 public:
  explicit StatsWalker(const InspectedFile& db) : db_(db), reached_(db.page_count(), false) {}

  Status Run() {
    std::error_code ec;
    const uintmax_t wal = std::filesystem::file_size(db_.path() + "-wal", ec);
    st_.wal_file_bytes = ec ? 0 : static_cast<uint64_t>(wal);
    SOMBRA_RETURN_IF_ERROR(WalkRoot(db_.state().root, &st_));
    // The catalog and the named trees it lists.
    std::vector<btree::CatalogEntry> entries;
    Status s = ReadInspectedCatalog(db_, &entries);
    if (!s.ok() && !s.IsCorruption()) return s;
    if (!s.ok()) ++named_.damaged_pages;  // its entries are incomplete
    SOMBRA_RETURN_IF_ERROR(WalkRoot(db_.state().catalog_root, &catalog_));
    named_trees_ = entries.size();
    for (const btree::CatalogEntry& e : entries) SOMBRA_RETURN_IF_ERROR(WalkRoot(e.root, &named_));
    return Status::OK();
  }

  const Stats& stats() const { return st_; }
  // The catalog and the named trees: their pages and records.
  const Stats& named() const { return named_; }
  uint64_t named_trees() const { return named_trees_; }
  // The catalog's own pages (its records are the named trees).
  const Stats& catalog() const { return catalog_; }
  uint64_t damaged_pages() const {
    return st_.damaged_pages + named_.damaged_pages + catalog_.damaged_pages;
  }

 private:
  // Walks the tree rooted at `root` (0: empty) into *into.
  Status WalkRoot(uint32_t root, Stats* into) {
    if (root == 0) return Status::OK();
    cur_ = into;
    std::vector<uint32_t> current = {root};
    std::vector<uint32_t> next;
    bool at_root = true;
    while (!current.empty()) {
      next.clear();
      for (uint32_t page_no : current) SOMBRA_RETURN_IF_ERROR(Visit(page_no, at_root, &next));
      at_root = false;
      current.swap(next);
    }
    return Status::OK();
  }

  // Marks `page` reached; false (and counted damaged) when it is out of
  // range or was reached before.
  bool Reach(uint64_t page) {
    if (page < pager::kFirstDataPage || page >= reached_.size() || reached_[page]) {
      ++cur_->damaged_pages;
      return false;
    }
    reached_[page] = true;
    return true;
  }

  // Reads and checks `page_no`; false when it is not a valid page.
  Status Read(uint32_t page_no, bool* ok) {
    bool complete = false;
    SOMBRA_RETURN_IF_ERROR(db_.ReadPage(page_no, &page_, &complete));
    *ok =
        complete &&
        pager::VerifyPage(page_.data(), db_.page_size(), page_no, db_.meta().salt, db_.path()).ok();
    if (!*ok) ++cur_->damaged_pages;
    return Status::OK();
  }

  Status Visit(uint32_t page_no, bool root, std::vector<uint32_t>* next) {
    if (!Reach(page_no)) return Status::OK();
    bool ok = false;
    SOMBRA_RETURN_IF_ERROR(Read(page_no, &ok));
    if (!ok) return Status::OK();
    const uint8_t kind = page_[pager::kHeaderKindOffset];
    const bool leaf = kind == static_cast<uint8_t>(pager::PageKind::kLeaf);
    if (!leaf && kind != static_cast<uint8_t>(pager::PageKind::kInternal)) {
      ++cur_->damaged_pages;
      return Status::OK();
    }
    const NodeInfo n = DecodeNode(page_.data(), db_.page_size());
    if (!n.layout.ok()) {
      ++cur_->damaged_pages;
      return Status::OK();
    }
    if (root) cur_->height = (leaf ? 0u : n.level) + 1u;
    if (!leaf) {
      ++cur_->internal_pages;
      next->push_back(n.right);  // the leftmost child
      for (const NodeRecord& r : n.records) next->push_back(r.child);
      return Status::OK();
    }
    ++cur_->leaf_pages;
    cur_->leaf_used += n.used_bytes;
    cur_->leaf_usable += n.usable_bytes;
    for (const NodeRecord& r : n.records) {
      ++cur_->records;
      cur_->key_bytes += r.key.size();
      cur_->value_bytes += r.value_length;
      if (r.overflow) {
        ++cur_->overflow_values;
        cur_->overflow_value_bytes += r.value_length;
        SOMBRA_RETURN_IF_ERROR(CountChain(r.first_page, r.value_length));
      }
    }
    return Status::OK();
  }

  // The pages of one overflow chain, at most as many as its value needs.
  Status CountChain(uint32_t first, uint64_t value_length) {
    const uint64_t capacity = db_.page_size() - btree::kOverflowDataOffset;
    const uint64_t max_pages = value_length / capacity + 1;
    uint32_t page_no = first;
    for (uint64_t k = 0; k < max_pages && page_no != 0; ++k) {
      if (!Reach(page_no)) return Status::OK();
      bool ok = false;
      SOMBRA_RETURN_IF_ERROR(Read(page_no, &ok));
      if (!ok) return Status::OK();
      if (page_[pager::kHeaderKindOffset] != static_cast<uint8_t>(pager::PageKind::kOverflow)) {
        ++cur_->damaged_pages;
        return Status::OK();
      }
      ++cur_->overflow_pages;
      page_no = DecodeFixed32(page_.data() + btree::kOverflowNextOffset);
    }
    return Status::OK();
  }

  const InspectedFile& db_;
  std::vector<bool> reached_;
  std::vector<uint8_t> page_;
  Stats st_;
  Stats named_;
  Stats catalog_;
  uint64_t named_trees_ = 0;
  Stats* cur_ = &st_;  // the walk in progress counts here
};

}  // namespace

namespace {

uint64_t Pages(const Stats& st) { return st.internal_pages + st.leaf_pages + st.overflow_pages; }

// The catalog's pages and the named trees'.
uint64_t NamedPages(const StatsWalker& w) { return Pages(w.named()) + Pages(w.catalog()); }

void PrintJson(const InspectedFile& db, const StatsWalker& w, std::ostream& out) {
  const Stats& st = w.stats();
  const pager::TreeState& state = db.state();
  JsonWriter json(out);
  json.BeginObject();
  json.Field("command", "stats");
  json.Field("file", db.path());
  json.BoolField("live", db.live());
  json.Field("page_size", uint64_t{db.page_size()});
  json.Field("page_count", state.page_count);
  json.Field("free_pages", state.freelist_count);
  json.Field("file_bytes", db.file_size());
  json.Field("wal_file_bytes", st.wal_file_bytes);
  json.Field("checkpoint_seq", db.meta().checkpoint_seq);
  json.Field("checkpoint_lsn", db.meta().checkpoint_lsn);
  json.Field("last_lsn", state.lsn);
  json.Field("log_transactions", db.log_transactions());
  json.Field("root", uint64_t{state.root});
  json.Field("tree_height", uint64_t{st.height});
  json.Field("internal_pages", st.internal_pages);
  json.Field("leaf_pages", st.leaf_pages);
  json.Field("overflow_pages", st.overflow_pages);
  json.Field("leaf_used_bytes", st.leaf_used);
  json.Field("leaf_usable_bytes", st.leaf_usable);
  json.Field("average_leaf_fill", FillText(st.leaf_used, st.leaf_usable));
  json.Field("records", st.records);
  json.Field("overflow_values", st.overflow_values);
  json.Field("key_bytes", st.key_bytes);
  json.Field("value_bytes", st.value_bytes);
  json.Field("overflow_value_bytes", st.overflow_value_bytes);
  json.Field("catalog_root", uint64_t{state.catalog_root});
  json.Field("named_trees", w.named_trees());
  json.Field("named_tree_pages", NamedPages(w));
  json.Field("named_tree_records", w.named().records);
  json.Field("damaged_pages", w.damaged_pages());
  json.BoolField("complete", w.damaged_pages() == 0);
  json.EndObject();
  out << '\n';
}

void PrintText(const InspectedFile& db, const StatsWalker& w, std::ostream& out) {
  const Stats& st = w.stats();
  const pager::TreeState& state = db.state();
  out << "stats of " << db.path() << '\n';
  PrintField(out, "page size", std::to_string(db.page_size()));
  PrintField(out, "page count", std::to_string(state.page_count));
  PrintField(out, "free pages", std::to_string(state.freelist_count));
  PrintField(out, "file bytes", std::to_string(db.file_size()));
  PrintField(out, "wal file bytes", std::to_string(st.wal_file_bytes));
  PrintField(out, "checkpoint seq", std::to_string(db.meta().checkpoint_seq));
  PrintField(out, "checkpoint lsn", std::to_string(db.meta().checkpoint_lsn));
  PrintField(out, "last lsn", std::to_string(state.lsn));
  PrintField(out, "log transactions", std::to_string(db.log_transactions()));
  PrintField(out, "root", std::to_string(state.root));
  PrintField(out, "tree height", std::to_string(st.height));
  PrintField(out, "internal pages", std::to_string(st.internal_pages));
  PrintField(out, "leaf pages", std::to_string(st.leaf_pages));
  PrintField(out, "overflow pages", std::to_string(st.overflow_pages));
  PrintField(out, "average leaf fill", FillText(st.leaf_used, st.leaf_usable));
  PrintField(out, "records", std::to_string(st.records));
  PrintField(out, "overflow values", std::to_string(st.overflow_values));
  PrintField(out, "key bytes", std::to_string(st.key_bytes));
  PrintField(out, "value bytes", std::to_string(st.value_bytes));
  PrintField(out, "overflow bytes", std::to_string(st.overflow_value_bytes));
  if (state.catalog_root != 0) {
    PrintField(out, "catalog root", std::to_string(state.catalog_root));
    PrintField(out, "named trees", std::to_string(w.named_trees()));
    PrintField(out, "named pages", std::to_string(NamedPages(w)));
    PrintField(out, "named records", std::to_string(w.named().records));
  }
  PrintField(out, "damaged pages", std::to_string(w.damaged_pages()));
  if (w.damaged_pages() != 0) out << "incomplete: damaged pages were skipped (see verify)\n";
}

}  // namespace

int RunStats(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err) {
  StatsWalker w(db);
  Status s = w.Run();
  if (!s.ok()) return PrintError(err, s.message());
  if (flags.json) {
    PrintJson(db, w, out);
  } else {
    PrintText(db, w, out);
  }
  return w.damaged_pages() == 0 ? kExitOk : kExitCheckFailed;
}

}  // namespace sombra::inspect
