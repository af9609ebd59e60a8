// cli/tree_pages.cc: walking a tree to count its records and pages.
#include "cli/tree_pages.h"

#include "btree/btree.h"
#include "btree/catalog.h"
#include "btree/internal_node.h"
#include "btree/leaf_allocator.h"
#include "btree/node_format.h"
#include "pager/format.h"

namespace sombra::cli {

namespace {

// Visits every page of the tree rooted at `root` (0: empty) once, as
// btree::FreeTree does: internal pages and leaves are read, overflow
// chains counted from their length. `seen` catches a page reached twice
// (damage: a cycle or a page shared between trees).
Status MeasureTree(const btree::PageReader& read, uint32_t page_size, uint32_t root,
                   std::vector<bool>* seen, TreeSize* size) {
  const uint64_t capacity = page_size - btree::kOverflowDataOffset;
  std::vector<uint32_t> stack;
  if (root != 0) stack.push_back(root);
  while (!stack.empty()) {
    const uint32_t page_no = stack.back();
    stack.pop_back();
    const std::string where = "page " + std::to_string(page_no);
    if (page_no < pager::kFirstDataPage || page_no >= seen->size() || (*seen)[page_no]) {
      return Status::Corruption(where + " of tree \"" + size->name +
                                "\" is out of range or reached twice");
    }
    (*seen)[page_no] = true;
    SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, read(page_no));
    const uint8_t kind = page[pager::kHeaderKindOffset];
    ++size->pages;
    if (kind == static_cast<uint8_t>(pager::PageKind::kInternal)) {
      const btree::InternalNodeView node(page, page_size, nullptr);
      SOMBRA_RETURN_IF_ERROR(node.Validate().WithContext(where));
      for (size_t i = 0; i <= node.count(); ++i) stack.push_back(node.child(i));
      continue;
    }
    if (kind != static_cast<uint8_t>(pager::PageKind::kLeaf)) {
      return Status::Corruption(where + ": a " + pager::PageKindName(kind) + " page in tree \"" +
                                size->name + "\"");
    }
    auto layout = btree::LeafLayout::Parse(page, page_size, nullptr);
    if (!layout.ok()) return layout.status().WithContext(where);
    size->records += layout->size();
    for (size_t i = 0; i < layout->size(); ++i) {
      const btree::LeafRecordRef rec = layout->Record(page, i);
      if (!rec.overflow) continue;
      uint32_t first = 0;
      uint64_t len = 0;
      btree::DecodeOverflowRef(rec.value, &first, &len);
      size->pages += (len + capacity - 1) / capacity;
    }
  }
  return Status::OK();
}

}  // namespace

Status MeasureNamedTrees(const pager::Snapshot& snap, std::vector<TreeSize>* out) {
  out->clear();
  const pager::TreeState& st = snap.state();
  const btree::PageReader read = btree::SnapshotReader(&snap);
  // The catalog's cursor follows sibling links, which damage may close
  // into a cycle: a sound catalog is read in fewer reads than there are
  // pages.
  uint64_t reads = 0;
  const btree::PageReader bounded = [&](uint32_t page_no) -> Result<const uint8_t*> {
    if (++reads > st.page_count + 1) {
      return Status::Corruption("catalog: its leaves' sibling links loop");
    }
    return read(page_no);
  };
  std::vector<btree::CatalogEntry> entries;
  SOMBRA_RETURN_IF_ERROR(
      btree::ReadCatalog(bounded, snap.page_size(), st.page_count, st.catalog_root, &entries));
  std::vector<bool> seen(st.page_count, false);
  for (btree::CatalogEntry& e : entries) {
    TreeSize size;
    size.name = std::move(e.name);
    SOMBRA_RETURN_IF_ERROR(MeasureTree(read, snap.page_size(), e.root, &seen, &size));
    out->push_back(std::move(size));
  }
  return Status::OK();
}

}  // namespace sombra::cli
