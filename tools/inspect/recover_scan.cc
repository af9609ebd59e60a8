// recover: every data page read once and classified (docs/tools.md,
// "recover", "Which pages are good"). A page is good when it passes
// pager::VerifyPage with the chosen salt and, for a leaf or an internal
// page, its layout decodes (LeafLayout::Parse, InternalNodeView::Validate).
#include <algorithm>

#include "btree/catalog.h"
#include "btree/internal_node.h"
#include "btree/leaf_allocator.h"
#include "inspect/inspect_internal.h"
#include "inspect/recover.h"
#include "util/coding.h"

namespace sombra::inspect::recover {
namespace {

bool AllZero(const std::vector<uint8_t>& page) {
  return std::all_of(page.begin(), page.end(), [](uint8_t b) { return b == 0; });
}

void Damaged(uint32_t page_no, std::string what, PageTable* t) {
  t->cls[page_no] = PageClass::kDamaged;
  t->damaged.push_back({page_no, std::move(what)});
}

bool CatalogLike(const btree::LeafLayout& layout, const uint8_t* page) {
  for (size_t i = 0; i < layout.size(); ++i) {
    const btree::LeafRecordRef r = layout.Record(page, i);
    if (r.overflow || r.key.empty() || r.key.size() > btree::kMaxTreeNameSize ||
        r.value.size() != btree::kCatalogValueSize ||
        DecodeFixed32(reinterpret_cast<const uint8_t*>(r.value.data()) + 4) != 0) {
      return false;
    }
  }
  return true;
}

void AddLeaf(uint32_t page_no, const uint8_t* page, uint32_t page_size, PageTable* t) {
  Result<btree::LeafLayout> layout = btree::LeafLayout::Parse(page, page_size, nullptr);
  if (!layout.ok()) {
    Damaged(page_no, "leaf: " + layout.status().message(), t);
    return;
  }
  LeafInfo leaf;
  leaf.lsn = DecodeFixed64(page + pager::kHeaderLsnOffset);
  leaf.left = DecodeFixed32(page + btree::kLeftOffset);
  leaf.right = DecodeFixed32(page + btree::kRightOffset);
  leaf.low.assign(layout->low_fence(page));
  leaf.high.assign(layout->high_fence(page));
  leaf.records = static_cast<uint32_t>(layout->size());
  leaf.catalog_like = CatalogLike(*layout, page);
  t->cls[page_no] = PageClass::kLeaf;
  t->leaves.emplace(page_no, std::move(leaf));
}

void AddInternal(uint32_t page_no, const uint8_t* page, uint32_t page_size, PageTable* t) {
  const btree::InternalNodeView node(page, page_size, nullptr);
  if (Status s = node.Validate(); !s.ok()) {
    Damaged(page_no, "internal: " + s.message(), t);
    return;
  }
  InternalInfo info;
  info.lsn = DecodeFixed64(page + pager::kHeaderLsnOffset);
  info.level = node.level();
  for (size_t i = 0; i <= node.count(); ++i) info.children.push_back(node.child(i));
  for (size_t i = 0; i < node.count(); ++i) info.separators.emplace_back(node.key(i));
  t->cls[page_no] = PageClass::kInternal;
  t->internals.emplace(page_no, std::move(info));
}

void Classify(const PageSource& src, uint32_t page_no, const std::vector<uint8_t>& page,
              PageTable* t) {
  const uint32_t ps = src.page_size();
  if (Status s = pager::VerifyPage(page.data(), ps, page_no, src.salt(), src.path()); !s.ok()) {
    Damaged(page_no, pager::StripWhere(s.message(), page_no, src.path()), t);
    return;
  }
  t->max_lsn = std::max(t->max_lsn, DecodeFixed64(page.data() + pager::kHeaderLsnOffset));
  switch (static_cast<pager::PageKind>(page[pager::kHeaderKindOffset])) {
    case pager::PageKind::kLeaf:
      AddLeaf(page_no, page.data(), ps, t);
      return;
    case pager::PageKind::kInternal:
      AddInternal(page_no, page.data(), ps, t);
      return;
    default:
      t->cls[page_no] = PageClass::kOther;
      return;
  }
}

}  // namespace

int PageTable::Level(uint64_t page) const {
  if (Class(page) == PageClass::kLeaf) return 0;
  if (Class(page) != PageClass::kInternal) return -1;
  return internals.at(static_cast<uint32_t>(page)).level;
}

Status ScanPages(const PageSource& src, PageTable* t) {
  const uint64_t pages = std::min<uint64_t>(src.pages(), uint64_t{UINT32_MAX} + 1);
  t->cls.assign(std::max<uint64_t>(pages, pager::kFirstDataPage), PageClass::kTail);
  std::vector<uint8_t> buf;
  uint64_t last_used = 0;  // the last page that is not all zero
  for (uint64_t n = pager::kFirstDataPage; n < pages; ++n) {
    bool from_log = false;
    SOMBRA_RETURN_IF_ERROR(src.Read(static_cast<uint32_t>(n), &buf, &from_log));
    if (from_log) ++t->from_log;
    if (AllZero(buf)) continue;  // kTail for now
    last_used = n;
    Classify(src, static_cast<uint32_t>(n), buf, t);
  }
  // Zero pages before the end of the pages in use, or that a good page
  // links to, are zeroed pages; the others, the file's preallocated tail.
  uint64_t end = std::max(src.known_page_count(), last_used + 1);
  for (const auto& [page, node] : t->internals) {
    for (uint32_t child : node.children) {
      if (child < pages && t->cls[child] == PageClass::kTail)
        end = std::max<uint64_t>(end, child + 1);
    }
  }
  for (const auto& [page, leaf] : t->leaves) {
    for (uint32_t link : {leaf.left, leaf.right}) {
      if (link < pages && t->cls[link] == PageClass::kTail) end = std::max<uint64_t>(end, link + 1);
    }
  }
  end = std::min(end, pages);
  for (uint64_t n = pager::kFirstDataPage; n < end; ++n) {
    if (t->cls[n] != PageClass::kTail) continue;
    t->cls[n] = PageClass::kZeroed;
    ++t->zeroed;
  }
  t->read = end > pager::kFirstDataPage ? end - pager::kFirstDataPage : 0;
  return Status::OK();
}

}  // namespace sombra::inspect::recover
