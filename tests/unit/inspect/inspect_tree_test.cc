// sombra-inspect on B+tree pages: golden output of `page` on a leaf, an
// internal page and overflow pages, and of `tree` (plain and --verbose), on a
// database built with BTreeWriter; then damaged trees (a leaf that fails to
// parse, a cycle, a damaged root, a broken overflow chain) and JSON.
//
// The salt and the checksums differ per database: the expected text takes
// them from the file itself, and is otherwise exact.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "btree/btree.h"
#include "btree/node_format.h"
#include "btree/slotted_page.h"
#include "inspect/hex_dump.h"
#include "inspect/inspect.h"
#include "inspect_test_util.h"
#include "pager/format.h"
#include "pager/pager.h"
#include "pager/pager_txn.h"
#include "sombra/options.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"

namespace sombra::inspect::test {
namespace {

constexpr uint32_t kPageSize = 4096;

// 338 keys of 20 bytes: three full leaves of 111 records and a last leaf
// of the rest, under one root (two levels).
constexpr int kKeys = 338;

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key-%016d", i);
  return buf;
}

std::string Value(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "val-%04d", i);
  return buf;
}

// The database every test here starts from. In one transaction: keys
// 0..337 with 8-byte values, key 336's value 10 KiB (an overflow chain of
// three pages), a binary key above all others with a 40-byte binary value,
// then key 335 updated to a longer value (its old record becomes a hole).
// The pager's checkpoint at close leaves every page in the file:
//
//   page 2, 3, 5  full leaves (111 records each)
//   page 4        the root: separators 111, 222, 333 (children 2, 3, 5, 6)
//   page 6        the last leaf: keys 333..337 and the binary key
//   page 7, 8, 9  the overflow chain of key 336 (4064 + 4064 + 2112 bytes)
void BuildTreeDb(const std::string& path) {
  Options options;
  options.page_size = kPageSize;
  options.durability = Durability::kOff;
  auto opened = pager::Pager::Open(Env::Default(), path, options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<pager::Pager> pager = std::move(opened).value();
  {
    auto txn = pager->BeginWrite();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    btree::BTreeWriter w(txn->get(), pager->metrics());
    for (int i = 0; i < kKeys; ++i) {
      const std::string value = i == kKeys - 2 ? std::string(10240, 'x') : Value(i);
      ASSERT_TRUE(w.Put(Key(i), value).ok()) << i;
    }
    std::string binary_value;
    for (int i = 0; i < 40; ++i) binary_value += static_cast<char>(i);
    ASSERT_TRUE(w.Put(std::string("\xff\x00\x01\x02zz", 6), binary_value).ok());
    ASSERT_TRUE(w.Put(Key(kKeys - 3), "a longer value for this key").ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  pager.reset();  // checkpoint, close
}

std::string Join(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& line : lines) s += line + '\n';
  return s;
}

class InspectTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("db");
    ASSERT_NO_FATAL_FAILURE(BuildTreeDb(db_));
    vars_ = {{"DB", db_}};
    for (int p = 2; p <= 9; ++p) {
      vars_["CK" + std::to_string(p)] = pager::Hex64(StoredChecksum(db_, p, kPageSize));
    }
  }

  // Flips a byte of page `page_no` at `offset` and reseals the page, so
  // that only the layout is wrong.
  void FlipAndReseal(uint64_t page_no, size_t offset) {
    EditAndReseal(db_, page_no, kPageSize, [offset](uint8_t* p) { p[offset] ^= 0x5A; });
  }

  std::string Golden(const std::string& text) { return Fill(text, vars_); }

  sombra::test::TempDir dir_;
  std::string db_;
  std::map<std::string, std::string> vars_;
};

