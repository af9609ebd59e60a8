// sombra-inspect FILE stats: database-level statistics of the database as a
// reader sees it (the page file with its log replayed): sizes, sequence
// numbers, the tree's shape and fill, records and their key and value bytes.
//
// The tree is walked from the root, each page checked (pager::VerifyPage,
// then DecodeNode) before it is counted; a damaged page or a link already
// followed is counted as damaged and not descended into, so the numbers
// are then incomplete (exit 1). `verify` says what is wrong.
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "btree/node_format.h"
#include "inspect/inspect.h"
#include "inspect/inspect_internal.h"
#include "inspect/json_writer.h"
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
    const uint32_t root = db_.state().root;
    if (root == 0) return Status::OK();
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

  const Stats& stats() const { return st_; }

 private:
  // Marks `page` reached; false (and counted damaged) when it is out of
  // range or was reached before.
  bool Reach(uint64_t page) {
    if (page < pager::kFirstDataPage || page >= reached_.size() || reached_[page]) {
      ++st_.damaged_pages;
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
    if (!*ok) ++st_.damaged_pages;
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
      ++st_.damaged_pages;
      return Status::OK();
    }
    const NodeInfo n = DecodeNode(page_.data(), db_.page_size());
    if (!n.layout.ok()) {
      ++st_.damaged_pages;
      return Status::OK();
    }
    if (root) st_.height = (leaf ? 0u : n.level) + 1u;
    if (!leaf) {
      ++st_.internal_pages;
      next->push_back(n.right);  // the leftmost child
      for (const NodeRecord& r : n.records) next->push_back(r.child);
      return Status::OK();
    }
    ++st_.leaf_pages;
    st_.leaf_used += n.used_bytes;
    st_.leaf_usable += n.usable_bytes;
    for (const NodeRecord& r : n.records) {
      ++st_.records;
      st_.key_bytes += r.key.size();
      st_.value_bytes += r.value_length;
      if (r.overflow) {
        ++st_.overflow_values;
        st_.overflow_value_bytes += r.value_length;
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
        ++st_.damaged_pages;
        return Status::OK();
      }
      ++st_.overflow_pages;
      page_no = DecodeFixed32(page_.data() + btree::kOverflowNextOffset);
    }
    return Status::OK();
  }

  const InspectedFile& db_;
  std::vector<bool> reached_;
  std::vector<uint8_t> page_;
  Stats st_;
};

}  // namespace

int RunStats(const InspectedFile& db, const Flags& flags, std::ostream& out, std::ostream& err) {
  StatsWalker w(db);
  Status s = w.Run();
  if (!s.ok()) return PrintError(err, s.message());
  const Stats& st = w.stats();
  const pager::TreeState& state = db.state();
  const std::string fill = FillText(st.leaf_used, st.leaf_usable);
  if (flags.json) {
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
    json.Field("average_leaf_fill", fill);
    json.Field("records", st.records);
    json.Field("overflow_values", st.overflow_values);
    json.Field("key_bytes", st.key_bytes);
    json.Field("value_bytes", st.value_bytes);
    json.Field("overflow_value_bytes", st.overflow_value_bytes);
    json.Field("damaged_pages", st.damaged_pages);
    json.BoolField("complete", st.damaged_pages == 0);
    json.EndObject();
    out << '\n';
  } else {
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
    PrintField(out, "average leaf fill", fill);
    PrintField(out, "records", std::to_string(st.records));
    PrintField(out, "overflow values", std::to_string(st.overflow_values));
    PrintField(out, "key bytes", std::to_string(st.key_bytes));
    PrintField(out, "value bytes", std::to_string(st.value_bytes));
    PrintField(out, "overflow bytes", std::to_string(st.overflow_value_bytes));
    PrintField(out, "damaged pages", std::to_string(st.damaged_pages));
    if (st.damaged_pages != 0) out << "incomplete: damaged pages were skipped (see verify)\n";
  }
  return st.damaged_pages == 0 ? kExitOk : kExitCheckFailed;
}

}  // namespace sombra::inspect
