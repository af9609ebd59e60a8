// btree/tree_copy.cc: PlanCopy and CopyPage (tree_copy.h).
#include "btree/tree_copy.h"

#include <cstring>
#include <string>

#include "btree/catalog.h"
#include "btree/internal_node.h"
#include "btree/leaf_allocator.h"
#include "btree/node_format.h"
#include "pager/format.h"
#include "util/coding.h"

namespace sombra::btree {
namespace {

using Role = CopyPlan::Role;

std::string PageName(uint32_t page_no) { return "page " + std::to_string(page_no); }

class Planner {
 public:
  Planner(const PageReader& read, uint32_t page_size, uint64_t page_count, CopyPlan* plan)
      : read_(read), ps_(page_size), page_count_(page_count), plan_(plan) {}

  // Numbers the tree rooted at `root` (0: none); a catalog's entries name
  // the named trees, gathered into named_roots_.
  Status Tree(uint32_t root, Role role) {
    if (root == 0) return Status::OK();
    std::vector<uint32_t> stack = {root};
    while (!stack.empty()) {
      const uint32_t page_no = stack.back();
      stack.pop_back();
      SOMBRA_RETURN_IF_ERROR(Number(page_no, role));
      SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, read_(page_no));
      const uint8_t kind = page[pager::kHeaderKindOffset];
      if (kind == static_cast<uint8_t>(pager::PageKind::kInternal)) {
        const InternalNodeView node(page, ps_, nullptr);
        SOMBRA_RETURN_IF_ERROR(node.Validate().WithContext(PageName(page_no)));
        // Children pushed right to left: numbered left to right, depth first.
        for (size_t i = node.count() + 1; i-- > 0;) stack.push_back(node.child(i));
      } else if (kind == static_cast<uint8_t>(pager::PageKind::kLeaf)) {
        SOMBRA_RETURN_IF_ERROR(Leaf(page_no, page, role));
      } else {
        return Status::Corruption(PageName(page_no) + ": a " + pager::PageKindName(kind) +
                                  " page inside a tree");
      }
    }
    return Status::OK();
  }

  std::vector<uint32_t> named_roots_;

 private:
  Status Number(uint32_t page_no, Role role) {
    if (page_no < pager::kFirstDataPage || page_no >= page_count_) {
      return Status::Corruption(PageName(page_no) + " is outside [2, page count " +
                                std::to_string(page_count_) + ")");
    }
    const auto copy_no = static_cast<uint32_t>(plan_->pages.size() + pager::kFirstDataPage);
    if (!plan_->renumber.emplace(page_no, copy_no).second) {
      return Status::Corruption(PageName(page_no) + " is reached twice");
    }
    plan_->pages.push_back(page_no);
    plan_->roles.push_back(role);
    return Status::OK();
  }

  Status Leaf(uint32_t page_no, const uint8_t* page, Role role) {
    const bool no_overflow = (page[pager::kHeaderFlagsOffset] & pager::kLeafFlagNoOverflow) != 0;
    if (no_overflow && role != Role::kCatalog) return Status::OK();
    auto layout = LeafLayout::Parse(page, ps_, nullptr);
    if (!layout.ok()) return layout.status().WithContext(PageName(page_no));
    for (size_t i = 0; i < layout->size(); ++i) {
      const LeafRecordRef rec = layout->Record(page, i);
      if (role == Role::kCatalog) {
        uint32_t root = 0;
        SOMBRA_RETURN_IF_ERROR(
            DecodeCatalogValue(std::string(rec.key), rec.value, page_count_, &root));
        if (root != 0) named_roots_.push_back(root);
      } else if (rec.overflow) {
        uint32_t first = 0;
        uint64_t len = 0;
        DecodeOverflowRef(rec.value, &first, &len);
        SOMBRA_RETURN_IF_ERROR(Chain(first, len).WithContext(PageName(page_no)));
      }
    }
    return Status::OK();
  }

  // The pages of an overflow chain of `len` bytes from `first`.
  Status Chain(uint32_t first, uint64_t len) {
    const uint64_t per_page = ps_ - kOverflowDataOffset;
    uint64_t left = len;
    uint32_t page_no = first;
    do {
      SOMBRA_RETURN_IF_ERROR(Number(page_no, Role::kOverflow));
      SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, read_(page_no));
      if (page[pager::kHeaderKindOffset] != static_cast<uint8_t>(pager::PageKind::kOverflow)) {
        return Status::Corruption("overflow chain from page " + std::to_string(first) + ": " +
                                  PageName(page_no) + " is a " +
                                  pager::PageKindName(page[pager::kHeaderKindOffset]) + " page");
      }
      const uint32_t used = DecodeFixed32(page + kOverflowUsedOffset);
      if (used > per_page || used > left) {
        return Status::Corruption("overflow chain from page " + std::to_string(first) + ": " +
                                  PageName(page_no) + " says it holds " + std::to_string(used) +
                                  " bytes");
      }
      left -= used;
      page_no = DecodeFixed32(page + kOverflowNextOffset);
    } while (page_no != 0);
    if (left != 0) {
      return Status::Corruption("overflow chain from page " + std::to_string(first) + " ends " +
                                std::to_string(left) + " bytes short");
    }
    return Status::OK();
  }

