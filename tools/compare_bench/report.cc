// compare_bench/report.cc: see report.h.
#include "compare_bench/report.h"

#include <cstdio>
#include <string>
#include <vector>

#include "compare_bench/bench_sys.h"

namespace sombra::bench {
namespace {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

std::string Ratio(const Row& row) {
  if (row.sombra_ratio <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2fx", row.sombra_ratio);
  return buf;
}

}  // namespace

std::string HumanBytes(int64_t bytes) {
  if (bytes < 0) return "-";
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof(buf), "%lld B", static_cast<long long>(bytes));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, units[u]);
  }
  return buf;
}

void PrintHeader(std::FILE* out, bool trees_column) {
  std::fprintf(out, "%-9s %-15s ", "DATABASE", "MODE");
  if (trees_column) std::fprintf(out, "%5s ", "TREES");
  std::fprintf(out, "%9s %10s %12s %9s %9s %11s %10s\n", "DOCS", "TIME", "OPS/SEC", "uS/OP",
               "SOMBRA/X", "FILE SIZE", "PEAK MEM");
}

void PrintRow(std::FILE* out, const Row& row, bool trees_column) {
  std::fprintf(out, "%-9s %-15s ", row.engine.c_str(), row.mode.c_str());
  if (trees_column) std::fprintf(out, "%5d ", row.trees);
  std::fprintf(out, "%9llu %9.4fs %12.0f %9.3f %9s %11s %10s\n",
               static_cast<unsigned long long>(row.docs), row.seconds, row.ops_per_sec,
               row.us_per_op, Ratio(row).c_str(),
               HumanBytes(static_cast<int64_t>(row.file_bytes)).c_str(),
               HumanBytes(row.peak_mem_bytes).c_str());
  if (!row.metrics_line.empty()) std::fprintf(out, "%s\n", row.metrics_line.c_str());
  if (!row.pager_line.empty()) std::fprintf(out, "%s\n", row.pager_line.c_str());
}

void PrintCommitSummary(std::FILE* out, const std::vector<Row>& rows) {
  if (rows.empty()) return;
  std::fprintf(out,
               "commit-every floor: 4 KiB pwrite overwrite + fdatasync, mean %.1f us, median "
               "%.1f us (%d samples in the bench dir during this run; x floor divides the mean "
               "us/commit by the floor's mean, (median) by its median)\n",
               rows.front().floor_us, rows.front().floor_median_us, kSyncFloorSamples);
  for (const Row& r : rows) {
    double us_per_commit = r.commits > 0 ? r.seconds * 1e6 / static_cast<double>(r.commits) : 0;
    std::fprintf(out, "  %-9s %9.1f us/commit  %6.2fx floor (%.2fx median)", r.engine.c_str(),
                 us_per_commit, r.floor_us > 0 ? us_per_commit / r.floor_us : 0.0,
                 r.floor_median_us > 0 ? us_per_commit / r.floor_median_us : 0.0);
    if (r.has_wal_bytes) {
      std::fprintf(out, "  wal bytes/commit %9.1f", r.wal_bytes_per_commit);
    }
    std::fprintf(out, "\n");
  }
}

void PrintTreesSummary(std::FILE* out, const std::vector<Row>& rows, int trees) {
  std::vector<const Row*> one;
  std::vector<const Row*> many;
  for (const Row& r : rows) {
    if (r.trees == 1) one.push_back(&r);
    if (r.trees == trees) many.push_back(&r);
  }
  if (one.empty() || many.empty()) return;
  std::fprintf(out, "%s, %d trees / 1 tree (ops/sec; 1.00x: spreading costs nothing):\n",
               one.front()->mode.c_str(), trees);
  for (const Row* a : one) {
    for (const Row* b : many) {
      if (b->engine != a->engine) continue;
      if (a->ops_per_sec > 0) {
        std::fprintf(out, "  %-9s %6.2fx  (%.0f vs %.0f ops/sec)\n", a->engine.c_str(),
                     b->ops_per_sec / a->ops_per_sec, b->ops_per_sec, a->ops_per_sec);
      }
    }
  }
}

