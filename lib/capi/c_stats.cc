// capi/c_stats.cc: DB::GetStats as the plain sombra_stats struct, and
// Stats::all through a callback.
#include <string>

#include "capi/c_handles.h"

namespace sombra::capi {
namespace {

void ToC(const Stats& s, sombra_stats* out) {
  *out = sombra_stats{};
  out->page_size = s.page_size;
  out->sequence = s.sequence;
  out->page_count = s.page_count;
  out->freelist_pages = s.freelist_pages;
  out->file_bytes = s.file_bytes;
  out->wal_file_bytes = s.wal_file_bytes;
  out->versions_in_memory = s.versions_in_memory;
  out->commits = s.commits;
  out->wal_records = s.wal_records;
  out->wal_bytes = s.wal_bytes;
  out->fsyncs = s.fsyncs;
  out->commits_per_fsync = s.commits_per_fsync;
  out->checkpoints = s.checkpoints;
  out->checkpoint_pages = s.checkpoint_pages;
  out->recovery_records_replayed = s.recovery_records_replayed;
  out->key_decodes = s.key_decodes;
  out->key_cmps = s.key_cmps;
  out->memcopy_bytes = s.memcopy_bytes;
  out->allocator_builds = s.allocator_builds;
  out->allocator_page_parses = s.allocator_page_parses;
  out->allocator_cache_reuse = s.allocator_cache_reuse;
  out->allocator_split_triggers = s.allocator_split_triggers;
  out->allocator_failures = s.allocator_failures;
  out->allocator_compactions = s.allocator_compactions;
  out->allocator_bytes_moved = s.allocator_bytes_moved;
  out->leaf_splits = s.leaf_splits;
  out->leaf_merges = s.leaf_merges;
  out->leaf_shares = s.leaf_shares;
  out->pager_file_pages_read = s.pager_file_pages_read;
  out->pager_file_pages_written = s.pager_file_pages_written;
  out->pager_checksum_failures = s.pager_checksum_failures;
  out->insert_avg_us = s.insert_avg_us;
  out->search_avg_us = s.search_avg_us;
  out->commit_avg_ms = s.commit_avg_ms;
}

}  // namespace
}  // namespace sombra::capi

using sombra::capi::CheckHandle;
using sombra::capi::Guard;

extern "C" {

sombra_status sombra_db_stats(sombra_db* db, sombra_stats* stats, sombra_error** err) {
  return Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(CheckHandle(db, "db"));
    SOMBRA_RETURN_IF_ERROR(CheckHandle(stats, "stats"));
    sombra::capi::ToC(db->db->GetStats(), stats);
    return sombra::Status::OK();
  });
}

sombra_status sombra_db_stats_each(sombra_db* db, sombra_stat_fn fn, void* ctx,
                                   sombra_error** err) {
  return Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(CheckHandle(db, "db"));
    if (fn == nullptr) return sombra::Status::InvalidArgument("fn is NULL");
    const sombra::Stats stats = db->db->GetStats();
    for (const auto& [name, value] : stats.all) fn(ctx, name.c_str(), value);
    return sombra::Status::OK();
  });
}

}  // extern "C"
