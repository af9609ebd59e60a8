// The read side: point lookups and cursors over a PageReader.
#include <algorithm>

#include "btree/btree.h"
#include "btree/slotted_page.h"
#include "btree/tree_descent.h"
#include "pager/format.h"

namespace sombra::btree {
namespace {

// Decodes the leaf record at page offset `off`: false unless it lies in
// the page after the header and decodes.
inline bool RecordAt(const uint8_t* page, uint32_t page_size, uint32_t off, LeafRecordRef* rec) {
  return off >= kNodeHeaderEnd && off < page_size &&
         DecodeLeafRecordAt(page + off, page + page_size, rec);
}

// Bounds-checked access to the slots of a node page.
struct NodeView {
  const uint8_t* page;
  uint32_t ps;

  uint16_t count() const { return DecodeFixed16(page + kSlotCountOffset); }
  uint16_t level() const { return DecodeFixed16(page + kLevelOffset); }
  uint32_t right() const { return DecodeFixed32(page + kRightOffset); }
  uint32_t left() const { return DecodeFixed32(page + kLeftOffset); }
  // Record i, decoded; false when its slot or record is not in the page.
  bool Record(size_t i, LeafRecordRef* rec) const {
    if (i >= count() || kSlotSize * (i + 1) > ps - kNodeHeaderEnd) return false;
    return RecordAt(page, ps, DecodeSlotOffset(page + SlotAt(ps, i)), rec);
  }
};

Status BadNode(uint32_t page_no, const char* what) {
  return Status::Corruption("page " + std::to_string(page_no) + ": " + what);
}

int CompareKeys(std::string_view a, std::string_view b) { return a.compare(b); }

// The end of the slot directory of a node page holding `count` slots (slot
// i is kSlotSize * (i + 1) bytes before it), or null when the directory
// does not lie in the page after the header.
const uint8_t* SlotDirectory(const uint8_t* page, uint32_t page_size, size_t count) {
  if (kSlotSize * count > page_size - kNodeHeaderEnd) return nullptr;
  return page + page_size;
}

// The first slot of leaf `v` whose key is >= key; *exact when equal. The
// directory is checked once; each step compares key heads, and decodes a
// record (bounds-checked) only when the heads are equal.
Result<size_t> LeafLowerBound(const NodeView& v, uint32_t page_no, std::string_view key,
                              bool* exact, const BTreeCounters* c) {
  const uint32_t want = KeyHead(key);
  const size_t count = v.count();
  const uint8_t* dir_end = SlotDirectory(v.page, v.ps, count);
  if (dir_end == nullptr) return BadNode(page_no, "slot directory outside the page");
  size_t lo = 0, hi = count;
  uint64_t cmps = 0, decodes = 0;
  *exact = false;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    const uint8_t* at = dir_end - kSlotSize * (mid + 1);
    // The search waits on memory (a page rarely in cache): ask now for the
    // slots of both possible next steps.
    __builtin_prefetch(dir_end - kSlotSize * ((lo + mid) / 2 + 1));
    __builtin_prefetch(dir_end - kSlotSize * ((mid + 1 + hi) / 2 + 1));
    const uint32_t head = DecodeSlotHead(at);
    ++cmps;
    int cmp;
    if (head != want) {
      cmp = head < want ? -1 : 1;
    } else {
      LeafRecordRef rec;
      if (!RecordAt(v.page, v.ps, DecodeSlotOffset(at), &rec)) {
        return BadNode(page_no, "malformed record");
      }
      ++decodes;
      cmp = CompareKeys(rec.key, key);
    }
    if (cmp < 0) {
      lo = mid + 1;
    } else {
      if (cmp == 0) *exact = true;
      hi = mid;
    }
  }
  Count(c, Tick::kKeyCmps, cmps);
  Count(c, Tick::kKeyDecodes, decodes);
  return lo;
}

}  // namespace

PageReader SnapshotReader(const pager::Snapshot* snap) {
  return [snap](uint32_t page_no) { return snap->Read(page_no); };
}

// The leaf for `key` (edge: -1 leftmost leaf, +1 rightmost leaf, 0 by
// key), and in *page the leaf as `read` gave it.
static Result<uint32_t> FindLeaf(const PageReader& read, uint32_t page_size, uint32_t root,
                                 std::string_view key, int edge, const BTreeCounters* c,
                                 const uint8_t** page) {
  const DescentTarget target = edge < 0   ? DescentTarget::kFirstLeaf
                               : edge > 0 ? DescentTarget::kLastLeaf
                                          : DescentTarget::kByKey;
  return DescendToLeaf(read, page_size, root, key, target, c, nullptr, page);
}