const char kLeafPage6[] = R"(page 6 of {DB}
  file offset:       24576
  page size:         4096
  kind:              leaf (3)
  flags:             0
  reserved:          0
  page no:           6
  lsn:               1
  stored checksum:   {CK6}
  computed checksum: {CK6}
  checksum:          ok
  valid:             yes
  slot count:        6
  level:             0
  free start:        323
  free end:          4060
  hole bytes:        30
  left sibling:      5
  right sibling:     0
  low fence length:  20
  high fence length: 0
  layout:            valid
  arena start:       72
  used bytes:        257 of 4044 (6.4%)
  low fence:         "key-0000000000000333"
  high fence:        +infinity
  slots:             6
    0: offset 72, length 30, head 0xff6b6579
    1: offset 102, length 30, head 0xff6b6579
    2: offset 274, length 49, head 0xff6b6579
    3: offset 162, length 34, head 0xff6b6579
    4: offset 196, length 30, head 0xff6b6579
    5: offset 226, length 48, head 0xffff0001
  records:           6
    0: key "key-0000000000000333", value 8 bytes inline: "val-0333"
    1: key "key-0000000000000334", value 8 bytes inline: "val-0334"
    2: key "key-0000000000000335", value 27 bytes inline: "a longer value for this key"
    3: key "key-0000000000000336", value 10240 bytes in overflow pages from page 7
    4: key "key-0000000000000337", value 8 bytes inline: "val-0337"
    5: key 0xff0001027a7a, value 40 bytes inline: 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f...
  holes:             1 (30 bytes)
    [132, 162)
)";

