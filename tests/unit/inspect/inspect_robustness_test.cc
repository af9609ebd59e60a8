// sombra-inspect on inputs it must refuse: each gives exit 2, nothing on
// stdout and one line on stderr, never a crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "inspect/inspect.h"
#include "inspect_test_util.h"
#include "pager/format.h"
#include "pager/meta.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"

namespace sombra::inspect::test {
namespace {

using sombra::test::ReadFileOrDie;
using sombra::test::WriteFileOrDie;

const std::vector<std::vector<std::string>> kCommands = {
    {"meta"}, {"page", "0"}, {"page", "1"}, {"verify"}, {"verify", "--json"}, {"meta", "--json"}};

std::string RandomBytes(size_t n, std::mt19937_64* rng) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>((*rng)() & 0xFF);
  return s;
}

// `meta` of a Sombra file that cannot be opened (no valid meta page, or
// shorter than its meta says): exit 1, both meta pages shown, nothing on
// stderr; "" when so, else what is wrong.
std::string ExpectMetaReport(const RunOutput& r) {
  if (r.code != kExitCheckFailed) return "exit code " + std::to_string(r.code) + ", want 1";
  if (!r.err.empty()) return "stderr: " + r.err;
  if (r.out.empty()) return "no output";
  std::string why;
  if (r.out.front() == '{') {
    if (!IsValidJson(r.out, &why)) return why;
    if (r.out.find("\"slots\":[{\"slot\":0,") == std::string::npos) return "no slots: " + r.out;
    return "";
  }
  for (const char* line : {"\nmeta page 0: ", "\nmeta page 1: ", "\nin force: none ("}) {
    if (r.out.find(line) == std::string::npos) return std::string("no ") + line + " in " + r.out;
  }
  return "";
}

class InspectRobustnessTest : public ::testing::Test {
 protected:
  // Every command on `path` is refused with one line on stderr that
  // contains `expect` (when not empty) - but `meta`, with
  // `meta_reports`, which shows both meta pages instead (the file is a
  // Sombra file that cannot be opened).
  void ExpectAllRefused(const std::string& path, const std::string& expect,
                        bool meta_reports = false) {
    for (std::vector<std::string> args : kCommands) {
      args.insert(args.begin(), path);
      RunOutput r = Inspect(args);
      if (meta_reports && args[1] == "meta") {
        EXPECT_EQ(ExpectMetaReport(r), "") << "args: " << args[1] << " " << args.back();
        continue;
      }
      EXPECT_EQ(CheckRefused(r), "") << "args: " << args[1];
      EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
    }
  }

  sombra::test::TempDir dir_;
};

TEST_F(InspectRobustnessTest, MissingFile) {
  ExpectAllRefused(dir_.File("nope"), "no such file: " + dir_.File("nope"));
}

TEST_F(InspectRobustnessTest, Directory) { ExpectAllRefused(dir_.path(), "is a directory"); }

TEST_F(InspectRobustnessTest, SpecialFile) {
  if (!std::filesystem::exists("/dev/null")) GTEST_SKIP() << "no /dev/null";
  ExpectAllRefused("/dev/null", "not a regular file");
}

TEST_F(InspectRobustnessTest, EmptyFile) {
  WriteFileOrDie(dir_.File("empty"), "");
  ExpectAllRefused(dir_.File("empty"), "not a Sombra database");
}

TEST_F(InspectRobustnessTest, RandomBytes) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  for (size_t size : {size_t{1}, size_t{100}, size_t{4096}, size_t{65536}, size_t{200000}}) {
    WriteFileOrDie(dir_.File("random"), RandomBytes(size, &rng));
    SCOPED_TRACE(size);
    ExpectAllRefused(dir_.File("random"), "not a Sombra database");
  }
}

