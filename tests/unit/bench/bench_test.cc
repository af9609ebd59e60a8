// Tests of compare-bench's library (tools/compare_bench): keys order like integers,
// values are reproducible, the report formats hold, and every engine
// compiled in runs every mode, with one tree and with several, and passes
// its own verification.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "compare_bench/bench_engine.h"
#include "compare_bench/bench_sys.h"
#include "compare_bench/report.h"
#include "compare_bench/workloads.h"
#include "gtest/gtest.h"
#include "testutil/temp_dir.h"

namespace sombra::bench {
namespace {

TEST(BenchKeys, BigEndianOrderMatchesIntegerOrder) {
  std::string a;
  std::string b;
  for (size_t size : {size_t{4}, size_t{8}, size_t{16}}) {
    for (uint64_t i : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{65535}}) {
      EncodeKey(i, size, &a);
      EncodeKey(i + 1, size, &b);
      EXPECT_EQ(a.size(), size);
      EXPECT_LT(a, b) << "size " << size << " i " << i;
    }
  }
  EncodeKey(0x0102, 8, &a);
  EXPECT_EQ(a, std::string("\0\0\0\0\0\0\x01\x02", 8));
}

TEST(BenchKeys, ValuesAreReproducibleAndSized) {
  std::string a;
  std::string b;
  MakeValue(7, 100, &a);
  MakeValue(7, 100, &b);
  EXPECT_EQ(a.size(), 100u);
  EXPECT_EQ(a, b);
  MakeValue(8, 100, &b);
  EXPECT_NE(a, b);
  MakeValue(7, 0, &a);
  EXPECT_TRUE(a.empty());
}

TEST(BenchModes, NamesRoundTrip) {
  for (Mode m : AllModes()) {
    Mode parsed;
    ASSERT_TRUE(ParseMode(ModeName(m), &parsed));
    EXPECT_EQ(parsed, m);
  }
  Mode unused;
  EXPECT_FALSE(ParseMode("all", &unused));
  EXPECT_FALSE(ParseMode("nope", &unused));
}

TEST(BenchReport, HumanBytes) {
  EXPECT_EQ(HumanBytes(-1), "-");
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(int64_t{3} << 20), "3.0 MiB");
}

TEST(BenchReport, JsonAndCsvCarryEveryRow) {
  sombra::test::TempDir dir;
  Row r;
  r.engine = "sombra";
  r.mode = "commit-every";
  r.docs = 10;
  r.seconds = 0.5;
  r.ops_per_sec = 20;
  r.sombra_ratio = 1;
  r.has_wal_bytes = true;
  r.wal_bytes_per_commit = 64;
  r.metrics_line = "metrics: a=\"1\"";
  RunInfo info;
  info.engines = {"sombra"};
  const std::string json = dir.path() + "/out.json";
  const std::string csv = dir.path() + "/out.csv";
  ASSERT_TRUE(WriteJson(json, info, {r, r}).ok());
  ASSERT_TRUE(WriteCsv(csv, {r, r}).ok());
  std::stringstream js;
  js << std::ifstream(json).rdbuf();
  EXPECT_NE(js.str().find("\"wal_bytes_per_commit\": 64"), std::string::npos) << js.str();
  EXPECT_NE(js.str().find("a=\\\"1\\\""), std::string::npos) << js.str();
  std::ifstream c(csv);
  std::string line;
  int lines = 0;
  while (std::getline(c, line)) ++lines;
  EXPECT_EQ(lines, 3);
}

// Every mode on every compiled-in engine, tiny: RunWorkload verifies the
// contents itself and returns an error when they are wrong.
TEST(BenchWorkloads, EveryEngineRunsEveryMode) {
  sombra::test::TempDir dir;
  for (const std::string& name : AllEngineNames()) {
    if (!EngineCompiledIn(name)) continue;
    for (Mode m : AllModes()) {
      RunConfig c;
      c.mode = m;
      c.docs = m == Mode::kCommitEvery ? 20 : 300;
      c.commit_every = 64;
      c.engine.durability = Durability::kOff;
      c.engine.threads = m == Mode::kReadsOnly || m == Mode::kCommitEvery ? 2 : 1;
      c.engine.key_size = 16;
      c.engine.value_size = 20;
      c.engine.max_keys = 2 * c.docs;
      RunResult r;
      Status s = RunWorkload(name, c, dir.path() + "/" + name, &r);
      ASSERT_TRUE(s.ok()) << name << " " << ModeName(m) << ": " << s.ToString();
      EXPECT_EQ(r.ops, c.docs) << name << " " << ModeName(m);
      EXPECT_GT(r.file_bytes, 0u) << name << " " << ModeName(m);
    }
  }
}

// The same with the keys spread over three trees (--trees 3), plus
// load-sorted (each engine's sorted-load path) with one tree and three.
TEST(BenchWorkloads, EveryEngineRunsEveryModeOverTrees) {
  sombra::test::TempDir dir;
  std::vector<Mode> modes = AllModes();
  modes.push_back(Mode::kLoadSorted);
  for (const std::string& name : AllEngineNames()) {
    if (!EngineCompiledIn(name)) continue;
    for (Mode m : modes) {
      for (int trees : {1, 3}) {
        if (trees > 1 && !ModeTakesTrees(m)) continue;
        if (trees == 1 && m != Mode::kLoadSorted) continue;  // the test above
        RunConfig c;
        c.mode = m;
        c.docs = 301;  // not a multiple of the trees: they hold 101, 100, 100 keys
        c.commit_every = 64;
        c.engine.durability = Durability::kOff;
        c.engine.threads = m == Mode::kReadsOnly ? 2 : 1;
        c.engine.trees = trees;
        c.engine.key_size = 16;
        c.engine.value_size = 20;
        c.engine.max_keys = 2 * c.docs;
        RunResult r;
        Status s = RunWorkload(name, c, dir.path() + "/" + name, &r);
        ASSERT_TRUE(s.ok()) << name << " " << ModeName(m) << " trees " << trees << ": "
                            << s.ToString();
        EXPECT_EQ(r.ops, c.docs) << name << " " << ModeName(m) << " trees " << trees;
      }
    }
  }
}

