// VerifyTree: the tree rules, the last of the checks of VerifyDatabase
// (db_verify.h), which DB::Verify and sombra-inspect verify run.
#include <set>
#include <string>
#include <vector>

#include "btree/btree.h"
#include "btree/catalog.h"
#include "btree/internal_node.h"
#include "pager/format.h"

namespace sombra::btree {
namespace {

struct Bounds {
  std::string low;   // inclusive; empty with !has_low: -infinity
  std::string high;  // exclusive; !has_high: +infinity
  bool has_low = false;
  bool has_high = false;
};

class Verifier {
 public:
  // Verify counts nothing (null counters), so that checking a tree does
  // not disturb the write path's counters.
  explicit Verifier(const pager::Snapshot& snap) : snap_(snap), ps_(snap.page_size()) {}

  Status Run(uint64_t* pages_checked) {
    const pager::TreeState& st = snap_.state();
    SOMBRA_RETURN_IF_ERROR(VisitTree(st.root));
    // The catalog, then every named tree it names (docs/format/file.md).
    SOMBRA_RETURN_IF_ERROR(VisitTree(st.catalog_root).WithContext("catalog"));
    std::vector<CatalogEntry> trees;
    SOMBRA_RETURN_IF_ERROR(
        ReadCatalog(SnapshotReader(&snap_), ps_, st.page_count, st.catalog_root, &trees)
            .WithContext("catalog"));
    for (const CatalogEntry& t : trees) {
      SOMBRA_RETURN_IF_ERROR(CheckTreeName(t.name).WithContext("catalog"));
      SOMBRA_RETURN_IF_ERROR(VisitTree(t.root).WithContext("tree \"" + t.name + "\""));
    }
    SOMBRA_RETURN_IF_ERROR(CheckFreelist());
    for (uint64_t p = pager::kFirstDataPage; p < st.page_count; ++p) {
      if (seen_.count(static_cast<uint32_t>(p)) == 0) {
        return Fail(static_cast<uint32_t>(p), "neither reachable from the root nor free (leaked)");
      }
    }
    if (pages_checked != nullptr) *pages_checked = seen_.size();
    return Status::OK();
  }

 private:
  Status Fail(uint32_t page_no, const std::string& what) {
    return Status::Corruption("page " + std::to_string(page_no) + ": " + what);
  }
  Status Mark(uint32_t page_no) {
    if (page_no < pager::kFirstDataPage || page_no >= snap_.state().page_count) {
      return Fail(page_no, "page number outside [2, page count)");
    }
    if (!seen_.insert(page_no).second) return Fail(page_no, "reachable more than once");
    return Status::OK();
  }
  // One tree from its root (0: empty), its leaves' sibling chain too.
  Status VisitTree(uint32_t root) {
    if (root == 0) return Status::OK();
    leaves_.clear();
    SOMBRA_RETURN_IF_ERROR(Visit(root, Bounds{}, -1));
    return CheckSiblings();
  }
  static bool Below(std::string_view k, const Bounds& b) { return b.has_high && k >= b.high; }
  static bool Above(std::string_view k, const Bounds& b) { return b.has_low && k < b.low; }

  Status Visit(uint32_t page_no, const Bounds& bounds, int level) {
    SOMBRA_RETURN_IF_ERROR(Mark(page_no));
    SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, snap_.Read(page_no));  // checksum verified
    const uint8_t kind = page[pager::kHeaderKindOffset];
    if (kind == static_cast<uint8_t>(pager::PageKind::kLeaf)) {
      if (level > 0) return Fail(page_no, "leaf found at level " + std::to_string(level));
      return VisitLeaf(page_no, page, bounds);
    }
    if (kind != static_cast<uint8_t>(pager::PageKind::kInternal)) {
      return Fail(page_no, std::string("a ") + pager::PageKindName(kind) + " page in the tree");
    }
    const InternalNodeView node(page, ps_, nullptr);
    SOMBRA_RETURN_IF_ERROR(node.Validate().WithContext("page " + std::to_string(page_no)));
    if (level >= 0 && node.level() != level) {
      return Fail(page_no,
                  "level " + std::to_string(node.level()) + ", expected " + std::to_string(level));
    }
    if (node.level() == 0) return Fail(page_no, "internal page at level 0");
    for (size_t i = 0; i <= node.count(); ++i) {
      Bounds child = bounds;
      if (i > 0) {
        child.low = std::string(node.key(i - 1));
        child.has_low = true;
        if (Above(child.low, bounds) || Below(child.low, bounds)) {
          return Fail(page_no, "separator " + std::to_string(i - 1) + " outside the page's bounds");
        }
      }
      if (i < node.count()) {
        child.high = std::string(node.key(i));
        child.has_high = true;
      }
      SOMBRA_RETURN_IF_ERROR(Visit(node.child(i), child, node.level() - 1));
    }
    return Status::OK();
  }

