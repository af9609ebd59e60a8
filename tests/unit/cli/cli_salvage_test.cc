// The sombra binary on damaged files: a damaged log is reported (never an
// empty OK), --salvage keeps the valid prefix, a page file missing beside
// its log is refused, and verify checks both meta pages (docs/cli.md).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "cli_run.h"
#include "sombra/db.h"
#include "testutil/temp_dir.h"
#include "wal/wal_format.h"

namespace sombra::cli::test {
namespace {

using sombra::test::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

bool Contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

uint32_t Le32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

class CliSalvageTest : public ::testing::Test {
 protected:
  // A crash image in dir_/db: "base" in the page file, then 30 durable
  // transactions (k00..k29) only in the log.
  void SetUp() override {
    const std::string live = dir_.File("live");
    {
      std::unique_ptr<DB> db;
      ASSERT_TRUE(DB::Open(Options(), live, &db).ok());
      ASSERT_TRUE(db->Put("base", "b").ok());
      ASSERT_TRUE(db->Checkpoint().ok());
      for (int i = 0; i < 30; ++i) {
        char key[8];
        std::snprintf(key, sizeof(key), "k%02d", i);
        ASSERT_TRUE(db->Put(key, "v").ok());
      }
      page_file_ = ReadAll(live);
      log_ = ReadAll(live + "-wal");
    }
    WriteAll(db_, page_file_);
    WriteAll(db_ + "-wal", log_);
  }

  // The offset of the n-th commit record of the log.
  size_t Commit(int n) {
    size_t at = wal::kWalHeaderSize;
    while (log_[at] != 0) {
      if (log_[at] == 3 && n-- == 0) return at;
      at += 16 + Le32(log_, at + 4);
    }
    ADD_FAILURE() << "no such commit";
    return 0;
  }

  TempDir dir_;
  std::string db_ = dir_.File("db");
  std::string page_file_;
  std::string log_;
};

TEST_F(CliSalvageTest, DamagedCommitIsRefusedAndSalvageKeepsThePrefix) {
  std::string log = log_;
  log[Commit(12) + 4] ^= 0x01;  // transaction 13's commit length
  WriteAll(db_ + "-wal", log);

  RunResult v = RunSombra(dir_.path(), {"verify", "db"});
  EXPECT_EQ(v.code, 1) << v.err;
  EXPECT_EQ(v.out, "");
  EXPECT_TRUE(Contains(v.err, "Corruption")) << v.err;
  EXPECT_TRUE(Contains(v.err, "db-wal")) << v.err;
  EXPECT_TRUE(Contains(v.err, "salvage")) << v.err;
  RunResult d = RunSombra(dir_.path(), {"dump", "db"});
  EXPECT_EQ(d.code, 2) << d.err;
  EXPECT_EQ(d.out, "");
  EXPECT_EQ(ReadAll(db_ + "-wal"), log) << "reading commands leave the log as it was";

  RunResult sd = RunSombra(dir_.path(), {"--salvage", "scan", "db", "--keys-only"});
  EXPECT_EQ(sd.code, 0) << sd.err;
  std::string want = "base\n";
  for (int i = 0; i < 12; ++i)
    want += "k" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "\n";
  EXPECT_EQ(sd.out, want);
  EXPECT_EQ(RunSombra(dir_.path(), {"verify", "db", "--salvage"}).code, 0);
  EXPECT_EQ(ReadAll(db_ + "-wal"), log) << "a read-only salvage writes nothing";

  RunResult p = RunSombra(dir_.path(), {"--salvage", "put", "db", "new", "x"});
  EXPECT_EQ(p.code, 0) << p.err;
  EXPECT_EQ(ReadAll(db_ + "-wal.salvaged"), log);
  RunResult after = RunSombra(dir_.path(), {"scan", "db", "--keys-only"});
  EXPECT_EQ(after.code, 0) << after.err;
  EXPECT_EQ(after.out, want + "new\n");
  EXPECT_EQ(RunSombra(dir_.path(), {"verify", "db"}).code, 0);
}

TEST_F(CliSalvageTest, DamagedLogHeaderIsNotAnEmptyDatabase) {
  std::string log = log_;
  log[40] ^= 0x01;  // the start LSN
  WriteAll(db_ + "-wal", log);
  RunResult v = RunSombra(dir_.path(), {"verify", "db"});
  EXPECT_EQ(v.code, 1) << v.err;
  EXPECT_TRUE(Contains(v.err, "log header")) << v.err;
  RunResult put = RunSombra(dir_.path(), {"put", "db", "k", "v"});
  EXPECT_EQ(put.code, 2) << put.err;
  EXPECT_EQ(ReadAll(db_ + "-wal"), log) << "a refused write leaves the log as it was";
}

TEST_F(CliSalvageTest, EmptiedPageFileBesideItsLogIsRefused) {
  WriteAll(db_, "");
  RunResult put = RunSombra(dir_.path(), {"put", "db", "k", "v"});
  EXPECT_EQ(put.code, 2) << put.err;
  EXPECT_TRUE(Contains(put.err, "Corruption")) << put.err;
  EXPECT_TRUE(Contains(put.err, "db-wal")) << put.err;
  EXPECT_EQ(ReadAll(db_), "");
  EXPECT_EQ(ReadAll(db_ + "-wal"), log_);
}

TEST(CliMetaTest, VerifyReportsADamagedStandbyMetaPage) {
  TempDir dir;
  ASSERT_EQ(RunSombra(dir.path(), {"put", "db", "a", "1"}).code, 0);
  ASSERT_EQ(RunSombra(dir.path(), {"put", "db", "b", "2"}).code, 0);
  std::string f = ReadAll(dir.File("db"));
  auto seq = [&](size_t slot) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(f[slot * 4096 + 72 + i]);
    return v;
  };
  const size_t standby = seq(0) > seq(1) ? 1 : 0;
  f[standby * 4096 + 100] ^= 0x01;
  WriteAll(dir.File("db"), f);
  RunResult v = RunSombra(dir.path(), {"verify", "db"});
  EXPECT_EQ(v.code, 1) << v.err;
  EXPECT_TRUE(Contains(v.err, "meta page " + std::to_string(standby))) << v.err;
  RunResult g = RunSombra(dir.path(), {"get", "db", "b"});
  EXPECT_EQ(g.code, 0) << g.err;
  EXPECT_EQ(g.out, "2\n");
}

}  // namespace
}  // namespace sombra::cli::test
