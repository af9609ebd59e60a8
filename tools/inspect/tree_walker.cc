// The walk of sombra-inspect's tree and catalog commands (tree_walker.h).
#include "inspect/tree_walker.h"

#include <map>
#include <memory>
#include <utility>

#include "btree/node_format.h"
#include "util/coding.h"

namespace sombra::inspect {
namespace {

std::string Count(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "leaf page 7, offset 36: x" -> "offset 36: x" when it names `page_no`.
std::string StripNodePrefix(const std::string& message, uint32_t page_no) {
  for (const char* type : {"leaf page ", "internal page "}) {
    const std::string prefix = type + std::to_string(page_no) + ", ";
    if (message.compare(0, prefix.size(), prefix) == 0) return message.substr(prefix.size());
  }
  return message;
}

}  // namespace

uint64_t TreeWalker::pages_not_reached() const {
  const uint64_t data_pages =
      db_.page_count() > pager::kFirstDataPage ? db_.page_count() - pager::kFirstDataPage : 0;
  return data_pages - reached_count_;
}

// Marks `page` (in range) reached; false when it already was.
bool TreeWalker::Reach(uint32_t page) {
  if (reached_[page]) return false;
  reached_[page] = true;
  ++reached_count_;
  return true;
}

// Reads `page_no` into page_ and checks it; *what says why it is not a
// valid page ("" when it is).
Status TreeWalker::ReadChecked(uint32_t page_no, std::string* what) {
  bool complete = false;
  SOMBRA_RETURN_IF_ERROR(db_.ReadPage(page_no, &page_, &complete));
  what->clear();
  if (!complete) {
    *what = "truncated";
    return Status::OK();
  }
  Status s = pager::VerifyPage(page_.data(), db_.page_size(), page_no, db_.meta().salt, db_.path());
  if (!s.ok()) *what = StripWhere(s.message(), page_no, db_.path());
  return Status::OK();
}

Status TreeWalker::WalkTree(uint32_t root, uint64_t from, const std::string& label,
                            TreeCounts* counts) {
  if (root == 0) return Status::OK();
  if (!InRange(root)) {
    AddProblem(from, label + " is outside " + Range());
    return Status::OK();
  }
  if (!Reach(root)) {
    AddProblem(from, label + ", already reached (a page of another tree)");
    return Status::OK();
  }
  counts_ = counts;
  std::vector<Pending> current = {{root, -1, 0}};
  std::vector<Pending> next;
  while (!current.empty()) {
    next.clear();
    for (const Pending& p : current) SOMBRA_RETURN_IF_ERROR(Visit(p, &next));
    current.swap(next);
  }
  return Status::OK();
}

void TreeWalker::Damaged(const Pending& p, std::string what) {
  if (p.level < 0) {
    counts_->root_damaged = true;
  } else {
    Level& l = counts_->levels[p.level];
    ++l.pages;
    ++l.damaged;
    if (verbose_) {
      PageLine line;
      line.page = p.page;
      line.damaged = true;
      line.what = what;
      l.lines.push_back(std::move(line));
    }
  }
  ++counts_->damaged_pages;
  AddProblem(p.page, std::move(what));
}

void TreeWalker::CountNode(const Pending& p, const NodeInfo& n) {
  const bool leaf = n.leaf;
  Level& l = counts_->levels[leaf ? 0 : n.level];
  ++l.pages;
  l.records += n.records.size();
  l.used += n.used_bytes;
  l.usable += n.usable_bytes;
  if (!verbose_) return;
  PageLine line;
  line.page = p.page;
  line.leaf = leaf;
  line.records = n.records.size();
  line.used = n.used_bytes;
  line.usable = n.usable_bytes;
  if (leaf) {
    line.first = n.low_fence;
    line.last = n.high_fence;
  } else if (!n.records.empty()) {  // Validate: >= 1 separator
    line.first = n.records.front().key;
    line.last = n.records.back().key;
  }
  l.lines.push_back(std::move(line));
}

Status TreeWalker::Visit(const Pending& p, std::vector<Pending>* next) {
  std::string what;
  SOMBRA_RETURN_IF_ERROR(ReadChecked(p.page, &what));
  if (!what.empty()) {
    Damaged(p, what);
    return Status::OK();
  }
  const uint8_t kind = page_[pager::kHeaderKindOffset];
  const bool leaf = kind == static_cast<uint8_t>(pager::PageKind::kLeaf);
  if (!leaf && kind != static_cast<uint8_t>(pager::PageKind::kInternal)) {
    Damaged(p, std::string("a ") + pager::PageKindName(kind) + " page (" + std::to_string(kind) +
                   ") in the tree, expected leaf or internal");
    return Status::OK();
  }
  const NodeInfo n = DecodeNode(page_.data(), db_.page_size());
  if (!n.layout.ok()) {
    Damaged(p, StripNodePrefix(n.layout.message(), p.page));
    return Status::OK();
  }
  const int level = leaf ? 0 : n.level;  // Parse checked a leaf's level is 0
  if (p.level >= 0 && level != p.level) {
    // Either this page or its parent is wrong; name both.
    Damaged(p, std::string(leaf ? "leaf" : "internal page") + " at level " + std::to_string(level) +
                   ", but its parent, page " + std::to_string(p.parent) + ", is at level " +
                   std::to_string(p.level + 1));
    return Status::OK();
  }
  if (p.level < 0) counts_->height = static_cast<uint32_t>(level) + 1;
  CountNode(p, n);
  if (leaf) {
    ++counts_->leaf_pages;
    counts_->records += n.records.size();
    for (size_t i = 0; i < n.records.size(); ++i) {
      const NodeRecord& r = n.records[i];
      if (r.overflow) SOMBRA_RETURN_IF_ERROR(WalkChain(p.page, i, r.first_page, r.value_length));
    }
    return Status::OK();
  }
  ++counts_->internal_pages;
  // Validate checked every child is >= 2; each must also be in the file
  // and reached only once.
  for (size_t i = 0; i <= n.records.size(); ++i) {
    const uint32_t child = i == 0 ? n.right : n.records[i - 1].child;
    const std::string link = "child " + std::to_string(i) + " is page " + std::to_string(child);
    if (!InRange(child)) {
      AddProblem(p.page, link + ", outside " + Range());
    } else if (!Reach(child)) {
      AddProblem(p.page, link + ", already reached (a cycle or a shared page)");
    } else {
      next->push_back({child, level - 1, p.page});
    }
  }
  return Status::OK();
}

// The overflow chain of record `index` of leaf `leaf` (docs/format/page.md
// O1-O5): problems with a link go to the page holding it, problems of a
// page to that page.
Status TreeWalker::WalkChain(uint32_t leaf, size_t index, uint32_t first, uint64_t value_len) {
  const uint32_t capacity = db_.page_size() - static_cast<uint32_t>(btree::kOverflowDataOffset);
  const uint64_t max_pages = value_len / capacity + 1;
  uint64_t from = leaf;
  std::string link = "record " + std::to_string(index) + " links to overflow page ";
  uint32_t page_no = first;
  uint64_t total = 0;
  for (uint64_t k = 0;; ++k) {
    if (!InRange(page_no)) {
      AddProblem(from, link + std::to_string(page_no) + ", outside " + Range());
      return Status::OK();
    }
    if (k >= max_pages) {
      AddProblem(from, link + std::to_string(page_no) + ", but the chain of " +
                           std::to_string(value_len) + " bytes needs only " +
                           std::to_string(max_pages) + " pages");
      return Status::OK();
    }
    if (!Reach(page_no)) {
      AddProblem(from,
                 link + std::to_string(page_no) + ", already reached (a cycle or a shared page)");
      return Status::OK();
    }
    std::string what;
    SOMBRA_RETURN_IF_ERROR(ReadChecked(page_no, &what));
    if (what.empty()) {
      const uint8_t kind = page_[pager::kHeaderKindOffset];
      if (kind != static_cast<uint8_t>(pager::PageKind::kOverflow)) {
        what = std::string("a ") + pager::PageKindName(kind) + " page (" + std::to_string(kind) +
               ") in an overflow chain";
      }
    }
    const uint32_t used = DecodeFixed32(page_.data() + btree::kOverflowUsedOffset);
    const uint32_t next = DecodeFixed32(page_.data() + btree::kOverflowNextOffset);
    if (what.empty() && used > capacity) {
      what =
          std::to_string(used) + " bytes used, more than the capacity " + std::to_string(capacity);
    }
    if (!what.empty()) {
      ++counts_->damaged_pages;
      AddProblem(page_no, what);
      return Status::OK();
    }
    ++counts_->overflow_pages;
    total += used;
    if (total > value_len || (next == 0 && total != value_len)) {
      AddProblem(page_no, "the overflow chain from page " + std::to_string(first) + " holds " +
                              (next == 0 ? "" : "at least ") + std::to_string(total) + " bytes, " +
                              "the value has " + std::to_string(value_len));
      return Status::OK();
    }
    if (next == 0) return Status::OK();
    from = page_no;
    link = "links to overflow page ";
    page_no = next;
  }
}

Status TreeWalker::WalkFreelist() {
  uint64_t from = db_.choice().slot;
  uint32_t cur = db_.state().freelist_head;
  uint64_t length = 0;
  while (cur != 0) {
    const std::string link = "freelist links to page " + std::to_string(cur);
    if (!InRange(cur)) {
      AddProblem(from, link + ", outside " + Range());
      return Status::OK();
    }
    if (!Reach(cur)) {
      AddProblem(from, link + ", already reached (a cycle, or a page of a tree)");
      return Status::OK();
    }
    std::string what;
    SOMBRA_RETURN_IF_ERROR(ReadChecked(cur, &what));
    if (what.empty() &&
        page_[pager::kHeaderKindOffset] != static_cast<uint8_t>(pager::PageKind::kFree)) {
      what = std::string("on the freelist but is a ") +
             pager::PageKindName(page_[pager::kHeaderKindOffset]) + " page";
    }
    if (!what.empty()) {
      ++free_damaged_;
      AddProblem(cur, what);
      return Status::OK();
    }
    ++length;
    ++free_pages_;
    from = cur;
    cur = DecodeFixed32(page_.data() + pager::kFreeNextOffset);
  }
  if (length != db_.state().freelist_count) {
    AddProblem(db_.choice().slot, "freelist holds " + Count(length, "page", "pages") +
                                      ", but the meta page counts " +
                                      std::to_string(db_.state().freelist_count));
  }
  return Status::OK();
}

Status ReadInspectedCatalog(const InspectedFile& db, std::vector<btree::CatalogEntry>* entries) {
  entries->clear();
  const pager::TreeState& st = db.state();
  if (st.catalog_root == 0) return Status::OK();
  // Each page read once and kept: the catalog's cursor holds views of them.
  // The cursor follows sibling links, which damage may close into a cycle:
  // a sound catalog is read in fewer reads than the file has pages.
  auto pages = std::make_shared<std::map<uint32_t, std::vector<uint8_t>>>();
  auto reads = std::make_shared<uint64_t>(0);
  const btree::PageReader read = [&db, pages, reads](uint32_t page_no) -> Result<const uint8_t*> {
    if (++*reads > db.page_count() + 1) {
      return Status::Corruption("catalog: its leaves' sibling links loop");
    }
    auto it = pages->find(page_no);
    if (it != pages->end()) return static_cast<const uint8_t*>(it->second.data());
    std::vector<uint8_t> buf;
    bool complete = false;
    SOMBRA_RETURN_IF_ERROR(db.ReadPage(page_no, &buf, &complete));
    if (!complete) return Status::Corruption("page " + std::to_string(page_no) + ": truncated");
    SOMBRA_RETURN_IF_ERROR(
        pager::VerifyPage(buf.data(), db.page_size(), page_no, db.meta().salt, db.path()));
    it = pages->emplace(page_no, std::move(buf)).first;
    return static_cast<const uint8_t*>(it->second.data());
  };
  Status s = btree::ReadCatalog(read, db.page_size(), st.page_count, st.catalog_root, entries);
  // Names ascend strictly in a sound catalog: keep the entries before
  // the first that does not (a loop of the leaves repeats them).
  for (size_t i = 1; i < entries->size(); ++i) {
    if ((*entries)[i].name > (*entries)[i - 1].name) continue;
    if (s.ok()) {
      s = Status::Corruption("catalog: " + TreeLabel((*entries)[i].name) + " comes after " +
                             TreeLabel((*entries)[i - 1].name));
    }
    entries->resize(i);
  }
  return s;
}

std::string TreeLabel(const std::string& name) { return "tree " + ShowBytes(name); }

}  // namespace sombra::inspect
