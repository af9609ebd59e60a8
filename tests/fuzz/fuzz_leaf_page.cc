// Fuzz target: the leaf page decoder (LeafLayout::Parse) and,
// on pages it accepts, every accessor and one edit.
//
// Invariant: no crash or sanitizer report on any bytes; a page Parse
// accepts has records inside the page, LowerBound agrees with the records'
// order, and after erasing a record the page still parses to a snapshot
// that Matches it.
#include <cstring>
#include <string>
#include <vector>

#include "btree/leaf_allocator.h"
#include "fuzz_util.h"

using namespace sombra;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr uint32_t kPageSize = 4096;
  std::vector<uint8_t> page(kPageSize, 0);
  std::memcpy(page.data(), data, size < kPageSize ? size : kPageSize);

  btree::LeafRecordRef raw;
  (void)btree::DecodeLeafRecord(data, size, &raw);

  auto snap = btree::LeafLayout::Parse(page.data(), kPageSize, nullptr);
  if (!snap.ok()) {
    if (snap.status().message().empty()) fuzz::Fail("Corruption without a message");
    return 0;
  }
  (void)snap->low_fence(page.data());
  (void)snap->high_fence(page.data());
  (void)snap->Holes();
  std::string previous;
  for (size_t i = 0; i < snap->size(); ++i) {
    btree::LeafRecordRef r = snap->Record(page.data(), i);
    std::string key(r.key);
    if (i > 0 && !(previous < key)) fuzz::Fail("accepted leaf with keys out of order");
    bool exact = false;
    if (snap->LowerBound(page.data(), key, &exact) != i || !exact) {
      fuzz::Fail("LowerBound does not find record " + std::to_string(i));
    }
    previous = std::move(key);
  }
  if (snap->size() > 0) {
    btree::LeafLayout edited = *snap;
    btree::LeafAllocator alloc(page.data(), &edited, nullptr);
    alloc.Erase(snap->size() / 2);
    auto again = btree::LeafLayout::Parse(page.data(), kPageSize, nullptr);
    if (!again.ok())
      fuzz::Fail("erase made an accepted leaf invalid: " + again.status().ToString());
    if (!edited.Matches(page.data())) fuzz::Fail("snapshot after erase does not match the page");
  }
  return 0;
}
