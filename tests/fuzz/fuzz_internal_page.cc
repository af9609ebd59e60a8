// Fuzz target: the internal page decoder (InternalNode::Validate) and, on
// pages it accepts, every accessor.
//
// Invariant: no crash or sanitizer report on any bytes; an accepted page
// has ascending separators and ChildIndex routes each separator to the
// child on its right.
#include <cstring>
#include <string>
#include <vector>

#include "btree/internal_node.h"
#include "fuzz_util.h"

using namespace sombra;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr uint32_t kPageSize = 4096;
  std::vector<uint8_t> page(kPageSize, 0);
  std::memcpy(page.data(), data, size < kPageSize ? size : kPageSize);
  btree::InternalNode node(page.data(), kPageSize, nullptr, nullptr);  // counts nothing
  Status s = node.Validate();
  if (!s.ok()) {
    if (s.message().empty()) fuzz::Fail("Corruption without a message");
    return 0;
  }
  (void)node.level();
  (void)node.free_bytes();
  (void)node.used_bytes();
  for (size_t i = 0; i <= node.count(); ++i) (void)node.child(i);
  std::string previous;
  for (size_t i = 0; i < node.count(); ++i) {
    std::string key(node.key(i));
    if (i > 0 && !(previous < key)) fuzz::Fail("accepted internal page with unsorted keys");
    if (node.ChildIndex(key) != i + 1)
      fuzz::Fail("ChildIndex does not route separator " + std::to_string(i) +
                 " to its right child");
    previous = std::move(key);
  }
  return 0;
}
