// The catalog of named trees: codec, lookups, and freeing a whole tree.
#include "btree/catalog.h"

#include "btree/btree.h"
#include "btree/internal_node.h"
#include "btree/leaf_allocator.h"
#include "pager/format.h"
#include "util/coding.h"

namespace sombra::btree {

Status CheckTreeName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTreeNameSize) {
    return Status::InvalidArgument("tree name of " + std::to_string(name.size()) +
                                   " bytes: a tree name is 1 to " +
                                   std::to_string(kMaxTreeNameSize) + " bytes");
  }
  return Status::OK();
}

std::string EncodeCatalogValue(uint32_t root) {
  std::string v;
  PutFixed32(&v, root);
  PutFixed32(&v, 0);
  return v;
}

Status DecodeCatalogValue(std::string_view name, std::string_view value, uint64_t page_count,
                          uint32_t* root) {
  const auto* p = reinterpret_cast<const uint8_t*>(value.data());
  if (value.size() != kCatalogValueSize || DecodeFixed32(p + 4) != 0) {
    return Status::Corruption("catalog entry of tree \"" + std::string(name) +
                              "\": " + std::to_string(value.size()) +
                              " bytes, expected 8 with bytes [4, 8) zero");
  }
  const uint32_t r = DecodeFixed32(p);
  if (r != 0 && (r < pager::kFirstDataPage || r >= page_count)) {
    return Status::Corruption("catalog entry of tree \"" + std::string(name) + "\": root page " +
                              std::to_string(r) + " outside [2, page count " +
                              std::to_string(page_count) + ")");
  }
  *root = r;
  return Status::OK();
}

Status LookupTree(const PageReader& read, uint32_t page_size, uint64_t page_count,
                  uint32_t catalog_root, std::string_view name, uint32_t* root) {
  std::string value;
  SOMBRA_RETURN_IF_ERROR(TreeGet(read, page_size, catalog_root, name, &value, nullptr));
  return DecodeCatalogValue(name, value, page_count, root);
}

Status ReadCatalog(const PageReader& read, uint32_t page_size, uint64_t page_count,
                   uint32_t catalog_root, std::vector<CatalogEntry>* out) {
  out->clear();
  if (catalog_root == 0) return Status::OK();
  TreeCursor c(read, page_size, catalog_root, nullptr);
  for (c.SeekToFirst(); c.Valid(); c.Next()) {
    // Names strictly ascend: damaged sibling links that loop back are
    // caught here instead of read forever.
    if (!out->empty() && c.key() <= std::string_view(out->back().name)) {
      return Status::Corruption("catalog: tree name \"" + std::string(c.key()) +
                                "\" does not sort after \"" + out->back().name + "\"");
    }
    CatalogEntry e{std::string(c.key()), 0};
    SOMBRA_RETURN_IF_ERROR(DecodeCatalogValue(e.name, c.value(), page_count, &e.root));
    out->push_back(std::move(e));
  }
  return c.status();
}

namespace {

// The children of internal page `page_no` (copied out: freeing a page
// invalidates the view of it).
Status ChildrenOf(pager::PagerTxn* txn, uint32_t page_no, std::vector<uint32_t>* kids) {
  SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, txn->Read(page_no));
  const InternalNodeView node(page, txn->page_size(), nullptr);
  SOMBRA_RETURN_IF_ERROR(node.Validate().WithContext("page " + std::to_string(page_no)));
  for (size_t i = 0; i <= node.count(); ++i) kids->push_back(node.child(i));
  return Status::OK();
}

// The overflow chains a leaf names, as (first page, length).
Status ChainsOf(pager::PagerTxn* txn, uint32_t page_no,
                std::vector<std::pair<uint32_t, uint64_t>>* chains) {
  SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, txn->Read(page_no));
  auto layout = LeafLayout::Parse(page, txn->page_size(), nullptr);
  if (!layout.ok()) return layout.status().WithContext("page " + std::to_string(page_no));
  for (size_t i = 0; i < layout->size(); ++i) {
    const LeafRecordRef rec = layout->Record(page, i);
    if (!rec.overflow) continue;
    uint32_t first;
    uint64_t len;
    DecodeOverflowRef(rec.value, &first, &len);
    chains->emplace_back(first, len);
  }
  return Status::OK();
}

}  // namespace

Status FreeTree(pager::PagerTxn* txn, uint32_t root, FreedTree* out) {
  FreedTree ignored;
  FreedTree& freed = out != nullptr ? *out : ignored;
  std::vector<uint32_t> stack;
  if (root != 0) stack.push_back(root);
  std::vector<std::pair<uint32_t, uint64_t>> chains;
  while (!stack.empty()) {
    const uint32_t page_no = stack.back();
    stack.pop_back();
    SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, txn->Read(page_no));
    const uint8_t kind = page[pager::kHeaderKindOffset];
    if (kind == static_cast<uint8_t>(pager::PageKind::kInternal)) {
      SOMBRA_RETURN_IF_ERROR(ChildrenOf(txn, page_no, &stack));
    } else if (kind == static_cast<uint8_t>(pager::PageKind::kLeaf)) {
      freed.records += DecodeFixed16(page + kSlotCountOffset);
      if (freed.leaves != nullptr) freed.leaves->push_back(page_no);
      if ((page[pager::kHeaderFlagsOffset] & pager::kLeafFlagNoOverflow) == 0) {
        ++freed.leaves_decoded;
        chains.clear();
        SOMBRA_RETURN_IF_ERROR(ChainsOf(txn, page_no, &chains));
        for (const auto& [first, len] : chains) {
          SOMBRA_RETURN_IF_ERROR(FreeOverflow(txn, first, len));
          freed.pages += (len + txn->page_size() - kOverflowDataOffset - 1) /
                         (txn->page_size() - kOverflowDataOffset);
        }
      }
    } else {
      return Status::Corruption("page " + std::to_string(page_no) + ": a " +
                                pager::PageKindName(kind) + " page in a tree being dropped");
    }
    SOMBRA_RETURN_IF_ERROR(txn->Free(page_no));
    ++freed.pages;
  }
  return Status::OK();
}

}  // namespace sombra::btree
