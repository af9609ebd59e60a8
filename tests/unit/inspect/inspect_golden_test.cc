// Golden output of sombra-inspect on the fixed database (BuildFixedDb).
// The salt and the checksums differ per database: the expected text takes
// them from the file itself, and is otherwise exact.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "inspect/inspect.h"
#include "inspect_test_util.h"
#include "pager/format.h"
#include "testutil/temp_dir.h"

namespace sombra::inspect::test {
namespace {

class InspectGoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("db");
    ASSERT_NO_FATAL_FAILURE(BuildFixedDb(db_));
    vars_ = {{"DB", db_},
             {"SALT", pager::Hex64(ReadSalt(db_))},
             {"CK0", pager::Hex64(StoredChecksum(db_, 0, 4096))},
             {"CK1", pager::Hex64(StoredChecksum(db_, 1, 4096))},
             {"CK2", pager::Hex64(StoredChecksum(db_, 2, 4096))},
             {"CK3", pager::Hex64(StoredChecksum(db_, 3, 4096))},
             {"CK2BYTES", HexBytes(StoredChecksum(db_, 2, 4096))},
             {"CK2ASCII", AsciiBytes(StoredChecksum(db_, 2, 4096))}};
  }

  sombra::test::TempDir dir_;
  std::string db_;
  std::map<std::string, std::string> vars_;
};

TEST_F(InspectGoldenTest, Meta) {
  RunOutput r = Inspect({db_, "meta"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, Fill(R"(file: {DB}
meta page 0: valid
  magic:             ok
  format version:    5
  page size:         4096
  salt:              {SALT}
  page count:        6
  root:              2
  freelist head:     0
  freelist count:    0
  checkpoint seq:    2
  checkpoint lsn:    0
  catalog root:      0
  checksum:          {CK0}
meta page 1: valid
  magic:             ok
  format version:    5
  page size:         4096
  salt:              {SALT}
  page count:        6
  root:              2
  freelist head:     5
  freelist count:    2
  checkpoint seq:    3
  checkpoint lsn:    50
  catalog root:      0
  checksum:          {CK1}
in force: meta page 1 (checkpoint seq 3)
log: no committed transaction to replay
)",
                        vars_));
}

TEST_F(InspectGoldenTest, DataPageWithHexDump) {
  const std::string expected = Fill(R"(page 2 of {DB}
  file offset:       8192
  page size:         4096
  kind:              raw (6)
  flags:             0
  reserved:          0
  page no:           2
  lsn:               20
  stored checksum:   {CK2}
  computed checksum: {CK2}
  checksum:          ok
  valid:             yes
00000000  06 00 00 00 02 00 00 00  14 00 00 00 00 00 00 00  |................|
00000010  {CK2BYTES}  70 61 67 65 20 32 00 00  |{CK2ASCII}page 2..|
00000020  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
*
00000ff0  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|
00001000
)",
                                    vars_);
  RunOutput r = Inspect({db_, "page", "2"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, expected);
  // --hex asks for what is the default anyway.
  RunOutput with_hex = Inspect({db_, "page", "2", "--hex"});
  EXPECT_EQ(with_hex.code, 0);
  EXPECT_EQ(with_hex.out, expected);
}

TEST_F(InspectGoldenTest, FreePageWithoutHexDump) {
  RunOutput r = Inspect({db_, "page", "3", "--no-hex"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, Fill(R"(page 3 of {DB}
  file offset:       12288
  page size:         4096
  kind:              free (2)
  flags:             0
  reserved:          0
  page no:           3
  lsn:               50
  stored checksum:   {CK3}
  computed checksum: {CK3}
  checksum:          ok
  valid:             yes
  free next:         0 (end of the freelist)
  on the freelist:   position 2 of 2
  free body:         zero
)",
                        vars_));
}

TEST_F(InspectGoldenTest, MetaPage) {
  RunOutput r = Inspect({"--no-hex", db_, "page", "0"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, Fill(R"(page 0 of {DB}
  file offset:       0
  page size:         4096
  kind:              meta (1)
  flags:             0
  reserved:          0
  page no:           0
  lsn:               0
  stored checksum:   {CK0}
  computed checksum: {CK0}
  checksum:          ok
  valid:             yes
  meta:              valid
    magic:           ok
    format version:  5
    page size:       4096
    salt:            {SALT}
    page count:      6
    root:            2
    freelist head:   0
    freelist count:  0
    checkpoint seq:  2
    checkpoint lsn:  0
    catalog root:    0
    checksum:        {CK0}
)",
                        vars_));
}

TEST_F(InspectGoldenTest, VerifyClean) {
  RunOutput r = Inspect({db_, "verify"});
  // Every page is valid on its own; the tree check finds the raw root.
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, std::string(kFixedDbTreeLine) + "1 problem in 6 pages\n");
}