static Status ReadValue(const PageReader& read, uint32_t page_size, const LeafRecordRef& rec,
                        std::string* out) {
  if (!rec.overflow) {
    out->assign(rec.value.data(), rec.value.size());
    return Status::OK();
  }
  uint32_t first;
  uint64_t len;
  DecodeOverflowRef(rec.value, &first, &len);
  return ReadOverflow(read, page_size, first, len, out);
}

Status TreeGet(const PageReader& read, uint32_t page_size, uint32_t root, std::string_view key,
               std::string* value, const BTreeCounters* c) {
  if (root == 0) return Status::NotFound("key not found");
  const uint8_t* page = nullptr;
  SOMBRA_ASSIGN_OR_RETURN(uint32_t leaf, FindLeaf(read, page_size, root, key, 0, c, &page));
  NodeView v{page, page_size};
  bool exact;
  SOMBRA_ASSIGN_OR_RETURN(size_t i, LeafLowerBound(v, leaf, key, &exact, c));
  if (!exact) return Status::NotFound("key not found");
  LeafRecordRef rec;
  if (!v.Record(i, &rec)) return BadNode(leaf, "malformed record");
  return ReadValue(read, page_size, rec, value);
}

TreeCursor::TreeCursor(PageReader read, uint32_t page_size, uint32_t root, const BTreeCounters* c)
    : read_(std::move(read)), page_size_(page_size), root_(root), c_(c) {}

void TreeCursor::Fail(const Status& s) {
  valid_ = false;
  if (status_.ok()) status_ = s;
}

bool TreeCursor::EnterLeaf(uint32_t page_no, const uint8_t* page) {
  leaf_ = page_no;
  page_ = page;
  count_ = NodeView{page, page_size_}.count();
  dir_end_ = SlotDirectory(page, page_size_, count_);
  if (dir_end_ == nullptr) {
    count_ = 0;
    Fail(BadNode(page_no, "slot directory outside the page"));
    return false;
  }
  return true;
}

bool TreeCursor::Load() {
  // The one per-key step of a scan: the slot (its directory checked by
  // EnterLeaf), the record's bounds, its decode.
  LeafRecordRef rec;
  if (!RecordAt(page_, page_size_, DecodeSlotOffset(dir_end_ - kSlotSize * (slot_ + 1)), &rec)) {
    Fail(BadNode(leaf_, "malformed record"));
    return false;
  }
  Count(c_, Tick::kKeyDecodes);
  key_ = rec.key;
  if (rec.overflow) {
    Status st = ReadValue(read_, page_size_, rec, &overflow_value_);
    if (!st.ok()) {
      Fail(st);
      return false;
    }
    value_ = overflow_value_;
  } else {
    value_ = rec.value;
  }
  valid_ = true;
  return true;
}

// Moves to the next (or previous) non-empty leaf; false at the end.
bool TreeCursor::StepLeaf(bool forward) {
  for (int guard = 0; guard < (1 << 30); ++guard) {
    NodeView v{page_, page_size_};
    uint32_t next = forward ? v.right() : v.left();
    if (next == 0) {
      valid_ = false;
      return false;
    }
    auto np = read_(next);
    if (!np.ok()) {
      Fail(np.status());
      return false;
    }
    if (!EnterLeaf(next, *np)) return false;
    if (count_ == 0) continue;
    slot_ = forward ? 0 : count_ - 1;
    return Load();
  }
  Fail(Status::Corruption("sibling links loop"));
  return false;
}

void TreeCursor::Position(std::string_view key, int edge) {
  valid_ = false;
  status_ = Status::OK();
  if (root_ == 0) return;
  const uint8_t* page = nullptr;
  auto leaf = FindLeaf(read_, page_size_, root_, key, edge, c_, &page);
  if (!leaf.ok()) return Fail(leaf.status());
  if (!EnterLeaf(*leaf, page)) return;
  if (edge > 0) {
    if (count_ == 0) {
      StepLeaf(false);
      return;
    }
    slot_ = count_ - 1;
    Load();
    return;
  }
  size_t i = 0;
  if (edge == 0) {
    bool exact;
    auto lb = LeafLowerBound(NodeView{page_, page_size_}, leaf_, key, &exact, c_);
    if (!lb.ok()) return Fail(lb.status());
    i = *lb;
  }
  if (i >= count_) {
    StepLeaf(true);
    return;
  }
  slot_ = i;
  Load();
}

void TreeCursor::SeekToFirst() { Position({}, -1); }
void TreeCursor::SeekToLast() { Position({}, 1); }
void TreeCursor::Seek(std::string_view key) { Position(key, 0); }

void TreeCursor::NextSlow() {
  if (!valid_) return;
  if (slot_ + 1 < count_) {
    ++slot_;
    Load();
    return;
  }
  StepLeaf(true);
}

void TreeCursor::PrevSlow() {
  if (!valid_) return;
  if (slot_ > 0) {
    --slot_;
    Load();
    return;
  }
  StepLeaf(false);
}

}  // namespace sombra::btree
