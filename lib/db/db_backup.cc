// db/db_backup.cc: DB::Backup (docs/operations.md, "Backup").
//
// From one snapshot: btree::PlanCopy numbers the live pages, CopyPage
// renumbers each into `<dest>.partial` (written in order, in runs), which
// is synced before its two meta pages are written and synced (so a partial
// file killed on the way has no valid meta page and opens as nothing), then
// opened read-only and verified, and only then renamed to `dest` (and its
// directory synced). Writers go on committing beside the snapshot; nothing
// here takes the writer slot.
#include <chrono>
#include <vector>

#include "btree/tree_copy.h"
#include "db/db_impl.h"
#include "pager/format.h"
#include "pager/meta.h"

namespace sombra::db {
namespace {

constexpr size_t kRunPages = 256;  // pages per write
// The copy is synced every this many bytes: one fdatasync of a whole large
// copy at the end would hold the disk for long enough (~80 ms for 116 MiB
// here) to stall a writer's commit behind it.
constexpr uint64_t kSyncEveryBytes = 1 << 20;

// The files an open of `path` may create beside it (lock, reader table).
void RemoveOpenLeftovers(Env* env, const std::string& path) {
  for (const char* suffix : {"-wal", "-dwb", "-lock", "-shm"}) {
    if (env->FileExists(path + suffix)) (void)env->RemoveFile(path + suffix);
  }
}

// Writes the copy's pages (the plan's, renumbered) and then its meta pages.
Status WriteCopy(const pager::Snapshot& snap, const btree::CopyPlan& plan, File* out,
                 const BackupOptions& options) {
  const uint32_t ps = snap.page_size();
  const uint64_t salt = pager::NewSalt();
  std::vector<uint8_t> run(kRunPages * ps);
  const size_t n = plan.pages.size();
  uint64_t unsynced = 0;
  for (size_t begin = 0; begin < n; begin += kRunPages) {
    const size_t end = std::min(n, begin + kRunPages);
    for (size_t i = begin; i < end; ++i) {
      SOMBRA_ASSIGN_OR_RETURN(const uint8_t* src, snap.Read(plan.pages[i]));
      SOMBRA_RETURN_IF_ERROR(
          btree::CopyPage(plan, i, src, ps, salt, run.data() + (i - begin) * ps));
    }
    const uint64_t offset = uint64_t{ps} * (begin + pager::kFirstDataPage);
    SOMBRA_RETURN_IF_ERROR(out->WriteAt(
        offset, std::string_view(reinterpret_cast<const char*>(run.data()), (end - begin) * ps)));
    unsynced += (end - begin) * ps;
    if (unsynced >= kSyncEveryBytes) {
      SOMBRA_RETURN_IF_ERROR(out->Sync());
      unsynced = 0;
    }
    if (options.progress) options.progress(end, n);
  }
  SOMBRA_RETURN_IF_ERROR(out->Sync());
  // Two meta pages naming the same state, the newer in slot 0.
  pager::Meta meta;
  meta.page_size = ps;
  meta.salt = salt;
  meta.page_count = plan.page_count();
  meta.root = plan.root;
  meta.catalog_root = plan.catalog_root;
  meta.checkpoint_lsn = snap.lsn();
  std::vector<uint8_t> page(ps);
  for (uint64_t seq : {1u, 2u}) {
    meta.checkpoint_seq = seq;
    pager::EncodeMeta(meta, page.data());
    SOMBRA_RETURN_IF_ERROR(
        out->WriteAt(uint64_t{ps} * pager::MetaSlotFor(seq),
                     std::string_view(reinterpret_cast<const char*>(page.data()), ps)));
  }
  return out->Sync();
}

// Opens the copy read-only and runs the whole Verify over it.
Status VerifyCopy(Env* env, const std::string& path) {
  Options o;
  o.read_only = true;
  std::unique_ptr<DB> copy;
  Status s = OpenWithEnv(env, o, path, &copy);
  if (s.ok()) s = copy->Verify();
  copy.reset();
  RemoveOpenLeftovers(env, path);
  return s;
}

}  // namespace

Status DBImpl::Backup(const std::string& dest_path) {
  return Backup(dest_path, BackupOptions(), nullptr);
}

Status DBImpl::Backup(const std::string& dest, const BackupOptions& options, BackupStats* stats) {
  const auto start = std::chrono::steady_clock::now();
  const std::string where = "backup of " + path() + " to " + dest;
  if (dest.empty()) return Status::InvalidArgument("backup destination is empty");
  for (const std::string& f : {dest, dest + "-wal"}) {
    if (env_->FileExists(f)) return Status::InvalidArgument(where + ": " + f + " exists");
  }
  const std::unique_ptr<pager::Snapshot> snap = pager_->BeginRead();
  const pager::TreeState& state = snap->state();
  btree::CopyPlan plan;
  SOMBRA_RETURN_IF_ERROR(btree::PlanCopy(btree::SnapshotReader(snap.get()), page_size(),
                                         state.page_count, state.root, state.catalog_root, &plan)
                             .WithContext(where));
  const std::string partial = dest + ".partial";
  auto written = [&]() -> Status {
    SOMBRA_ASSIGN_OR_RETURN(std::unique_ptr<File> out, env_->OpenFile(partial, OpenMode::kCreate));
    SOMBRA_RETURN_IF_ERROR(out->Truncate(0));
    SOMBRA_RETURN_IF_ERROR(WriteCopy(*snap, plan, out.get(), options));
    out.reset();
    RemoveOpenLeftovers(env_, partial);
    SOMBRA_RETURN_IF_ERROR(VerifyCopy(env_, partial));
    SOMBRA_RETURN_IF_ERROR(env_->RenameFile(partial, dest));
    return env_->SyncDir(DirName(dest));
  }();
  if (!written.ok()) {
    if (env_->FileExists(partial)) (void)env_->RemoveFile(partial);
    return written.WithContext(where);
  }
  if (stats != nullptr) {
    stats->pages = plan.page_count();
    stats->bytes = plan.page_count() * page_size();
    stats->sequence = snap->lsn();
    stats->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return Status::OK();
}

}  // namespace sombra::db
