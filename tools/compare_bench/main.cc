// compare-bench: Sombra side by side with SQLite, LMDB, RocksDB and LevelDB
// in one process (docs/benchmarks.md, tools/compare_bench/README.md).
//
//   compare-bench --mode all --docs 1000000 --engines sombra,sqlite,lmdb --json out.json
//   SOMBRA_PROFILE=1 compare-bench --mode inserts-only --docs 10000 --commit-every 10000
//   compare-bench --mode inserts-random --docs 250000 --trees 16
//
// Every figure is the median of --repeat runs; engines run in turn within
// each repeat so drift of the machine hits them alike.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "compare_bench/bench_engine.h"
#include "compare_bench/bench_sys.h"
#include "compare_bench/report.h"
#include "compare_bench/workloads.h"
#include "sombra/version.h"
#include "util/metrics.h"

namespace sb = sombra::bench;

namespace {

constexpr const char* kUsage =
    "usage: compare-bench [options]\n"
    "  --mode M          inserts-only | inserts-random | reads-only | scan | scan-reverse |\n"
    "                    mixed | commit-every | load-sorted | all    (default inserts-only)\n"
    "                    (load-sorted: inserts-only through WriteTxn::Append, LMDB's\n"
    "                    MDB_APPEND, RocksDB's SstFileWriter + ingest; not part of all)\n"
    "  --docs N          keys loaded / operations timed               (default 10000)\n"
    "  --commit-every K  writes per transaction in batch modes        (default 1000)\n"
    "  --commit-docs N   commits timed by commit-every  (default: --docs; with --mode all\n"
    "                    min(--docs, 10000), as each one waits for the disk)\n"
    "  --key-size B      key bytes, big-endian integers, zero-padded  (default 8)\n"
    "  --value-size B    value bytes                                  (default 8)\n"
    "  --durability D    full | normal | off, applied to every engine (default full)\n"
    "  --threads T       readers in reads-only, committers in commit-every (default 1)\n"
    "  --trees N         spread the keys over N trees of each engine (key i in tree\n"
    "                    i mod N, all written by the same transactions), 1..256; with\n"
    "                    N > 1 every mode runs with 1 tree and with N, side by side\n"
    "                    (commit-every: one tree only)               (default 1)\n"
    "  --repeat R        runs per figure, the median is reported     (default 3)\n"
    "  --engines LIST    comma list of sombra,sqlite,lmdb,rocksdb,leveldb (default all)\n"
    "  --reverse         --mode scan scans from the last key\n"
    "  --json FILE       write the results as JSON\n"
    "  --version         print the version and the formats this build writes\n"
    "  --csv FILE        write the results as CSV\n"
    "  --seed S          seed of the random key orders               (default 1)\n"
    "  --dir DIR         where databases go (default a fresh /tmp/compare-bench-XXXXXX)\n"
    "  --keep            keep the databases\n"
    "  --btree-inplace   accepted for compatibility (in-place edits are always on)\n";

[[noreturn]] void Usage(const std::string& error) {
  std::fprintf(stderr, "compare-bench: %s\n%s", error.c_str(), kUsage);
  std::exit(2);
}

uint64_t ParseU64(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || v[0] == '-') {
    Usage(flag + " wants a number, got '" + v + "'");
  }
  return n;
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

struct Flags {
  std::string mode = "inserts-only";
  uint64_t docs = 10000;
  uint64_t commit_every = 1000;
  uint64_t commit_docs = 0;  // 0: see kUsage
  uint64_t key_size = 8;
  uint64_t value_size = 8;
  std::string durability = "full";
  uint64_t threads = 1;
  uint64_t trees = 1;
  uint64_t repeat = 3;
  std::vector<std::string> engines = sb::AllEngineNames();
  bool reverse = false;
  std::string json;
  std::string csv;
  uint64_t seed = 1;
  std::string dir;
  bool keep = false;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) Usage(arg + " wants a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--version") {
      std::printf("%s\n", sombra::VersionLine("compare-bench").c_str());
      std::exit(0);
    } else if (arg == "--mode") {
      f.mode = next();
    } else if (arg == "--docs") {
      f.docs = ParseU64(arg, next());
    } else if (arg == "--commit-every") {
      f.commit_every = ParseU64(arg, next());
    } else if (arg == "--commit-docs") {
      f.commit_docs = ParseU64(arg, next());
    } else if (arg == "--key-size") {
      f.key_size = ParseU64(arg, next());
    } else if (arg == "--value-size") {
      f.value_size = ParseU64(arg, next());
    } else if (arg == "--durability") {
      f.durability = next();
    } else if (arg == "--threads") {
      f.threads = ParseU64(arg, next());
    } else if (arg == "--trees") {
      f.trees = ParseU64(arg, next());
    } else if (arg == "--repeat") {
      f.repeat = ParseU64(arg, next());
    } else if (arg == "--engines") {
      f.engines = SplitComma(next());
    } else if (arg == "--json") {
      f.json = next();
    } else if (arg == "--csv") {
      f.csv = next();
    } else if (arg == "--seed") {
      f.seed = ParseU64(arg, next());
    } else if (arg == "--dir") {
      f.dir = next();
    } else if (arg == "--keep") {
      f.keep = true;
    } else if (arg == "--reverse") {
      f.reverse = true;
    } else if (arg == "--btree-inplace") {
      // Compatibility with the original tool: in-place edits are always on.
    } else {
      Usage("unknown argument '" + arg + "'");
    }
  }
  if (f.docs == 0) Usage("--docs must be at least 1");
  if (f.commit_every == 0) Usage("--commit-every must be at least 1");
  if (f.key_size == 0 || f.key_size > 1024) Usage("--key-size must be 1..1024");
  if (f.value_size > (64u << 20)) Usage("--value-size must be at most 64 MiB");
  if (f.threads == 0 || f.threads > 256) Usage("--threads must be 1..256");
  if (f.trees == 0 || f.trees > static_cast<uint64_t>(sb::kMaxTrees)) {
    Usage("--trees must be 1.." + std::to_string(sb::kMaxTrees));
  }
  if (f.repeat == 0 || f.repeat > 100) Usage("--repeat must be 1..100");
  if (f.engines.empty()) Usage("--engines is empty");
  if (f.key_size < 8 && 2 * std::max(f.docs, f.commit_docs) > (uint64_t{1} << (8 * f.key_size))) {
    Usage("--key-size too small for 2 x --docs distinct keys");
  }
  for (const std::string& e : f.engines) {
    const auto& all = sb::AllEngineNames();
    if (std::find(all.begin(), all.end(), e) == all.end()) Usage("unknown engine '" + e + "'");
  }
  return f;
}

