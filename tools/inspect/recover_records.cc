// recover: the records of a tree, newest leaf first (docs/tools.md,
// "recover", "Newest wins"), and OUT, the database they go to.
#include <algorithm>
#include <map>

#include "btree/leaf_allocator.h"
#include "btree/overflow.h"
#include "inspect/recover.h"
#include "pager/format.h"

namespace sombra::inspect::recover {
namespace {

// The value of an overflow chain, read through the good pages only: each
// page must pass VerifyPage before ReadOverflow looks at it.
Status ReadChain(const PageSource& src, uint32_t first_page, uint64_t length, std::string* value) {
  std::map<uint32_t, std::vector<uint8_t>> pages;  // ReadOverflow keeps views of every page
  const btree::PageReader read = [&src, &pages](uint32_t page_no) -> Result<const uint8_t*> {
    auto it = pages.find(page_no);
    if (it != pages.end()) return static_cast<const uint8_t*>(it->second.data());
    std::vector<uint8_t> buf;
    SOMBRA_RETURN_IF_ERROR(src.Read(page_no, &buf));
    SOMBRA_RETURN_IF_ERROR(
        pager::VerifyPage(buf.data(), src.page_size(), page_no, src.salt(), src.path()));
    it = pages.emplace(page_no, std::move(buf)).first;
    return static_cast<const uint8_t*>(it->second.data());
  };
  return btree::ReadOverflow(read, src.page_size(), first_page, length, value);
}

// The records of one leaf not inside the fences of a newer leaf taken.
Status TakeLeaf(const PageSource& src, uint32_t page_no, std::vector<uint8_t>* buf,
                const RecordSink& put, TreeYield* yield) {
  SOMBRA_RETURN_IF_ERROR(src.Read(page_no, buf));
  Result<btree::LeafLayout> layout =
      btree::LeafLayout::Parse(buf->data(), src.page_size(), nullptr);
  if (!layout.ok()) return layout.status();  // it parsed when scanned
  std::string value;
  for (size_t i = 0; i < layout->size(); ++i) {
    const btree::LeafRecordRef r = layout->Record(buf->data(), i);
    if (yield->covered.Contains(r.key)) {
      ++yield->superseded;
      continue;
    }
    if (!r.overflow) {
      SOMBRA_RETURN_IF_ERROR(put(r.key, r.value));
      ++yield->records;
      continue;
    }
    uint32_t first = 0;
    uint64_t length = 0;
    btree::DecodeOverflowRef(r.value, &first, &length);
    if (!ReadChain(src, first, length, &value).ok()) {
      yield->lost_values.push_back({std::string(r.key), length, first});
      continue;
    }
    SOMBRA_RETURN_IF_ERROR(put(r.key, value));
    ++yield->records;
  }
  const std::string_view low = layout->low_fence(buf->data());
  const std::string_view high = layout->high_fence(buf->data());
  yield->covered.Add(low, high);
  return Status::OK();
}

}  // namespace

Status CollectRecords(const PageSource& src, const PageTable& table,
                      const std::vector<uint32_t>& leaves, const RecordSink& put,
                      TreeYield* yield) {
  std::vector<uint32_t> order = leaves;
  std::sort(order.begin(), order.end(), [&table](uint32_t a, uint32_t b) {
    const uint64_t la = table.leaves.at(a).lsn;
    const uint64_t lb = table.leaves.at(b).lsn;
    return la != lb ? la > lb : a < b;
  });
  std::vector<uint8_t> buf;
  for (uint32_t page : order) {
    SOMBRA_RETURN_IF_ERROR(TakeLeaf(src, page, &buf, put, yield));
  }
  return Status::OK();
}

Result<std::unique_ptr<OutDb>> OutDb::Create(const std::string& path, uint32_t page_size) {
  Options options;
  options.create_if_missing = true;
  options.error_if_exists = true;
  options.page_size = page_size;
  options.durability = Durability::kNormal;
  std::unique_ptr<DB> db;
  SOMBRA_RETURN_IF_ERROR(DB::Open(options, path, &db));
  return std::unique_ptr<OutDb>(new OutDb(std::move(db)));
}

OutDb::OutDb(std::unique_ptr<DB> db) : db_(std::move(db)) {}

OutDb::~OutDb() {
  if (txn_ != nullptr) txn_->Abort();
}

Status OutDb::Commit() {
  if (txn_ == nullptr) return Status::OK();
  Status s = txn_->Commit();
  txn_.reset();
  batch_ = 0;
  return s;
}

Status OutDb::UseTree(const std::string& name) {
  SOMBRA_RETURN_IF_ERROR(Commit());
  if (name.empty()) {
    tree_ = db_->DefaultTree();
    return Status::OK();
  }
  return db_->OpenTree(name, &tree_);
}

Status OutDb::Put(std::string_view key, std::string_view value) {
  if (txn_ == nullptr) SOMBRA_RETURN_IF_ERROR(db_->BeginWrite(&txn_));
  SOMBRA_RETURN_IF_ERROR(txn_->Put(tree_, key, value));
  if (++batch_ >= kBatchRecords) return Commit();
  return Status::OK();
}

Status OutDb::Finish() {
  SOMBRA_RETURN_IF_ERROR(Commit());
  SOMBRA_RETURN_IF_ERROR(db_->Checkpoint());
  SOMBRA_RETURN_IF_ERROR(db_->Verify());
  db_.reset();  // a clean close
  return Status::OK();
}

}  // namespace sombra::inspect::recover
