// python/src/stats.cc: stats as dicts.
#include "stats.h"

namespace sombra::python {

py::dict StatsToDict(const Stats& s) {
  py::dict d;
  for (const auto& [name, value] : s.all) d[py::str(name)] = value;
  const std::pair<const char*, uint64_t> counters[] = {
      {"page_size", s.page_size},
      {"sequence", s.sequence},
      {"page_count", s.page_count},
      {"freelist_pages", s.freelist_pages},
      {"file_bytes", s.file_bytes},
      {"wal_file_bytes", s.wal_file_bytes},
      {"versions_in_memory", s.versions_in_memory},
      {"commits", s.commits},
      {"wal_records", s.wal_records},
      {"wal_bytes", s.wal_bytes},
      {"fsyncs", s.fsyncs},
      {"checkpoints", s.checkpoints},
      {"checkpoint_pages", s.checkpoint_pages},
      {"recovery_records_replayed", s.recovery_records_replayed},
      {"key_decodes", s.key_decodes},
      {"key_cmps", s.key_cmps},
      {"memcopy_bytes", s.memcopy_bytes},
      {"allocator_builds", s.allocator_builds},
      {"allocator_page_parses", s.allocator_page_parses},
      {"allocator_cache_reuse", s.allocator_cache_reuse},
      {"allocator_split_triggers", s.allocator_split_triggers},
      {"allocator_failures", s.allocator_failures},
      {"allocator_compactions", s.allocator_compactions},
      {"allocator_bytes_moved", s.allocator_bytes_moved},
      {"leaf_splits", s.leaf_splits},
      {"leaf_merges", s.leaf_merges},
      {"leaf_shares", s.leaf_shares},
      {"pager_file_pages_read", s.pager_file_pages_read},
      {"pager_file_pages_written", s.pager_file_pages_written},
      {"pager_checksum_failures", s.pager_checksum_failures},
  };
  for (const auto& [name, value] : counters) d[name] = value;
  const std::pair<const char*, double> reals[] = {
      {"commits_per_fsync", s.commits_per_fsync},
      {"insert_avg_us", s.insert_avg_us},
      {"search_avg_us", s.search_avg_us},
      {"commit_avg_ms", s.commit_avg_ms},
  };
  for (const auto& [name, value] : reals) d[name] = value;
  return d;
}

py::dict CompactStatsToDict(const CompactStats& s) {
  py::dict d;
  d["steps"] = s.steps;
  d["pages_moved"] = s.pages_moved;
  d["pages_rewritten"] = s.pages_rewritten;
  d["pages_given_back"] = s.pages_given_back;
  d["file_bytes_before"] = s.file_bytes_before;
  d["file_bytes_after"] = s.file_bytes_after;
  d["seconds"] = s.seconds;
  return d;
}

py::dict BackupStatsToDict(const BackupStats& s) {
  py::dict d;
  d["pages"] = s.pages;
  d["bytes"] = s.bytes;
  d["sequence"] = s.sequence;
  d["seconds"] = s.seconds;
  return d;
}

}  // namespace sombra::python