sombra::Durability ParseDurability(const std::string& s) {
  if (s == "full") return sombra::Durability::kFull;
  if (s == "normal") return sombra::Durability::kNormal;
  if (s == "off") return sombra::Durability::kOff;
  Usage("--durability must be full, normal or off");
}

// The index of the median of `v` (the lower one for an even count).
size_t MedianIndex(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  return idx[(idx.size() - 1) / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  const sombra::Durability durability = ParseDurability(flags.durability);

  std::vector<sb::Mode> modes;
  const bool all = flags.mode == "all";
  if (all) {
    modes = sb::AllModes();
  } else {
    sb::Mode m;
    if (!sb::ParseMode(flags.mode, &m)) Usage("unknown mode '" + flags.mode + "'");
    if (m == sb::Mode::kScan && flags.reverse) m = sb::Mode::kScanReverse;
    if (flags.trees > 1 && !sb::ModeTakesTrees(m)) {
      Usage("--trees > 1 is not supported by --mode " + flags.mode +
            " (its one-put commits go through DB::Put and its peers, which write the default "
            "key space)");
    }
    modes.push_back(m);
  }
  uint64_t commit_docs = flags.commit_docs;
  if (commit_docs == 0) commit_docs = all ? std::min<uint64_t>(flags.docs, 10000) : flags.docs;

  // Where the databases go.
  std::string base = flags.dir;
  bool own_base = false;
  if (base.empty()) {
    char tmpl[] = "/tmp/compare-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      std::perror("compare-bench: mkdtemp");
      return 1;
    }
    base = tmpl;
    own_base = true;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(base, ec);
    if (ec) {
      std::fprintf(stderr, "compare-bench: cannot create %s: %s\n", base.c_str(),
                   ec.message().c_str());
      return 1;
    }
  }

  sb::RunInfo info;
  info.docs = flags.docs;
  info.commit_every = flags.commit_every;
  info.key_size = flags.key_size;
  info.value_size = flags.value_size;
  info.durability = flags.durability;
  info.threads = static_cast<int>(flags.threads);
  info.trees = static_cast<int>(flags.trees);
  info.repeat = static_cast<int>(flags.repeat);
  info.seed = flags.seed;
  info.profiling = sombra::ProfilingEnabled();
  {
    sb::PeakMemory probe;
    probe.Start();
    info.peak_mem_method = probe.exact() ? "VmHWM" : "VmRSS delta";
  }
  for (const std::string& e : flags.engines) {
    std::string why;
    if (sb::EngineCompiledIn(e)) {
      info.engines.push_back(e);
    } else {
      (void)sb::NewEngine(e, &why);
      std::printf("skipped %s: %s\n", e.c_str(), why.c_str());
      info.skipped.push_back(e);
    }
  }

  std::printf(
      "compare-bench: docs=%llu commit-every=%llu key=%lluB value=%lluB durability=%s "
      "threads=%llu trees=%llu repeat=%llu seed=%llu dir=%s\n",
      static_cast<unsigned long long>(flags.docs),
      static_cast<unsigned long long>(flags.commit_every),
      static_cast<unsigned long long>(flags.key_size),
      static_cast<unsigned long long>(flags.value_size), flags.durability.c_str(),
      static_cast<unsigned long long>(flags.threads), static_cast<unsigned long long>(flags.trees),
      static_cast<unsigned long long>(flags.repeat), static_cast<unsigned long long>(flags.seed),
      base.c_str());
  std::printf(
      "SOMBRA/X = Sombra ops/sec / engine ops/sec (>1: Sombra faster). PEAK MEM = %s growth "
      "during the timed phase (process-wide). FILE SIZE after close.\n",
      info.peak_mem_method == "VmHWM" ? "peak RSS (VmHWM reset per run)" : "VmRSS");
  if (info.profiling) {
    std::printf("SOMBRA_PROFILE=1: Sombra's timers are on; its times include their cost.\n");
  }
  const bool trees_column = flags.trees > 1;
  if (trees_column) {
    std::printf(
        "TREES = key spaces the keys were spread over (key i in tree i mod TREES); SOMBRA/X "
        "compares engines at the same TREES.\n");
  }
  sb::PrintHeader(stdout, trees_column);
  std::fflush(stdout);

  std::vector<sb::Row> rows;
  std::vector<std::string> dirs;
  int exit_code = 0;
  for (sb::Mode mode : modes) {
    // The tree counts this mode runs with: 1, and --trees beside it.
    std::vector<int> tree_counts = {1};
    if (flags.trees > 1) {
      if (sb::ModeTakesTrees(mode)) {
        tree_counts.push_back(static_cast<int>(flags.trees));
      } else {
        std::printf("%s: one tree only (--trees > 1 is not supported by this mode)\n",
                    sb::ModeName(mode));
      }
    }
    const size_t n = info.engines.size();
    const size_t variants = tree_counts.size();
    std::vector<sb::RunConfig> configs(variants);
    for (size_t v = 0; v < variants; ++v) {
      sb::RunConfig& config = configs[v];
      config.mode = mode;
      config.docs = mode == sb::Mode::kCommitEvery ? commit_docs : flags.docs;
      config.commit_every = flags.commit_every;
      config.seed = flags.seed;
      config.engine.durability = durability;
      config.engine.key_size = flags.key_size;
      config.engine.value_size = flags.value_size;
      config.engine.threads = static_cast<int>(flags.threads);
      config.engine.trees = tree_counts[v];
      config.engine.max_keys = 2 * config.docs;
    }

    // results[v][e]: every repeat of engine e with tree_counts[v]. Within a
    // repeat the tree counts and the engines run in turn.
    std::vector<std::vector<std::vector<sb::RunResult>>> results(
        variants, std::vector<std::vector<sb::RunResult>>(n));
    std::vector<sb::SyncFloor> floors;
    for (uint64_t r = 0; r < flags.repeat && exit_code == 0; ++r) {
      if (mode == sb::Mode::kCommitEvery) {
        sb::SyncFloor sync_floor;
        sombra::Status s = sb::MeasureSyncFloor(base, sb::kSyncFloorSamples, &sync_floor);
        if (!s.ok()) {
          std::fprintf(stderr, "compare-bench: floor: %s\n", s.ToString().c_str());
          exit_code = 1;
          break;
        }
        floors.push_back(sync_floor);
      }
      for (size_t v = 0; v < variants && exit_code == 0; ++v) {
        for (size_t e = 0; e < n; ++e) {
          std::string dir = base + "/" + info.engines[e] + "-" + sb::ModeName(mode);
          if (tree_counts[v] > 1) dir += "-t" + std::to_string(tree_counts[v]);
          if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
          sb::RunResult result;
          sombra::Status s = sb::RunWorkload(info.engines[e], configs[v], dir, &result);
          if (!s.ok()) {
            std::fprintf(stderr, "compare-bench: FAILED: %s\n", s.ToString().c_str());
            exit_code = 1;
            break;
          }
          results[v][e].push_back(result);
          if (!flags.keep) sb::RemoveDir(dir);  // disk use stays one database at a time
        }
      }
    }
    if (exit_code != 0) break;

    std::vector<sb::Row> mode_rows;
    // The floor of the repeat whose mean is the median of the repeats'.
    sb::SyncFloor sync_floor;
    if (!floors.empty()) {
      std::vector<double> means;
      for (const sb::SyncFloor& f : floors) means.push_back(f.mean_us);
      sync_floor = floors[MedianIndex(means)];
    }
    for (size_t v = 0; v < variants; ++v) {
      std::vector<sb::Row> variant_rows;
      for (size_t e = 0; e < n; ++e) {
        std::vector<double> secs;
        for (const sb::RunResult& res : results[v][e]) secs.push_back(res.seconds);
        const sb::RunResult& m = results[v][e][MedianIndex(secs)];
        sb::Row row;
        row.engine = info.engines[e];
        row.mode = sb::ModeName(mode);
        row.trees = tree_counts[v];
        row.docs = m.ops;
        row.seconds = m.seconds;
        row.ops_per_sec = m.seconds > 0 ? static_cast<double>(m.ops) / m.seconds : 0;
        row.us_per_op = m.ops > 0 ? m.seconds * 1e6 / static_cast<double>(m.ops) : 0;
        row.file_bytes = m.file_bytes;
        row.peak_mem_bytes = m.peak_mem_bytes;
        row.all_seconds = secs;
        row.commits = m.commits;
        uint64_t commits = m.report.commits > 0 ? m.report.commits : m.commits;
        row.has_wal_bytes = m.report.has_wal_bytes && commits > 0;
        row.wal_bytes_per_commit =
            commits > 0 ? static_cast<double>(m.report.wal_bytes) / static_cast<double>(commits)
                        : 0;
        row.floor_us = sync_floor.mean_us;
        row.floor_median_us = sync_floor.median_us;
        row.metrics_line = m.report.metrics_line;
        row.pager_line = m.report.pager_line;
        variant_rows.push_back(row);
      }
      // SOMBRA/X compares engines at the same tree count.
      double sombra_ops = 0;
      for (const sb::Row& row : variant_rows) {
        if (row.engine == "sombra") sombra_ops = row.ops_per_sec;
      }
      for (sb::Row& row : variant_rows) {
        row.sombra_ratio = sombra_ops > 0 && row.ops_per_sec > 0 ? sombra_ops / row.ops_per_sec : 0;
        sb::PrintRow(stdout, row, trees_column);
      }
      mode_rows.insert(mode_rows.end(), variant_rows.begin(), variant_rows.end());
    }
    if (mode == sb::Mode::kCommitEvery) sb::PrintCommitSummary(stdout, mode_rows);
    if (variants > 1) sb::PrintTreesSummary(stdout, mode_rows, tree_counts.back());
    std::fflush(stdout);
    rows.insert(rows.end(), mode_rows.begin(), mode_rows.end());
  }

  if (exit_code == 0 && !flags.json.empty()) {
    sombra::Status s = sb::WriteJson(flags.json, info, rows);
    if (!s.ok()) {
      std::fprintf(stderr, "compare-bench: %s\n", s.ToString().c_str());
      exit_code = 1;
    }
  }
  if (exit_code == 0 && !flags.csv.empty()) {
    sombra::Status s = sb::WriteCsv(flags.csv, rows);
    if (!s.ok()) {
      std::fprintf(stderr, "compare-bench: %s\n", s.ToString().c_str());
      exit_code = 1;
    }
  }
  if (!flags.keep) {
    for (const std::string& d : dirs) sb::RemoveDir(d);
    if (own_base) sb::RemoveDir(base);
  } else {
    std::printf("kept databases in %s\n", base.c_str());
  }
  return exit_code;
}
