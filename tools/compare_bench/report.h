// compare_bench/report.h: compare-bench output: the table, the commit-every floor
// block, and the same numbers as JSON or CSV for scripts.
//
// The table keeps the original columns (DATABASE MODE DOCS TIME OPS/SEC
// uS/OP) and adds:
//   SOMBRA/X   Sombra's ops/sec divided by this engine's ops/sec in the same
//              mode: 2.31x means Sombra did 2.31 times the work per second;
//              0.50x means the engine was twice as fast as Sombra.
//   FILE SIZE  bytes of every file in the engine's directory after Close.
//   PEAK MEM   growth of the process's peak RSS during the timed phase.
// and, with --trees N > 1, a TREES column (each mode runs with 1 tree and
// with N; SOMBRA/X compares engines at the same tree count) followed by
// the trees-N / trees-1 block of each mode (PrintTreesSummary).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "sombra/status.h"

namespace sombra::bench {

// One engine in one mode: the median of the repeats.
struct Row {
  std::string engine;
  std::string mode;
  int trees = 1;      // key spaces the work was spread over (--trees)
  uint64_t docs = 0;  // operations timed
  double seconds = 0;
  double ops_per_sec = 0;
  double us_per_op = 0;
  double sombra_ratio = 0;  // Sombra ops/sec / this ops/sec; 0 when Sombra did not run
  uint64_t file_bytes = 0;
  int64_t peak_mem_bytes = -1;
  std::vector<double> all_seconds;  // every repeat, in run order
  uint64_t commits = 0;
  bool has_wal_bytes = false;
  double wal_bytes_per_commit = 0;
  // commit-every: the fdatasync floor measured in the same run (SyncFloor),
  // its mean (what the ratio divides by) and its median.
  double floor_us = 0;
  double floor_median_us = 0;
  std::string metrics_line;
  std::string pager_line;
};

struct RunInfo {
  uint64_t docs = 0;
  uint64_t commit_every = 0;
  size_t key_size = 0;
  size_t value_size = 0;
  std::string durability;
  int threads = 1;
  int trees = 1;  // --trees
  int repeat = 1;
  uint64_t seed = 0;
  bool profiling = false;
  std::string peak_mem_method;  // "VmHWM" or "VmRSS delta"
  std::vector<std::string> engines;
  std::vector<std::string> skipped;
};

// "12.3 KiB", "4.0 MiB".
std::string HumanBytes(int64_t bytes);

// `trees_column`: print the TREES column (--trees > 1).
void PrintHeader(std::FILE* out, bool trees_column);
void PrintRow(std::FILE* out, const Row& row, bool trees_column);
// For one mode: each engine's ops/sec with N trees divided by its ops/sec
// with one tree (`rows` holds both; rows of other tree counts are ignored).
void PrintTreesSummary(std::FILE* out, const std::vector<Row>& rows, int trees);
// The commit-every block: floor, us/commit per engine beside it, and log
// bytes per commit where the engine reports them.
void PrintCommitSummary(std::FILE* out, const std::vector<Row>& rows);

Status WriteJson(const std::string& path, const RunInfo& info, const std::vector<Row>& rows);
Status WriteCsv(const std::string& path, const std::vector<Row>& rows);

}  // namespace sombra::bench