  const PageReader& read_;
  const uint32_t ps_;
  const uint64_t page_count_;
  CopyPlan* plan_;
};

uint32_t Renumbered(const CopyPlan& plan, uint32_t page_no) {
  if (page_no == 0) return 0;
  auto it = plan.renumber.find(page_no);
  return it == plan.renumber.end() ? 0 : it->second;
}

// The page numbers inside a leaf: siblings, overflow references, and a
// catalog leaf's tree roots.
Status RenumberLeaf(const PageRenumber& map, Role role, uint32_t page_size, uint8_t* out) {
  for (size_t off : {kLeftOffset, kRightOffset}) {
    if (const uint32_t p = DecodeFixed32(out + off); p != 0) EncodeFixed32(out + off, map(p));
  }
  const bool no_overflow = (out[pager::kHeaderFlagsOffset] & pager::kLeafFlagNoOverflow) != 0;
  if (no_overflow && role != Role::kCatalog) return Status::OK();
  auto layout = LeafLayout::Parse(out, page_size, nullptr);
  if (!layout.ok()) return layout.status();
  for (size_t i = 0; i < layout->size(); ++i) {
    const LeafRecordRef rec = layout->Record(out, i);
    // A tree root in a catalog entry, or an overflow chain's first page:
    // the first 4 bytes of the value either way.
    if (role != Role::kCatalog && !rec.overflow) continue;
    auto* at = out + (reinterpret_cast<const uint8_t*>(rec.value.data()) - out);
    if (const uint32_t p = DecodeFixed32(at); p != 0) EncodeFixed32(at, map(p));
  }
  return Status::OK();
}

}  // namespace

Status PlanCopy(const PageReader& read, uint32_t page_size, uint64_t page_count, uint32_t root,
                uint32_t catalog_root, CopyPlan* plan) {
  *plan = CopyPlan{};
  Planner planner(read, page_size, page_count, plan);
  SOMBRA_RETURN_IF_ERROR(planner.Tree(root, Role::kTree));
  SOMBRA_RETURN_IF_ERROR(planner.Tree(catalog_root, Role::kCatalog));
  for (uint32_t named : planner.named_roots_) {
    SOMBRA_RETURN_IF_ERROR(planner.Tree(named, Role::kTree));
  }
  plan->root = Renumbered(*plan, root);
  plan->catalog_root = Renumbered(*plan, catalog_root);
  return Status::OK();
}

Status RenumberPage(const PageRenumber& map, CopyPlan::Role role, uint32_t page_size,
                    uint8_t* page) {
  if (role == Role::kOverflow) {
    if (const uint32_t next = DecodeFixed32(page + kOverflowNextOffset); next != 0) {
      EncodeFixed32(page + kOverflowNextOffset, map(next));
    }
  } else if (page[pager::kHeaderKindOffset] == static_cast<uint8_t>(pager::PageKind::kInternal)) {
    InternalNode node(page, page_size, nullptr, nullptr);
    for (size_t c = 0; c <= node.count(); ++c) node.SetChild(c, map(node.child(c)));
  } else {
    SOMBRA_RETURN_IF_ERROR(RenumberLeaf(map, role, page_size, page));
  }
  return Status::OK();
}

Status CopyPage(const CopyPlan& plan, size_t i, const uint8_t* src, uint32_t page_size,
                uint64_t salt, uint8_t* out) {
  std::memcpy(out, src, page_size);
  const auto copy_no = static_cast<uint32_t>(i + pager::kFirstDataPage);
  const std::string where =
      "page " + std::to_string(plan.pages[i]) + " (copy page " + std::to_string(copy_no) + ")";
  const PageRenumber map = [&plan](uint32_t p) { return Renumbered(plan, p); };
  SOMBRA_RETURN_IF_ERROR(RenumberPage(map, plan.roles[i], page_size, out).WithContext(where));
  EncodeFixed32(out + pager::kHeaderPageNoOffset, copy_no);
  pager::SealPage(out, page_size, salt);
  return Status::OK();
}

}  // namespace sombra::btree
