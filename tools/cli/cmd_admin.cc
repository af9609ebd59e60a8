// cli/cmd_admin.cc: verify and stats (read_only opens), backup (a read_only open
// whose snapshot is copied: DB::Backup) and recover (sombra-inspect recover).
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/cli.h"
#include "cli/cli_internal.h"
#include "cli/progress.h"
#include "inspect/inspect.h"

namespace sombra::cli {

namespace {

// A counter or timer average of Stats, already formatted.
struct StatField {
  const char* name;
  std::string value;
};

std::string FormatDouble(double v) {
  if (!std::isfinite(v)) return "0";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  return buf;
}

// The Stats fields, then `records`, counted by the command (Stats has no
// record count: it would cost a scan on every GetStats).
std::vector<StatField> NamedFields(const Stats& st, uint64_t records) {
  auto u = [](uint64_t v) { return std::to_string(v); };
  return {
      {"page_size", u(st.page_size)},
      {"sequence", u(st.sequence)},
      {"page_count", u(st.page_count)},
      {"freelist_pages", u(st.freelist_pages)},
      {"file_bytes", u(st.file_bytes)},
      {"wal_file_bytes", u(st.wal_file_bytes)},
      {"versions_in_memory", u(st.versions_in_memory)},
      {"commits", u(st.commits)},
      {"wal_records", u(st.wal_records)},
      {"wal_bytes", u(st.wal_bytes)},
      {"fsyncs", u(st.fsyncs)},
      {"commits_per_fsync", FormatDouble(st.commits_per_fsync)},
      {"checkpoints", u(st.checkpoints)},
      {"checkpoint_pages", u(st.checkpoint_pages)},
      {"recovery_records_replayed", u(st.recovery_records_replayed)},
      {"key_decodes", u(st.key_decodes)},
      {"key_cmps", u(st.key_cmps)},
      {"memcopy_bytes", u(st.memcopy_bytes)},
      {"allocator_builds", u(st.allocator_builds)},
      {"allocator_page_parses", u(st.allocator_page_parses)},
      {"allocator_cache_reuse", u(st.allocator_cache_reuse)},
      {"allocator_split_triggers", u(st.allocator_split_triggers)},
      {"allocator_failures", u(st.allocator_failures)},
      {"allocator_compactions", u(st.allocator_compactions)},
      {"allocator_bytes_moved", u(st.allocator_bytes_moved)},
      {"leaf_splits", u(st.leaf_splits)},
      {"leaf_merges", u(st.leaf_merges)},
      {"leaf_shares", u(st.leaf_shares)},
      {"pager_file_pages_read", u(st.pager_file_pages_read)},
      {"pager_file_pages_written", u(st.pager_file_pages_written)},
      {"pager_checksum_failures", u(st.pager_checksum_failures)},
      {"insert_avg_us", FormatDouble(st.insert_avg_us)},
      {"search_avg_us", FormatDouble(st.search_avg_us)},
      {"commit_avg_ms", FormatDouble(st.commit_avg_ms)},
      {"records", u(records)},
  };
}

void WriteJson(const std::string& path, const Stats& st, uint64_t records, std::ostream& out) {
  out << "{\n  \"path\": " << JsonString(path);
  for (const StatField& f : NamedFields(st, records)) {
    out << ",\n  " << JsonString(f.name) << ": " << f.value;
  }
  out << ",\n  \"all\": {";
  bool first = true;
  for (const auto& [name, value] : st.all) {
    out << (first ? "\n    " : ",\n    ") << JsonString(name) << ": " << value;
    first = false;
  }
  out << (first ? "}" : "\n  }") << "\n}\n";
}

void WriteText(const Stats& st, uint64_t records, std::ostream& out) {
  const std::vector<StatField> fields = NamedFields(st, records);
  size_t width = 0;
  for (const StatField& f : fields) width = std::max(width, std::string_view(f.name).size());
  for (const auto& [name, value] : st.all) width = std::max(width, name.size() + 2);
  auto line = [&](std::string_view name, const std::string& value) {
    out << name << std::string(width + 2 - name.size(), ' ') << value << "\n";
  };
  for (const StatField& f : fields) line(f.name, f.value);
  out << "all:\n";
  for (const auto& [name, value] : st.all) line("  " + name, std::to_string(value));
}

}  // namespace

// Metric names and paths are mostly ASCII; anything else is escaped.
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (b < 0x20 || b > 0x7E) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", b);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

int RunVerify(const Invocation& inv) {
  std::unique_ptr<DB> db;
  Status s = OpenDb(inv, /*write=*/false, /*create=*/false, &db);
  // DB::Verify reads the meta pages until they settle beside a writer
  // elsewhere (pager/settled_meta.h): a problem it reports is damage.
  if (s.ok()) s = db->Verify();
  if (s.IsCorruption()) return Fail(inv, kExitCheckFailed, s);
  if (!s.ok()) return Fail(inv, kExitError, s);
  *inv.out << inv.db_path() << ": OK\n";
  inv.out->flush();
  NoteIfLive(inv, db.get(), db->GetStats().sequence);
  return kExitOk;
}

int RunStats(const Invocation& inv) {
  std::unique_ptr<DB> db;
  Status s = OpenDb(inv, /*write=*/false, /*create=*/false, &db);
  if (!s.ok()) return Fail(inv, kExitError, s);
  // The records of the snapshot the statistics are read beside.
  uint64_t records = 0;
  {
    std::unique_ptr<ReadTxn> txn;
    s = db->BeginRead(&txn);
    if (!s.ok()) return Fail(inv, kExitError, s);
    std::unique_ptr<Cursor> cursor = txn->NewCursor();
    for (cursor->SeekToFirst(); cursor->Valid(); cursor->Next()) ++records;
    if (!cursor->status().ok()) return Fail(inv, kExitError, cursor->status());
  }
  const Stats st = db->GetStats();
  if (inv.json) {
    WriteJson(inv.db_path(), st, records, *inv.out);
  } else {
    WriteText(st, records, *inv.out);
  }
  inv.out->flush();
  NoteIfLive(inv, db.get(), st.sequence);
  return kExitOk;
}

int RunBackup(const Invocation& inv) {
  const std::string& dest = inv.operands[1];
  std::unique_ptr<DB> db;
  Status s = OpenDb(inv, /*write=*/false, /*create=*/false, &db);
  if (!s.ok()) return Fail(inv, kExitError, s);
  std::unique_ptr<Progress> progress;
  BackupOptions options;
  options.progress = [&](uint64_t done, uint64_t total) {
    const uint64_t ps = db->page_size();
    if (progress == nullptr) {
      progress = std::make_unique<Progress>(*inv.err, inv.err_is_tty && !inv.json,
                                            static_cast<int64_t>(total * ps),
                                            ProgressUnit{"pages", "pages/s"});
    }
    if (done == total) {
      progress->Finish(done, done * ps);
    } else {
      progress->Update(done, done * ps);
    }
  };
  BackupStats st;
  s = db->Backup(dest, options, &st);
  if (!s.ok()) return Fail(inv, kExitError, s);
  const double mib = static_cast<double>(st.bytes) / (1024.0 * 1024.0);
  if (inv.json) {
    *inv.out << "{\"path\": " << JsonString(inv.db_path()) << ", \"dest\": " << JsonString(dest)
             << ", \"pages\": " << st.pages << ", \"bytes\": " << st.bytes
             << ", \"seconds\": " << st.seconds << ", \"sequence\": " << st.sequence << "}\n";
  } else {
    char line[160];
    std::snprintf(line, sizeof(line), "%llu pages, %.1f MiB in %.3f s (%.0f MiB/s), sequence %llu",
                  static_cast<unsigned long long>(st.pages), mib, st.seconds,
                  st.seconds > 0 ? mib / st.seconds : 0.0,
                  static_cast<unsigned long long>(st.sequence));
    *inv.out << inv.db_path() << " -> " << dest << ": " << line << "\n";
  }
  inv.out->flush();
  return kExitOk;
}

int RunRecover(const Invocation& inv) {
  std::vector<std::string> args = {inv.db_path(), "recover", inv.operands[1]};
  if (inv.json) args.emplace_back("--json");
  if (inv.page_size.has_value()) {
    args.emplace_back("--page-size");
    args.push_back(std::to_string(*inv.page_size));
  }
  std::ostringstream err;
  const int code = inspect::RunInspect(args, *inv.out, err);
  inv.out->flush();
  // Its error lines as this tool's: "sombra: recover: ..." (its messages
  // name the command themselves).
  std::istringstream lines(err.str());
  const std::string prefix = "sombra-inspect: ";
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) == 0) line = "sombra: " + line.substr(prefix.size());
    *inv.err << line << '\n';
  }
  return code;
}

}  // namespace sombra::cli
