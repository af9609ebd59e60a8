// sombra/stats.h: what DB::GetStats returns (docs/architecture.md, "Telemetry").
//
// Counters are cumulative since DB::Open, cheap and always on. The timer
// averages (insert_avg_us, search_avg_us, commit_avg_ms) are measured only
// when the process runs with SOMBRA_PROFILE=1 and are 0 otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace sombra {

struct Stats {
  // The database.
  uint32_t page_size = 0;
  uint64_t sequence = 0;        // last published commit sequence
  uint64_t page_count = 0;      // pages in use, meta pages included
  uint64_t freelist_pages = 0;  // free pages waiting for reuse
  uint64_t file_bytes = 0;      // size of the page file
  uint64_t wal_file_bytes = 0;  // bytes of the current log generation
  uint64_t versions_in_memory = 0;

  // Write-ahead log and commits.
  uint64_t commits = 0;
  uint64_t wal_records = 0;
  uint64_t wal_bytes = 0;
  uint64_t fsyncs = 0;  // every log fdatasync (commits, new log headers, failures)
  // commits / the fdatasyncs that made commits durable (0 before any).
  double commits_per_fsync = 0;
  uint64_t checkpoints = 0;
  uint64_t checkpoint_pages = 0;
  uint64_t recovery_records_replayed = 0;

  // B+tree and LeafAllocator.
  uint64_t key_decodes = 0;
  uint64_t key_cmps = 0;
  uint64_t memcopy_bytes = 0;
  uint64_t allocator_builds = 0;
  uint64_t allocator_page_parses = 0;
  uint64_t allocator_cache_reuse = 0;     // edits served by a cached or kept layout, no parse
  uint64_t allocator_split_triggers = 0;  // capacity misses: each became a split or a share
  uint64_t allocator_failures = 0;        // damaged leaf met by a write; no split made room
  uint64_t allocator_compactions = 0;
  uint64_t allocator_bytes_moved = 0;
  uint64_t leaf_splits = 0;
  uint64_t leaf_merges = 0;
  uint64_t leaf_shares = 0;  // full leaves evened with a sibling instead of split

  // Pager.
  uint64_t pager_file_pages_read = 0;     // file pages checksummed on first read
  uint64_t pager_file_pages_written = 0;  // pages written by checkpoints
  uint64_t pager_checksum_failures = 0;

  // Timers (SOMBRA_PROFILE=1 only).
  double insert_avg_us = 0;
  double search_avg_us = 0;
  double commit_avg_ms = 0;

  // Every counter and timer by name, the ones above included (timers as
  // "<name>.count" and "<name>.total_ns").
  std::map<std::string, uint64_t> all;
};

}  // namespace sombra