TEST_F(InspectGoldenTest, VerifyCleanWithLargerPages) {
  const std::string big = dir_.File("big");
  ASSERT_NO_FATAL_FAILURE(BuildFixedDb(big, 16384));
  RunOutput r = Inspect({big, "verify"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, std::string(kFixedDbTreeLine) + "1 problem in 6 pages\n");
  RunOutput meta = Inspect({big, "meta"});
  EXPECT_EQ(meta.code, 0);
  EXPECT_NE(meta.out.find("  page size:         16384\n"), std::string::npos) << meta.out;
  RunOutput page = Inspect({big, "page", "5", "--no-hex"});
  EXPECT_EQ(page.code, 0);
  EXPECT_NE(page.out.find("  file offset:       81920\n"), std::string::npos) << page.out;
}

TEST_F(InspectGoldenTest, JsonMeta) {
  RunOutput r = Inspect({db_, "meta", "--json"});
  EXPECT_EQ(r.code, 0);
  std::string why;
  EXPECT_TRUE(IsValidJson(r.out, &why)) << why << "\n" << r.out;
  EXPECT_EQ(CountLines(r.out), 1);
  for (const char* key : {"\"command\":\"meta\"", "\"in_force\":1", "\"slots\":[", "\"valid\":true",
                          "\"freelist_head\":5", "\"checkpoint_seq\":3"}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key << " missing from " << r.out;
  }
  EXPECT_NE(r.out.find("\"salt\":\"" + vars_["SALT"] + "\""), std::string::npos) << r.out;
}

TEST_F(InspectGoldenTest, JsonPage) {
  RunOutput r = Inspect({"--json", db_, "page", "2"});
  EXPECT_EQ(r.code, 0);
  std::string why;
  EXPECT_TRUE(IsValidJson(r.out, &why)) << why << "\n" << r.out;
  for (const char* key : {"\"command\":\"page\"", "\"page\":2", "\"kind_name\":\"raw\"",
                          "\"lsn\":20", "\"checksum_ok\":true", "\"hex_dump\":[", "\"*\""}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key << " missing from " << r.out;
  }
  RunOutput meta = Inspect({"--json", db_, "page", "1", "--no-hex"});
  EXPECT_TRUE(IsValidJson(meta.out, &why)) << why << "\n" << meta.out;
  EXPECT_NE(meta.out.find("\"meta\":{\"valid\":true"), std::string::npos) << meta.out;
  EXPECT_EQ(meta.out.find("hex_dump"), std::string::npos) << meta.out;
  RunOutput free_page = Inspect({"--json", db_, "page", "5"});
  EXPECT_TRUE(IsValidJson(free_page.out, &why)) << why << "\n" << free_page.out;
  EXPECT_NE(free_page.out.find("\"free_next\":3"), std::string::npos) << free_page.out;
}

TEST_F(InspectGoldenTest, JsonVerify) {
  RunOutput clean = Inspect({db_, "verify", "--json"});
  EXPECT_EQ(clean.code, 1);
  std::string why;
  EXPECT_TRUE(IsValidJson(clean.out, &why)) << why << "\n" << clean.out;
  EXPECT_NE(clean.out.find("\"problems\":[{\"page\":2,\"what\":\"tree: a raw page in the tree\"}]"),
            std::string::npos)
      << clean.out;

  FlipByte(db_, 4 * 4096 + 300);
  RunOutput bad = Inspect({db_, "verify", "--json"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_TRUE(IsValidJson(bad.out, &why)) << why << "\n" << bad.out;
  EXPECT_NE(bad.out.find("\"ok\":false"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("{\"page\":4,\"what\":\"checksum mismatch"), std::string::npos) << bad.out;
}

TEST_F(InspectGoldenTest, JsonEscapesThePath) {
  const std::string odd = dir_.File("quote\"back\\slash\ttab");
  ASSERT_NO_FATAL_FAILURE(BuildFixedDb(odd));
  for (const char* command : {"meta", "verify", "freelist", "stats"}) {
    RunOutput r = Inspect({odd, command, "--json"});
    EXPECT_NE(r.code, 2) << r.err;
    std::string why;
    EXPECT_TRUE(IsValidJson(r.out, &why)) << why << "\n" << r.out;
    EXPECT_NE(r.out.find("quote\\\"back\\\\slash\\ttab"), std::string::npos) << r.out;
  }
}

TEST(InspectUsageTest, HelpGoesToStdoutAndExitsZero) {
  for (const char* flag : {"--help", "-h"}) {
    RunOutput r = Inspect({flag});
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out, Usage());
    EXPECT_EQ(r.err, "");
  }
  EXPECT_NE(Usage().find("usage: sombra-inspect FILE"), std::string::npos);
  // --help wins over everything else on the line.
  EXPECT_EQ(Inspect({"/no/such/file", "verify", "--help"}).code, 0);
}

TEST(InspectUsageTest, NoArgumentsPrintsUsageAndExitsTwo) {
  RunOutput r = Inspect({});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, Usage());
}

}  // namespace
}  // namespace sombra::inspect::test