TEST_F(InspectTreeTest, LeafPage) {
  RunOutput r = Inspect({db_, "page", "6", "--no-hex"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, Golden(kLeafPage6));
}

TEST_F(InspectTreeTest, LeafPageKeepsTheHexDump) {
  // The hex dump is on by default and follows the decoded page unchanged.
  const std::vector<uint8_t> bytes = ReadPageBytes(db_, 6, kPageSize);
  RunOutput r = Inspect({db_, "page", "6"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, Golden(kLeafPage6) + Join(HexDumpLines(bytes.data(), bytes.size())));
}

TEST_F(InspectTreeTest, InternalPage) {
  RunOutput r = Inspect({db_, "page", "4", "--no-hex"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, Golden(R"(page 4 of {DB}
  file offset:       16384
  page size:         4096
  kind:              internal (4)
  flags:             0
  reserved:          0
  page no:           4
  lsn:               1
  stored checksum:   {CK4}
  computed checksum: {CK4}
  checksum:          ok
  valid:             yes
  slot count:        3
  level:             1
  free start:        127
  free end:          4078
  hole bytes:        0
  leftmost child:    2
  low fence length:  0
  high fence length: 0
  layout:            valid
  arena start:       52
  used bytes:        93 of 4044 (2.3%)
  slots:             3
    0: offset 52, length 25, head 0xff6b6579
    1: offset 77, length 25, head 0xff6b6579
    2: offset 102, length 25, head 0xff6b6579
  records:           3
    0: separator "key-0000000000000111", child 3
    1: separator "key-0000000000000222", child 5
    2: separator "key-0000000000000333", child 6
  holes:             none
)"));
}

TEST_F(InspectTreeTest, OverflowPages) {
  RunOutput first = Inspect({db_, "page", "7", "--no-hex"});
  EXPECT_EQ(first.code, 0);
  EXPECT_EQ(first.err, "");
  EXPECT_EQ(first.out, Golden(R"(page 7 of {DB}
  file offset:       28672
  page size:         4096
  kind:              overflow (5)
  flags:             0
  reserved:          0
  page no:           7
  lsn:               1
  stored checksum:   {CK7}
  computed checksum: {CK7}
  checksum:          ok
  valid:             yes
  next page:         8
  bytes used:        4064 of 4064
)"));
  RunOutput last = Inspect({db_, "page", "9", "--no-hex"});
  EXPECT_EQ(last.code, 0);
  EXPECT_EQ(last.out, Golden(R"(page 9 of {DB}
  file offset:       36864
  page size:         4096
  kind:              overflow (5)
  flags:             0
  reserved:          0
  page no:           9
  lsn:               1
  stored checksum:   {CK9}
  computed checksum: {CK9}
  checksum:          ok
  valid:             yes
  next page:         0 (last page)
  bytes used:        2112 of 4064
)"));
  const std::vector<uint8_t> bytes = ReadPageBytes(db_, 9, kPageSize);
  RunOutput with_hex = Inspect({db_, "page", "9"});
  EXPECT_EQ(with_hex.out, last.out + Join(HexDumpLines(bytes.data(), bytes.size())));
}

TEST_F(InspectTreeTest, FullLeafPageDecodesEveryRecord) {
  RunOutput r = Inspect({db_, "page", "2", "--no-hex"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("  left sibling:      0\n  right sibling:     3\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  low fence:         -infinity\n"
                       "  high fence:        \"key-0000000000000111\"\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("  used bytes:        3996 of 4044 (98.8%)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  slots:             111\n"), std::string::npos) << r.out;
  // The page split at the right edge in place: its new high fence took
  // the first record's first bytes, which moved to the gap and left a hole.
  EXPECT_NE(r.out.find("    110: key \"key-0000000000000110\", value 8 bytes inline: "
                       "\"val-0110\"\n  holes:             1 (10 bytes)\n    [72, 82)\n"),
            std::string::npos)
      << r.out;
}

const char kTree[] = R"(tree of {DB}
  meta in force:     0
  root:              4
  height:            2
level 1: 1 page, 3 records, fill 2.3%
level 0: 4 pages, 339 records, fill 75.7%
totals:
  leaf pages:        4
  internal pages:    1
  overflow pages:    3
  free pages:        0
  damaged pages:     0
  pages not reached: 0
  records:           339
walked 8 pages: OK
)";

TEST_F(InspectTreeTest, Tree) {
  RunOutput r = Inspect({db_, "tree"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, Golden(kTree));
}

TEST_F(InspectTreeTest, TreeVerbose) {
  RunOutput r = Inspect({db_, "tree", "--verbose"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, Golden(R"(tree of {DB}
  meta in force:     0
  root:              4
  height:            2
level 1: 1 page, 3 records, fill 2.3%
  page 4: 3 records, fill 2.3%, separators "key-0000000000000111" .. "key-0000000000000333"
level 0: 4 pages, 339 records, fill 75.7%
  page 2: 111 records, fill 98.8%, fences [-infinity, "key-0000000000000111")
  page 3: 111 records, fill 98.8%, fences ["key-0000000000000111", "key-0000000000000222")
  page 5: 111 records, fill 98.8%, fences ["key-0000000000000222", "key-0000000000000333")
  page 6: 6 records, fill 6.4%, fences ["key-0000000000000333", +infinity)
totals:
  leaf pages:        4
  internal pages:    1
  overflow pages:    3
  free pages:        0
  damaged pages:     0
  pages not reached: 0
  records:           339
walked 8 pages: OK
)"));
}

TEST_F(InspectTreeTest, DamagedLeafFailsToParse) {
  // hole_bytes of page 5 goes from 0 to 90; the checksum is made right
  // again, so only LeafLayout::Parse notices.
  FlipAndReseal(5, btree::kHoleBytesOffset);
  const std::string problem = "offset 36: hole_bytes 90, expected 0 (rule L13)";
  RunOutput r = Inspect({db_, "tree", "--verbose"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, Golden(R"(tree of {DB}
  meta in force:     0
  root:              4
  height:            2
level 1: 1 page, 3 records, fill 2.3%
  page 4: 3 records, fill 2.3%, separators "key-0000000000000111" .. "key-0000000000000333"
level 0: 4 pages (1 damaged), 228 records, fill 68.0%
  page 2: 111 records, fill 98.8%, fences [-infinity, "key-0000000000000111")
  page 3: 111 records, fill 98.8%, fences ["key-0000000000000111", "key-0000000000000222")
  page 5: damaged: )" + problem +
                          R"(
  page 6: 6 records, fill 6.4%, fences ["key-0000000000000333", +infinity)
totals:
  leaf pages:        3
  internal pages:    1
  overflow pages:    3
  free pages:        0
  damaged pages:     1
  pages not reached: 0
  records:           228
page 5: )" + problem + R"(
1 problem, walked 8 pages
)"));

  // Without --verbose the problem is still named.
  RunOutput plain = Inspect({db_, "tree"});
  EXPECT_EQ(plain.code, 1);
  EXPECT_NE(plain.out.find("\npage 5: " + problem + "\n1 problem, walked 8 pages\n"),
            std::string::npos)
      << plain.out;

  // page prints what Parse says, and still the hex dump.
  RunOutput page = Inspect({db_, "page", "5"});
  EXPECT_EQ(page.code, 0);
  EXPECT_NE(page.out.find("  hole bytes:        90\n"), std::string::npos) << page.out;
  EXPECT_NE(page.out.find("  layout:            invalid: leaf page 5, " + problem +
                          "\n"
                          "00000000  03 01 00 00 05 00 00 00"),
            std::string::npos)
      << page.out;
  EXPECT_EQ(page.out.find("  slots:"), std::string::npos) << page.out;
  const std::string end = "\n00001000\n";
  EXPECT_EQ(page.out.compare(page.out.size() - end.size(), end.size(), end), 0) << page.out;

  std::string why;
  RunOutput json = Inspect({db_, "page", "5", "--json"});
  EXPECT_TRUE(IsValidJson(json.out, &why)) << why << "\n" << json.out;
  EXPECT_NE(json.out.find("\"valid\":false,\"problem\":\"leaf page 5, " + problem + "\"}"),
            std::string::npos)
      << json.out;
  EXPECT_NE(json.out.find("\"hex_dump\":["), std::string::npos) << json.out;
}

TEST_F(InspectTreeTest, DamagedInternalPage) {
  // The root's level goes from 1 to 0x5B: Validate accepts it, but its
  // children are leaves at level 0, not at level 0x5A.
  FlipAndReseal(4, btree::kLevelOffset);
  RunOutput r = Inspect({db_, "tree"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("  height:            92\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("level 90: 4 pages (4 damaged), 0 records, fill -\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("page 2: leaf at level 0, but its parent, page 4, is at level 91\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("4 problems, walked 5 pages\n"), std::string::npos) << r.out;

  // A slot count that breaks the layout: the root itself is damaged.
  FlipAndReseal(4, btree::kLevelOffset);      // back to level 1
  FlipAndReseal(4, btree::kSlotCountOffset);  // 3 -> 0x59 slots
  RunOutput bad = Inspect({db_, "tree", "--verbose"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("  height:            unknown (the root is damaged)\n"), std::string::npos)
      << bad.out;
  EXPECT_NE(bad.out.find("\npage 4: offset 32: free_end is 4078 with 89 slots, expected page "
                         "size - 6 * slots = 3562 (rule I4)\n"),
            std::string::npos)
      << bad.out;
  EXPECT_NE(bad.out.find("  pages not reached: 7\n"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("1 problem, walked 1 page\n"), std::string::npos) << bad.out;
}

TEST_F(InspectTreeTest, ChecksumMismatchIsDamage) {
  FlipByte(db_, 3 * kPageSize + 2000);  // not resealed
  RunOutput r = Inspect({db_, "tree"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("level 0: 4 pages (1 damaged), 228 records"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\npage 3: checksum mismatch (stored " +
                       pager::Hex64(StoredChecksum(db_, 3, kPageSize)) + ", computed 0x"),
            std::string::npos)
      << r.out;
}

TEST_F(InspectTreeTest, CycleInTheTree) {
  // The root's last child (record 2, page 6) now names page 2, its first.
  EditAndReseal(db_, 4, kPageSize, [](uint8_t* p) {
    const uint32_t off = btree::DecodeSlotOffset(p + btree::SlotAt(kPageSize, 2));
    const uint32_t end = off + 1 + p[off] + 4;  // key length (one byte), key, child
    ASSERT_EQ(DecodeFixed32(p + end - 4), 6u);
    EncodeFixed32(p + end - 4, 2);
  });
  RunOutput r = Inspect({db_, "tree"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, Golden(R"(tree of {DB}
  meta in force:     0
  root:              4
  height:            2
level 1: 1 page, 3 records, fill 2.3%
level 0: 3 pages, 333 records, fill 98.8%
totals:
  leaf pages:        3
  internal pages:    1
  overflow pages:    0
  free pages:        0
  damaged pages:     0
  pages not reached: 4
  records:           333
page 4: child 3 is page 2, already reached (a cycle or a shared page)
1 problem, walked 4 pages
)"));
}

TEST_F(InspectTreeTest, LoopingOverflowChain) {
  // The chain 7 -> 8 -> 9 becomes 7 -> 8 -> 7.
  EditAndReseal(db_, 8, kPageSize,
                [](uint8_t* p) { EncodeFixed32(p + btree::kOverflowNextOffset, 7); });
  RunOutput r = Inspect({db_, "tree"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("  overflow pages:    2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\npage 8: links to overflow page 7, already reached (a cycle or a "
                       "shared page)\n1 problem, walked 7 pages\n"),
            std::string::npos)
      << r.out;

  // A chain whose first page is not an overflow page.
  EditAndReseal(db_, 7, kPageSize, [](uint8_t* p) {
    p[pager::kHeaderKindOffset] = static_cast<uint8_t>(pager::PageKind::kRaw);
  });
  RunOutput raw = Inspect({db_, "tree"});
  EXPECT_EQ(raw.code, 1);
  EXPECT_NE(raw.out.find("\npage 7: a raw page (6) in an overflow chain\n"), std::string::npos)
      << raw.out;
}

TEST_F(InspectTreeTest, Json) {
  std::string why;
  for (int p = 2; p <= 9; ++p) {
    for (const char* hex : {"--hex", "--no-hex"}) {
      RunOutput r = Inspect({db_, "page", std::to_string(p), "--json", hex});
      EXPECT_EQ(r.code, 0);
      EXPECT_TRUE(IsValidJson(r.out, &why)) << why << "\n" << r.out;
      EXPECT_EQ(CountLines(r.out), 1);
    }
  }
  RunOutput leaf = Inspect({db_, "page", "6", "--json", "--no-hex"});
  for (const char* part :
       {"\"node\":{\"type\":\"leaf\",\"slot_count\":6,\"level\":0,\"free_start\":323,"
        "\"free_end\":4060,\"hole_bytes\":30,\"left_sibling\":5,\"right_sibling\":0,"
        "\"low_fence_length\":20,\"high_fence_length\":0,\"valid\":true,\"arena_start\":72,"
        "\"used_bytes\":257,\"usable_bytes\":4044,\"fill\":\"6.4%\"",
        "\"high_fence\":null", "{\"index\":5,\"offset\":226,\"length\":48,\"head\":\"0xffff0001\"}",
        "{\"index\":3,\"key\":{\"hex\":\"6b65792d30303030303030303030303030333336\","
        "\"text\":\"key-0000000000000336\"},\"value_length\":10240,\"overflow\":true,"
        "\"first_page\":7}",
        "{\"index\":5,\"key\":{\"hex\":\"ff0001027a7a\"},\"value_length\":40,\"overflow\":false,"
        "\"value_preview\":{\"hex\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1"
        "e1f\"}}",
        "\"holes\":[{\"begin\":132,\"end\":162}]}}"}) {
    EXPECT_NE(leaf.out.find(part), std::string::npos) << part << " missing from " << leaf.out;
  }
  RunOutput internal = Inspect({db_, "page", "4", "--json", "--no-hex"});
  EXPECT_NE(internal.out.find("\"leftmost_child\":2"), std::string::npos) << internal.out;
  EXPECT_NE(internal.out.find("{\"index\":1,\"separator\":{\"hex\":"
                              "\"6b65792d30303030303030303030303030323232\","
                              "\"text\":\"key-0000000000000222\"},\"child\":5}"),
            std::string::npos)
      << internal.out;
  RunOutput overflow = Inspect({db_, "page", "8", "--json", "--no-hex"});
  EXPECT_NE(overflow.out.find(
                "\"overflow\":{\"next\":9,\"used\":4064,\"capacity\":4064,\"used_ok\":true}"),
            std::string::npos)
      << overflow.out;

  RunOutput tree = Inspect({db_, "tree", "--json"});
  EXPECT_EQ(tree.code, 0);
  EXPECT_TRUE(IsValidJson(tree.out, &why)) << why << "\n" << tree.out;
  EXPECT_EQ(CountLines(tree.out), 1);
  EXPECT_EQ(tree.out.find("page_list"), std::string::npos) << tree.out;
  for (const char* part :
       {"\"command\":\"tree\"", "\"tree\":null,\"catalog_root\":0,\"root\":4,\"height\":2",
        "{\"level\":0,\"pages\":4,\"damaged\":0,\"records\":339,\"used_bytes\":12245,"
        "\"usable_bytes\":16176,\"fill\":\"75.7%\"}",
        "\"totals\":{\"leaf_pages\":4,\"internal_pages\":1,\"overflow_pages\":3,"
        "\"free_pages\":0,\"other_tree_pages\":0,\"damaged_pages\":0,\"pages_not_reached\":0,"
        "\"records\":339}",
        "\"ok\":true,\"problems\":[]"}) {
    EXPECT_NE(tree.out.find(part), std::string::npos) << part << " missing from " << tree.out;
  }

  FlipAndReseal(5, btree::kHoleBytesOffset);
  RunOutput damaged = Inspect({db_, "tree", "--json", "--verbose"});
  EXPECT_EQ(damaged.code, 1);
  EXPECT_TRUE(IsValidJson(damaged.out, &why)) << why << "\n" << damaged.out;
  for (const char* part :
       {"{\"page\":6,\"damaged\":false,\"records\":6,\"used_bytes\":257,\"usable_bytes\":4044,"
        "\"fill\":\"6.4%\",\"low_fence\":{\"hex\":\"6b65792d30303030303030303030303030333333\","
        "\"text\":\"key-0000000000000333\"},\"high_fence\":null}",
        "{\"page\":2,\"damaged\":false,\"records\":111,\"used_bytes\":3996,"
        "\"usable_bytes\":4044,\"fill\":\"98.8%\",\"low_fence\":null,",
        "{\"page\":5,\"damaged\":true,\"problem\":\"offset 36: hole_bytes 90, expected 0 (rule "
        "L13)\"}",
        "\"ok\":false,\"problems\":[{\"page\":5,\"what\":\"offset 36: hole_bytes 90, expected 0 "
        "(rule L13)\"}]"}) {
    EXPECT_NE(damaged.out.find(part), std::string::npos) << part << " missing from " << damaged.out;
  }
}

TEST_F(InspectTreeTest, RandomDamageNeverCrashes) {
  // Random bytes of the tree's pages flipped and resealed (so that the
  // checksum holds and the decoders see the damage): page and tree decode
  // or report, exit 0 or 1, and always write valid JSON.
  std::mt19937_64 rng(sombra::test::TestSeed());
  const std::string pristine = sombra::test::ReadFileOrDie(db_);
  for (int round = 0; round < 60; ++round) {
    sombra::test::WriteFileOrDie(db_, pristine);
    const uint64_t page_no = 2 + rng() % 8;
    // Mostly the node header, the slots and the records near both ends.
    for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
      const size_t where = rng() % 4;
      const size_t offset = where == 0   ? 24 + rng() % 28
                            : where == 1 ? kPageSize - 1 - rng() % 64
                                         : 24 + rng() % (kPageSize - 24);
      const uint8_t mask = static_cast<uint8_t>(1 + rng() % 255);
      EditAndReseal(db_, page_no, kPageSize, [&](uint8_t* p) { p[offset] ^= mask; });
    }
    SCOPED_TRACE("round " + std::to_string(round) + ", page " + std::to_string(page_no));
    std::string why;
    for (const char* verbose : {"--verbose", "--json"}) {
      RunOutput tree = Inspect({db_, "tree", verbose, "--json"});
      EXPECT_TRUE(tree.code == 0 || tree.code == 1) << tree.code << tree.err;
      EXPECT_TRUE(IsValidJson(tree.out, &why)) << why << "\n" << tree.out;
    }
    RunOutput text = Inspect({db_, "tree", "--verbose"});
    EXPECT_TRUE(text.code == 0 || text.code == 1) << text.err;
    EXPECT_EQ(text.code == 0, text.out.find(": OK\n") != std::string::npos) << text.out;
    RunOutput page = Inspect({db_, "page", std::to_string(page_no)});
    EXPECT_EQ(page.code, 0) << page.err;
    RunOutput json = Inspect({db_, "page", std::to_string(page_no), "--json"});
    EXPECT_TRUE(IsValidJson(json.out, &why)) << why << "\n" << json.out;
  }
}

TEST_F(InspectTreeTest, EmptyTree) {
  const std::string empty = dir_.File("empty");
  {
    Options options;
    options.page_size = kPageSize;
    auto opened = pager::Pager::Open(Env::Default(), empty, options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  }
  RunOutput r = Inspect({empty, "tree"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("  root:              0 (empty tree)\n  height:            0\ntotals:\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("walked 0 pages: OK\n"), std::string::npos) << r.out;
  std::string why;
  RunOutput json = Inspect({empty, "tree", "--json", "--verbose"});
  EXPECT_TRUE(IsValidJson(json.out, &why)) << why << "\n" << json.out;
  EXPECT_NE(json.out.find("\"root\":0,\"height\":0,\"levels\":[]"), std::string::npos) << json.out;
}

TEST(InspectTreeOtherTest, RawRootAndFreelist) {
  // The fixed database: root 2 is a raw page; the freelist is 5 -> 3.
  sombra::test::TempDir dir;
  const std::string db = dir.File("db");
  ASSERT_NO_FATAL_FAILURE(BuildFixedDb(db));
  RunOutput r = Inspect({db, "tree"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "tree of " + db + R"(
  meta in force:     1
  root:              2
  height:            unknown (the root is damaged)
totals:
  leaf pages:        0
  internal pages:    0
  overflow pages:    0
  free pages:        2
  damaged pages:     1
  pages not reached: 1
  records:           0
page 2: a raw page (6) in the tree, expected leaf or internal
1 problem, walked 3 pages
)");
}

TEST(InspectTreeOtherTest, Refusals) {
  sombra::test::TempDir dir;
  // Not a database: exit 2, one line.
  RunOutput missing = Inspect({dir.File("nope"), "tree"});
  EXPECT_EQ(CheckRefused(missing), "");
  sombra::test::WriteFileOrDie(dir.File("junk"), std::string(8192, 'j'));
  RunOutput junk = Inspect({dir.File("junk"), "tree", "--verbose"});
  EXPECT_EQ(CheckRefused(junk), "");
  EXPECT_NE(junk.err.find("not a Sombra database"), std::string::npos) << junk.err;
  // tree takes no operand.
  const std::string db = dir.File("db");
  ASSERT_NO_FATAL_FAILURE(BuildFixedDb(db));
  RunOutput extra = Inspect({db, "tree", "4"});
  EXPECT_EQ(CheckRefused(extra), "");
  EXPECT_EQ(extra.err, "sombra-inspect: tree: unexpected argument 4\n");
  RunOutput unknown = Inspect({db, "trees"});
  EXPECT_EQ(unknown.err,
            "sombra-inspect: unknown command trees; expected meta, page, tree, catalog, freelist, "
            "stats, verify, wal or recover\n");
}

}  // namespace
}  // namespace sombra::inspect::test
