// capi/c_backup.cc: DB::Backup, with a C progress callback and the
// sombra_backup_stats report, and DB::Compact with its report.
#include <string>

#include "capi/c_handles.h"

using sombra::capi::CheckHandle;
using sombra::capi::Guard;

extern "C" {

sombra_status sombra_db_backup(sombra_db* db, const char* dest_path, sombra_error** err) {
  return Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(CheckHandle(db, "db"));
    SOMBRA_RETURN_IF_ERROR(CheckHandle(dest_path, "dest_path"));
    return db->db->Backup(dest_path);
  });
}

sombra_status sombra_db_backup_ex(sombra_db* db, const char* dest_path,
                                  sombra_backup_progress_fn progress, void* ctx,
                                  sombra_backup_stats* stats, sombra_error** err) {
  return Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(CheckHandle(db, "db"));
    SOMBRA_RETURN_IF_ERROR(CheckHandle(dest_path, "dest_path"));
    sombra::BackupOptions options;
    if (progress != nullptr) {
      options.progress = [progress, ctx](uint64_t done, uint64_t total) {
        progress(ctx, done, total);
      };
    }
    sombra::BackupStats report;
    SOMBRA_RETURN_IF_ERROR(db->db->Backup(dest_path, options, &report));
    if (stats != nullptr) {
      stats->pages = report.pages;
      stats->bytes = report.bytes;
      stats->sequence = report.sequence;
      stats->seconds = report.seconds;
    }
    return sombra::Status::OK();
  });
}

sombra_status sombra_db_compact(sombra_db* db, sombra_compact_stats* stats, sombra_error** err) {
  return Guard(err, [&] {
    SOMBRA_RETURN_IF_ERROR(CheckHandle(db, "db"));
    SOMBRA_RETURN_IF_ERROR(sombra::capi::CheckNotWriter(db, "sombra_db_compact"));
    sombra::CompactStats report;
    SOMBRA_RETURN_IF_ERROR(db->db->Compact(&report));
    if (stats != nullptr) {
      stats->steps = report.steps;
      stats->pages_moved = report.pages_moved;
      stats->pages_rewritten = report.pages_rewritten;
      stats->pages_given_back = report.pages_given_back;
      stats->file_bytes_before = report.file_bytes_before;
      stats->file_bytes_after = report.file_bytes_after;
      stats->seconds = report.seconds;
    }
    return sombra::Status::OK();
  });
}

}  // extern "C"
