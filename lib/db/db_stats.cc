// db/db_stats.cc: DB::GetStats (docs/architecture.md, "Telemetry").
#include <string>

#include "db/db_impl.h"

namespace sombra::db {

Stats DBImpl::GetStats() {
  Stats s;
  const pager::TreeState state = pager_->published();
  s.page_size = page_size();
  s.sequence = state.lsn;
  s.page_count = state.page_count;
  s.freelist_pages = state.freelist_count;
  if (auto size = env_->GetFileSize(path()); size.ok()) s.file_bytes = *size;
  s.wal_file_bytes = pager_->wal_bytes();
  s.versions_in_memory = pager_->version_count();

  for (const auto& [name, value] : metrics_->CounterValues()) s.all[name] = value;
  for (const auto& [name, t] : metrics_->TimerValues()) {
    s.all[name + ".count"] = t.count;
    s.all[name + ".total_ns"] = t.total_ns;
  }
  auto get = [&](const char* name) -> uint64_t {
    auto it = s.all.find(name);
    return it == s.all.end() ? 0 : it->second;
  };
  s.commits = get("commits");
  s.wal_records = get("wal_records");
  s.wal_bytes = get("wal_bytes");
  s.fsyncs = get("fsyncs");
  const uint64_t commit_syncs = get("wal_commit_fsyncs");
  s.commits_per_fsync =
      commit_syncs == 0 ? 0.0 : static_cast<double>(s.commits) / static_cast<double>(commit_syncs);
  s.checkpoints = get("checkpoints");
  s.checkpoint_pages = get("checkpoint_pages");
  s.recovery_records_replayed = get("recovery_records_replayed");
  s.key_decodes = get("key_decodes");
  s.key_cmps = get("key_cmps");
  s.memcopy_bytes = get("memcopy_bytes");
  s.allocator_builds = get("allocator_builds");
  s.allocator_page_parses = get("allocator_page_parses");
  s.allocator_cache_reuse = get("allocator_cache_reuse");
  s.allocator_split_triggers = get("allocator_split_triggers");
  s.allocator_failures = get("allocator_failures");
  s.allocator_compactions = get("allocator_compactions");
  s.allocator_bytes_moved = get("allocator_bytes_moved");
  s.leaf_splits = get("leaf_splits");
  s.leaf_merges = get("leaf_merges");
  s.leaf_shares = get("leaf_shares");
  s.pager_file_pages_read = get("pager_file_pages_read");
  s.pager_file_pages_written = get("pager_file_pages_written");
  s.pager_checksum_failures = get("pager_checksum_failures");

  auto avg = [&](const char* name, double unit_ns) -> double {
    const uint64_t n = get((std::string(name) + ".count").c_str());
    if (n == 0) return 0.0;
    return static_cast<double>(get((std::string(name) + ".total_ns").c_str())) /
           static_cast<double>(n) / unit_ns;
  };
  s.insert_avg_us = avg("insert", 1e3);
  s.search_avg_us = avg("search", 1e3);
  s.commit_avg_ms = avg("commit", 1e6);
  return s;
}

}  // namespace sombra::db