Status WriteJson(const std::string& path, const RunInfo& info, const std::vector<Row>& rows) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return Status::IOError("cannot write " + path);
  std::string engines;
  for (const std::string& e : info.engines)
    engines += (engines.empty() ? "" : ", ") + JsonString(e);
  std::string skipped;
  for (const std::string& e : info.skipped)
    skipped += (skipped.empty() ? "" : ", ") + JsonString(e);
  std::fprintf(f,
               "{\n  \"config\": {\"docs\": %llu, \"commit_every\": %llu, \"key_size\": %zu, "
               "\"value_size\": %zu, \"durability\": %s, \"threads\": %d, \"trees\": %d, "
               "\"repeat\": %d, "
               "\"seed\": %llu, \"profiling\": %s, \"peak_mem_method\": %s, "
               "\"engines\": [%s], \"skipped\": [%s]},\n  \"results\": [",
               static_cast<unsigned long long>(info.docs),
               static_cast<unsigned long long>(info.commit_every), info.key_size, info.value_size,
               JsonString(info.durability).c_str(), info.threads, info.trees, info.repeat,
               static_cast<unsigned long long>(info.seed), info.profiling ? "true" : "false",
               JsonString(info.peak_mem_method).c_str(), engines.c_str(), skipped.c_str());
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    std::string all;
    for (double s : r.all_seconds) all += (all.empty() ? "" : ", ") + Num(s);
    std::fprintf(
        f,
        "%s\n    {\"engine\": %s, \"mode\": %s, \"trees\": %d, \"docs\": %llu, \"seconds\": %s, "
        "\"ops_per_sec\": %s, \"us_per_op\": %s, \"sombra_ratio\": %s, "
        "\"file_bytes\": %llu, \"peak_mem_bytes\": %lld, \"all_seconds\": [%s], "
        "\"commits\": %llu",
        i == 0 ? "" : ",", JsonString(r.engine).c_str(), JsonString(r.mode).c_str(), r.trees,
        static_cast<unsigned long long>(r.docs), Num(r.seconds).c_str(), Num(r.ops_per_sec).c_str(),
        Num(r.us_per_op).c_str(), r.sombra_ratio > 0 ? Num(r.sombra_ratio).c_str() : "null",
        static_cast<unsigned long long>(r.file_bytes), static_cast<long long>(r.peak_mem_bytes),
        all.c_str(), static_cast<unsigned long long>(r.commits));
    if (r.has_wal_bytes) {
      std::fprintf(f, ", \"wal_bytes_per_commit\": %s", Num(r.wal_bytes_per_commit).c_str());
    }
    if (r.floor_us > 0) {
      std::fprintf(f, ", \"floor_us\": %s, \"floor_median_us\": %s", Num(r.floor_us).c_str(),
                   Num(r.floor_median_us).c_str());
    }
    if (!r.metrics_line.empty()) {
      std::fprintf(f, ", \"metrics\": %s", JsonString(r.metrics_line).c_str());
    }
    if (!r.pager_line.empty()) std::fprintf(f, ", \"pager\": %s", JsonString(r.pager_line).c_str());
    std::fprintf(f, "}");
  }
  std::fprintf(f, "\n  ]\n}\n");
  bool ok = std::fclose(f) == 0;
  return ok ? Status::OK() : Status::IOError("cannot write " + path);
}

Status WriteCsv(const std::string& path, const std::vector<Row>& rows) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return Status::IOError("cannot write " + path);
  std::fprintf(f,
               "database,mode,docs,seconds,ops_per_sec,us_per_op,sombra_ratio,file_bytes,"
               "peak_mem_bytes,commits,wal_bytes_per_commit,floor_us,floor_median_us,trees\n");
  for (const Row& r : rows) {
    std::fprintf(
        f, "%s,%s,%llu,%s,%s,%s,%s,%llu,%lld,%llu,%s,%s,%s,%d\n", r.engine.c_str(), r.mode.c_str(),
        static_cast<unsigned long long>(r.docs), Num(r.seconds).c_str(), Num(r.ops_per_sec).c_str(),
        Num(r.us_per_op).c_str(), r.sombra_ratio > 0 ? Num(r.sombra_ratio).c_str() : "",
        static_cast<unsigned long long>(r.file_bytes), static_cast<long long>(r.peak_mem_bytes),
        static_cast<unsigned long long>(r.commits),
        r.has_wal_bytes ? Num(r.wal_bytes_per_commit).c_str() : "",
        r.floor_us > 0 ? Num(r.floor_us).c_str() : "",
        r.floor_median_us > 0 ? Num(r.floor_median_us).c_str() : "", r.trees);
  }
  bool ok = std::fclose(f) == 0;
  return ok ? Status::OK() : Status::IOError("cannot write " + path);
}

}  // namespace sombra::bench