// The last tree a one-byte prefix can name (LevelDB), scanned both ways.
// RocksDB is left out: opening 256 column families takes it seconds, and
// its trees are not prefixes.
TEST(BenchWorkloads, MostTreesScanBothWays) {
  sombra::test::TempDir dir;
  for (const std::string& name : AllEngineNames()) {
    if (!EngineCompiledIn(name) || name == "rocksdb") continue;
    for (Mode m : {Mode::kScan, Mode::kScanReverse}) {
      RunConfig c;
      c.mode = m;
      c.docs = 2 * kMaxTrees - 1;  // the last tree holds one key
      c.commit_every = 1000;
      c.engine.durability = Durability::kOff;
      c.engine.trees = kMaxTrees;
      c.engine.max_keys = 2 * c.docs;
      RunResult r;
      Status s = RunWorkload(name, c, dir.path() + "/" + name, &r);
      ASSERT_TRUE(s.ok()) << name << " " << ModeName(m) << ": " << s.ToString();
      EXPECT_EQ(r.ops, c.docs) << name << " " << ModeName(m);
    }
  }
}

TEST(BenchWorkloads, CommitEveryRefusesTrees) {
  EXPECT_FALSE(ModeTakesTrees(Mode::kCommitEvery));
  EXPECT_TRUE(ModeTakesTrees(Mode::kInsertsRandom));
  EXPECT_TRUE(ModeTakesTrees(Mode::kLoadSorted));
  sombra::test::TempDir dir;
  for (const std::string& name : AllEngineNames()) {
    if (!EngineCompiledIn(name)) continue;
    RunConfig c;
    c.mode = Mode::kCommitEvery;
    c.docs = 10;
    c.engine.durability = Durability::kOff;
    c.engine.trees = 2;
    RunResult r;
    Status s = RunWorkload(name, c, dir.path() + "/" + name, &r);
    EXPECT_TRUE(s.IsInvalidArgument()) << name << ": " << s.ToString();
  }
}

// What `print` writes to a stream, as text.
std::string Printed(const std::function<void(std::FILE*)>& print) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* f = open_memstream(&buf, &size);
  if (f == nullptr) return "open_memstream failed";
  print(f);
  std::fclose(f);
  std::string text(buf, size);
  std::free(buf);
  return text;
}

TEST(BenchReport, TreesColumnAndSummary) {
  sombra::test::TempDir dir;
  Row one;
  one.engine = "sombra";
  one.mode = "inserts-random";
  one.ops_per_sec = 1000;
  Row many = one;
  many.trees = 16;
  many.ops_per_sec = 900;
  const std::string text = Printed([&](std::FILE* f) {
    PrintHeader(f, true);
    PrintRow(f, one, true);
    PrintRow(f, many, true);
    PrintTreesSummary(f, {one, many}, 16);
  });
  EXPECT_NE(text.find("TREES"), std::string::npos) << text;
  EXPECT_NE(text.find("16 trees / 1 tree"), std::string::npos) << text;
  EXPECT_NE(text.find("0.90x"), std::string::npos) << text;

  const std::string csv = dir.path() + "/out.csv";
  ASSERT_TRUE(WriteCsv(csv, {one, many}).ok());
  std::ifstream c(csv);
  std::string header;
  std::string row1;
  std::string row2;
  std::getline(c, header);
  std::getline(c, row1);
  std::getline(c, row2);
  EXPECT_EQ(header.substr(header.size() - 6), ",trees");
  EXPECT_EQ(row2.substr(row2.size() - 3), ",16");
}

// The floor's two statistics come from one set of samples: the mean is at
// least the smallest sample and the median, a sample, is positive. A
// directory that does not exist is an error, not a zero floor.
TEST(BenchFloor, MeasuresMeanAndMedian) {
  sombra::test::TempDir dir;
  SyncFloor floor;
  ASSERT_TRUE(MeasureSyncFloor(dir.path(), 20, &floor).ok());
  EXPECT_GT(floor.median_us, 0);
  EXPECT_GT(floor.mean_us, 0);
  SyncFloor missing;
  EXPECT_FALSE(MeasureSyncFloor(dir.path() + "/none", 20, &missing).ok());
  EXPECT_EQ(missing.mean_us, 0);
  EXPECT_FALSE(MeasureSyncFloor(dir.path(), 0, &missing).ok());  // no samples, no floor
  EXPECT_EQ(missing.mean_us, 0);
}

// The commit block divides each engine's us/commit (a mean) by the floor's
// mean, and shows the multiple of the median beside it.
TEST(BenchReport, CommitSummaryUsesTheFloorsMean) {
  Row r;
  r.engine = "sombra";
  r.mode = "commit-every";
  r.commits = 1000;
  r.seconds = 0.2;  // 200 us per commit
  r.floor_us = 160;
  r.floor_median_us = 125;
  const std::string text = Printed([&](std::FILE* f) { PrintCommitSummary(f, {r}); });
  EXPECT_NE(text.find("mean 160.0 us, median 125.0 us"), std::string::npos) << text;
  EXPECT_NE(text.find("1.25x floor (1.60x median)"), std::string::npos) << text;
}

}  // namespace
}  // namespace sombra::bench