TEST_F(InspectRobustnessTest, MagicButGarbage) {
  // Claims to be a Sombra file in both meta pages, is not a valid one.
  std::mt19937_64 rng(sombra::test::TestSeed());
  std::string data = RandomBytes(65536, &rng);
  for (size_t at : {size_t{0}, size_t{4096}}) {
    data.replace(at + pager::kMetaMagicOffset, 8, std::string(pager::kMetaMagic, 8));
  }
  WriteFileOrDie(dir_.File("garbage"), data);
  ExpectAllRefused(dir_.File("garbage"), "no valid meta page", /*meta_reports=*/true);
}

TEST_F(InspectRobustnessTest, TruncatedDatabase) {
  const std::string db = dir_.File("db");
  ASSERT_NO_FATAL_FAILURE(BuildFixedDb(db));
  const std::string full = ReadFileOrDie(db);
  // Mid page 4 (both metas valid, page count 6 past the end), inside
  // meta page 1, inside meta page 0, and shorter than a meta page.
  for (size_t size :
       {size_t{4 * 4096 + 100}, size_t{2 * 4096}, size_t{5000}, size_t{2000}, size_t{50}}) {
    SCOPED_TRACE(size);
    WriteFileOrDie(db, full.substr(0, size));
    for (std::vector<std::string> args : kCommands) {
      args.insert(args.begin(), db);
      RunOutput r = Inspect(args);
      // meta shows the meta pages of a file cut after them.
      if (args[1] == "meta" && r.code == kExitCheckFailed) {
        EXPECT_EQ(ExpectMetaReport(r), "") << args.back();
        continue;
      }
      EXPECT_EQ(CheckRefused(r), "") << args[1];
    }
  }
  WriteFileOrDie(db, full.substr(0, 4 * 4096 + 100));
  EXPECT_NE(Inspect({db, "verify"})
                .err.find("is truncated: 16484 bytes, but meta page 1 "
                          "counts 6 pages of 4096 bytes"),
            std::string::npos);
}

TEST_F(InspectRobustnessTest, ValidMetasCountingMorePagesThanTheFileHolds) {
  const std::string db = dir_.File("db");
  ASSERT_NO_FATAL_FAILURE(BuildFixedDb(db));
  const uint64_t salt = ReadSalt(db);
  // Both meta pages valid, page count 10^6: 4 GB, while the file is 1 MiB.
  std::vector<uint8_t> page(4096);
  for (uint64_t seq : {4, 5}) {
    pager::Meta m;
    m.salt = salt;
    m.page_count = 1000000;
    m.checkpoint_seq = seq;
    pager::EncodeMeta(m, page.data());
    WritePageBytes(db, seq % 2, page);
  }
  ExpectAllRefused(db, "is truncated", /*meta_reports=*/true);
}

