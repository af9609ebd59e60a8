// The sombra binary end to end: bulk load, get, scan against a model,
// stats, page sizes, reading beside a writer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cli/escape.h"
#include "cli_run.h"
#include "sombra/db.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"

namespace sombra::cli::test {
namespace {

using sombra::test::TempDir;
using sombra::test::WriteFileOrDie;

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%07d", i);
  return buf;
}

std::string Value(int i) { return "value-" + std::to_string(i * 7919 % 100003); }

TEST(CliE2ETest, LoadsOneHundredThousandLinesThenGetsAndScans) {
  TempDir dir;
  const int n = 100000;
  std::string input;
  for (int i = 0; i < n; i++) input += Key(i) + "\t" + Value(i) + "\n";
  WriteFileOrDie(dir.File("in.tsv"), input);

  // stdin is a file, stderr a file: no progress line.
  RunResult r = RunSombra(dir.path(), {"load", "db"}, "in.tsv");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");

  for (int i : {0, 1, 4242, 50000, n - 1}) {
    r = RunSombra(dir.path(), {"get", "db", Key(i)});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, Value(i) + "\n");
  }
  r = RunSombra(dir.path(), {"get", "db", Key(n)});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");

  r = RunSombra(dir.path(), {"scan", "db", "--limit", "3"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, Key(0) + "\t" + Value(0) + "\n" + Key(1) + "\t" + Value(1) + "\n" + Key(2) +
                       "\t" + Value(2) + "\n");
  r = RunSombra(dir.path(), {"scan", "db", "--keys-only"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(CountLines(r.out), static_cast<size_t>(n));
  r = RunSombra(dir.path(), {"scan", "db", "--reverse", "--keys-only", "--limit", "2"});
  EXPECT_EQ(r.out, Key(n - 1) + "\n" + Key(n - 2) + "\n");
  r = RunSombra(dir.path(), {"scan", "db", "--from", Key(500), "--to", Key(510), "--keys-only"});
  EXPECT_EQ(CountLines(r.out), 10u);

  // The input was sorted and unique, so the dump is the input.
  r = RunSombra(dir.path(), {"dump", "db"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out == input) << "dump differs from the loaded file";

  // The same file as an operand, small batches.
  r = RunSombra(dir.path(), {"load", "db2", "in.tsv", "--batch", "999", "--durability", "off"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  r = RunSombra(dir.path(), {"get", "db2", Key(77777)});
  EXPECT_EQ(r.out, Value(77777) + "\n");

  r = RunSombra(dir.path(), {"verify", "db"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "db: OK\n");
}

// The expected scan output from the model, in hex.
std::string ModelScan(const std::map<std::string, std::string>& model, const std::string* from,
                      const std::string* to, bool reverse, int64_t limit, bool keys_only) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& [k, v] : model) {
    if (from != nullptr && k < *from) continue;
    if (to != nullptr && k >= *to) continue;
    rows.emplace_back(k, v);
  }
  if (reverse) std::reverse(rows.begin(), rows.end());
  if (limit >= 0 && rows.size() > static_cast<size_t>(limit)) rows.resize(limit);
  std::string out;
  for (const auto& [k, v] : rows) {
    out += HexEncode(k);
    if (!keys_only) out += "\t" + HexEncode(v);
    out += "\n";
  }
  return out;
}

TEST(CliE2ETest, ScanRangesMatchAModel) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  TempDir dir;
  // Short keys over a small alphabet (binary bytes included) so that
  // random bounds often fall on, between and beyond the keys.
  const std::string alphabet = std::string("ab\0\xff\x7f", 5);
  auto random_key = [&] {
    std::string k(1 + rng() % 4, '\0');
    for (char& c : k) c = alphabet[rng() % alphabet.size()];
    return k;
  };
  std::map<std::string, std::string> model;
  std::string input;
  for (int i = 0; i < 300; i++) {
    const std::string k = random_key();
    std::string v(rng() % 12, '\0');
    for (char& c : v) c = static_cast<char>(rng() & 0xFF);
    model[k] = v;
    input += HexEncode(k) + "\t" + HexEncode(v) + "\n";
  }
  WriteFileOrDie(dir.File("in.hex"), input);
  RunResult r = RunSombra(dir.path(), {"--hex", "load", "db"}, "in.hex");
  ASSERT_EQ(r.code, 0) << r.err;

  for (int q = 0; q < 40; q++) {
    // Options go before or after the command, in any order.
    std::vector<std::vector<std::string>> options = {{"--hex"}};
    std::string from, to;
    const bool has_from = rng() % 3 != 0;
    const bool has_to = rng() % 3 != 0;
    if (has_from) {
      from = random_key();
      options.push_back({"--from", HexEncode(from)});
    }
    if (has_to) {
      to = random_key();
      options.push_back({"--to=" + HexEncode(to)});
    }
    const bool reverse = rng() % 2 == 0;
    if (reverse) options.push_back({"--reverse"});
    int64_t limit = -1;
    if (rng() % 2 == 0) {
      limit = static_cast<int64_t>(rng() % 25);
      options.push_back({"--limit", std::to_string(limit)});
    }
    const bool keys_only = rng() % 3 == 0;
    if (keys_only) options.push_back({"--keys-only"});
    std::shuffle(options.begin(), options.end(), rng);
    std::vector<std::string> args;
    const size_t before = rng() % (options.size() + 1);
    for (size_t i = 0; i < options.size(); i++) {
      if (i == before) args.insert(args.end(), {"scan", "db"});
      args.insert(args.end(), options[i].begin(), options[i].end());
    }
    if (before == options.size()) args.insert(args.end(), {"scan", "db"});

    r = RunSombra(dir.path(), args);
    ASSERT_EQ(r.code, 0) << r.err;
    std::string what = "seed " + std::to_string(seed) + " query";
    for (const auto& a : args) what += " " + a;
    ASSERT_EQ(r.out, ModelScan(model, has_from ? &from : nullptr, has_to ? &to : nullptr, reverse,
                               limit, keys_only))
        << what;
  }
}

TEST(CliE2ETest, StatsTextAndJson) {
  TempDir dir;
  ASSERT_EQ(RunSombra(dir.path(), {"put", "db", "k", "v"}).code, 0);
  RunResult r = RunSombra(dir.path(), {"stats", "db"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("page_size"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4096"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("commit_avg_ms"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nall:\n"), std::string::npos) << r.out;

  r = RunSombra(dir.path(), {"stats", "--json", "db"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("{\n  \"path\": \"db\",\n  \"page_size\": 4096,", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\"all\": {"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(r.out.size() - 2), "}\n");
}

TEST(CliE2ETest, PageSizeAppliesAtCreationAndIsFoundAfterwards) {
  TempDir dir;
  ASSERT_EQ(RunSombra(dir.path(), {"--page-size", "16384", "put", "db", "k", "v"}).code, 0);
  RunResult r = RunSombra(dir.path(), {"get", "db", "k"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "v\n");
  EXPECT_EQ(RunSombra(dir.path(), {"put", "db", "k2", "v2"}).code, 0);
  r = RunSombra(dir.path(), {"stats", "db", "--json"});
  EXPECT_NE(r.out.find("\"page_size\": 16384"), std::string::npos) << r.out;
  // An explicit, different page size applies to a new database only: the
  // existing one keeps its own.
  r = RunSombra(dir.path(), {"put", "db", "k3", "v3", "--page-size=4096"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = RunSombra(dir.path(), {"stats", "db", "--json"});
  EXPECT_NE(r.out.find("\"page_size\": 16384"), std::string::npos) << r.out;
  EXPECT_EQ(RunSombra(dir.path(), {"get", "db", "k3"}).out, "v3\n");
  // A page size the library refuses.
  r = RunSombra(dir.path(), {"put", "other", "k", "v", "--page-size", "1000"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("sombra: put: other: InvalidArgument: "), std::string::npos) << r.err;
}

TEST(CliE2ETest, ReadsBesideAWriterAndWritesGetBusy) {
  TempDir dir;
  const std::string path = dir.File("db");
  std::unique_ptr<DB> db;
  ASSERT_TRUE(DB::Open(Options(), path, &db).ok());
  ASSERT_TRUE(db->Put("held", "open").ok());

  RunResult r = RunSombra(dir.path(), {"get", "db", "held"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "open\n");
  r = RunSombra(dir.path(), {"scan", "db"});
  EXPECT_EQ(r.out, "held\topen\n");
  EXPECT_EQ(RunSombra(dir.path(), {"verify", "db"}).code, 0);
  EXPECT_EQ(RunSombra(dir.path(), {"stats", "db"}).code, 0);

  r = RunSombra(dir.path(), {"put", "db", "k", "v"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("sombra: put: db: Busy: ", 0), 0u) << r.err;
  EXPECT_EQ(CountLines(r.err), 1u);
  db.reset();
  EXPECT_EQ(RunSombra(dir.path(), {"put", "db", "k", "v"}).code, 0);
  EXPECT_EQ(RunSombra(dir.path(), {"checkpoint", "db"}).code, 0);
  EXPECT_EQ(RunSombra(dir.path(), {"get", "db", "k"}).out, "v\n");
}

}  // namespace
}  // namespace sombra::cli::test