  Status VisitLeaf(uint32_t page_no, const uint8_t* page, const Bounds& bounds) {
    auto snap = LeafLayout::Parse(page, ps_, nullptr);
    if (!snap.ok()) return snap.status().WithContext("page " + std::to_string(page_no));
    // Fences equal the bounds the parents give (true fences).
    std::string_view low = snap->low_fence(page), high = snap->high_fence(page);
    if (low != std::string_view(bounds.low)) {
      return Fail(page_no, "low fence differs from the parent's separator");
    }
    if (snap->has_high_fence() != bounds.has_high || high != std::string_view(bounds.high)) {
      return Fail(page_no, "high fence differs from the parent's separator");
    }
    for (size_t i = 0; i < snap->size(); ++i) {
      LeafRecordRef rec = snap->Record(page, i);
      if (Above(rec.key, bounds) || Below(rec.key, bounds)) {
        return Fail(page_no, "key " + std::to_string(i) + " outside the fences");
      }
      if (rec.overflow) {
        uint32_t first;
        uint64_t len;
        DecodeOverflowRef(rec.value, &first, &len);
        SOMBRA_RETURN_IF_ERROR(VisitOverflow(page_no, first, len));
      }
    }
    leaves_.push_back(
        Leaf{page_no, DecodeFixed32(page + kLeftOffset), DecodeFixed32(page + kRightOffset)});
    return Status::OK();
  }

  Status VisitOverflow(uint32_t leaf, uint32_t first, uint64_t len) {
    const uint64_t cap = ps_ - kOverflowDataOffset;
    uint32_t p = first;
    for (uint64_t n = 0; n < (len + cap - 1) / cap; ++n) {
      SOMBRA_RETURN_IF_ERROR(Mark(p).WithContext("overflow chain of leaf " + std::to_string(leaf)));
      SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, snap_.Read(p));
      if (page[pager::kHeaderKindOffset] != static_cast<uint8_t>(pager::PageKind::kOverflow)) {
        return Fail(
            p, "overflow chain of leaf " + std::to_string(leaf) + " reaches a non-overflow page");
      }
      p = DecodeFixed32(page + kOverflowNextOffset);
    }
    return Status::OK();
  }

  Status CheckSiblings() {
    for (size_t i = 0; i < leaves_.size(); ++i) {
      uint32_t want_left = i == 0 ? 0 : leaves_[i - 1].page_no;
      uint32_t want_right = i + 1 == leaves_.size() ? 0 : leaves_[i + 1].page_no;
      if (leaves_[i].left != want_left) {
        return Fail(leaves_[i].page_no, "left sibling " + std::to_string(leaves_[i].left) +
                                            ", expected " + std::to_string(want_left));
      }
      if (leaves_[i].right != want_right) {
        return Fail(leaves_[i].page_no, "right sibling " + std::to_string(leaves_[i].right) +
                                            ", expected " + std::to_string(want_right));
      }
    }
    return Status::OK();
  }

  Status CheckFreelist() {
    const pager::TreeState& st = snap_.state();
    uint32_t p = st.freelist_head;
    for (uint64_t n = 0; n < st.freelist_count; ++n) {
      SOMBRA_RETURN_IF_ERROR(Mark(p).WithContext("freelist"));
      SOMBRA_ASSIGN_OR_RETURN(const uint8_t* page, snap_.Read(p));
      if (page[pager::kHeaderKindOffset] != static_cast<uint8_t>(pager::PageKind::kFree)) {
        return Fail(p, "on the freelist but not a free page");
      }
      p = DecodeFixed32(page + pager::kFreeNextOffset);
    }
    if (p != 0) return Fail(p, "the freelist is longer than its count");
    return Status::OK();
  }

  struct Leaf {
    uint32_t page_no, left, right;
  };
  const pager::Snapshot& snap_;
  const uint32_t ps_;
  std::set<uint32_t> seen_;
  std::vector<Leaf> leaves_;
};

}  // namespace

Status VerifyTree(const pager::Snapshot& snap, uint64_t* pages_checked) {
  return Verifier(snap).Run(pages_checked);
}

}  // namespace sombra::btree