TEST_F(InspectRobustnessTest, NoValidMetaInASombraFile) {
  const std::string db = dir_.File("db");
  ASSERT_NO_FATAL_FAILURE(BuildFixedDb(db));
  FlipByte(db, 100);
  FlipByte(db, 4096 + 100);
  ExpectAllRefused(db, "no valid meta page in " + db, /*meta_reports=*/true);
  // Each slot with why it is not valid, and its fields as stored.
  RunOutput r = Inspect({db, "meta"});
  EXPECT_NE(r.out.find("meta page 0: invalid: checksum mismatch"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("meta page 1: invalid: checksum mismatch"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  format version:    5\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("in force: none (neither meta page is valid)\n"), std::string::npos)
      << r.out;
}

TEST_F(InspectRobustnessTest, BadPageNumbers) {
  const std::string db = dir_.File("db");
  ASSERT_NO_FATAL_FAILURE(BuildFixedDb(db));
  for (const char* n :
       {"abc", "-1", "+3", " 3", "3 ", "1e3", "0x2", "3.0", "", "6", "7", "4294967296",
        "18446744073709551615", "18446744073709551616", "99999999999999999999999999"}) {
    RunOutput r = Inspect({db, "page", n});
    EXPECT_EQ(CheckRefused(r), "") << "page [" << n << "]";
  }
  EXPECT_NE(Inspect({db, "page", "6"}).err.find("page 6 is out of range"), std::string::npos);
  EXPECT_NE(Inspect({db, "page", "x1"}).err.find("not a page number: x1"), std::string::npos);
  EXPECT_EQ(Inspect({db, "page", "5"}).code, 0);  // the last page is in range
}

TEST_F(InspectRobustnessTest, UsageErrors) {
  const std::string db = dir_.File("db");
  ASSERT_NO_FATAL_FAILURE(BuildFixedDb(db));
  const std::vector<std::vector<std::string>> bad = {
      {db},                      // no command
      {db, "dump"},              // unknown command
      {db, "page"},              // no page number
      {db, "page", "1", "2"},    // one too many
      {db, "meta", "extra"},     // meta takes nothing
      {db, "verify", "--fast"},  // unknown option
      {"--json"},                // flags only
  };
  for (const auto& args : bad) {
    RunOutput r = Inspect(args);
    EXPECT_EQ(CheckRefused(r), "") << args.back();
  }
  // "--" ends the options: a file named like an option can be inspected.
  EXPECT_EQ(CheckRefused(Inspect({"--", "--json", "meta"})), "");
  EXPECT_NE(Inspect({"--", "--json", "meta"}).err.find("no such file: --json"), std::string::npos);
}

TEST_F(InspectRobustnessTest, ControlCharactersInErrorStayOnOneLine) {
  const std::string path = dir_.File("two\nlines");
  RunOutput r = Inspect({path, "meta"});
  EXPECT_EQ(CheckRefused(r), "");
  EXPECT_NE(r.err.find("two\\x0alines"), std::string::npos) << r.err;
}

// Random damage to a real database: whatever the bytes, every command
// either succeeds (0), reports problems (1, verify only) or refuses with
// one line (2).
TEST_F(InspectRobustnessTest, RandomDamageNeverCrashes) {
  const std::string db = dir_.File("db");
  ASSERT_NO_FATAL_FAILURE(BuildFixedDb(db));
  const std::string pristine = ReadFileOrDie(db).substr(0, 6 * 4096);
  std::mt19937_64 rng(sombra::test::TestSeed());
  int refused = 0;
  int failed_verify = 0;
  for (int round = 0; round < 200; ++round) {
    std::string data = pristine;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < flips; ++i) {
      // Mostly headers and meta fields, where the interesting bytes are.
      const size_t page = rng() % 6;
      const size_t offset = rng() % 2 ? rng() % pager::kMetaEndOffset : rng() % 4096;
      data[page * 4096 + offset] = static_cast<char>(rng() & 0xFF);
    }
    if (rng() % 4 == 0) data.resize(rng() % data.size());
    WriteFileOrDie(db, data);
    for (std::vector<std::string> args : {std::vector<std::string>{"meta"},
                                          {"page", std::to_string(rng() % 6)},
                                          {"verify"},
                                          {"verify", "--json"}}) {
      args.insert(args.begin(), db);
      RunOutput r = Inspect(args);
      SCOPED_TRACE("round " + std::to_string(round) + " " + args[1]);
      ASSERT_TRUE(r.code >= 0 && r.code <= 2) << r.code;
      if (r.code == 2) {
        ++refused;
        ASSERT_EQ(CheckRefused(r), "");
      } else if (r.code == 1) {
        ++failed_verify;
        // verify found damage, or meta shows two meta pages of which none
        // (or none of a page count the file holds) is in force.
        ASSERT_TRUE(args[1] == "verify" || args[1] == "meta") << args[1];
        ASSERT_EQ(r.err, "");
        if (args[1] == "meta") {
          ASSERT_EQ(ExpectMetaReport(r), "");
        }
      }
      if (args.back() == "--json" && r.code != 2) {
        std::string why;
        ASSERT_TRUE(IsValidJson(r.out, &why)) << why << "\n" << r.out;
      }
    }
  }
  // The damage is heavy enough that both outcomes happen.
  EXPECT_GT(refused, 0);
  EXPECT_GT(failed_verify, 0);
}

}  // namespace
}  // namespace sombra::inspect::test
