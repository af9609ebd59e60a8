// env/fault_injection_env.h: an Env for tests that simulates crashes and
// failing syscalls (docs/testing.md, "Fault injection"; the idea of LevelDB's
// fault_injection_test and SQLite's crash VFS).
//
// It wraps a real Env and passes every call through, remembering for each
// file opened through it what content is durable (as of its last Sync) and
// which writes and truncates came after. Then:
//  - Crash(kDropUnsynced): every file goes back to its durable content, as
//    after a power loss with a drive that honours fdatasync.
//  - Crash(kTornSectors): every unsynced write is replayed over the durable
//    content 512-byte sector by sector, each sector kept, dropped or garbled
//    at random (seeded): torn writes.
//  - FailNext(op, errno, skip): the (skip+1)-th next write, sync or truncate
//    fails with that errno (EIO, ENOSPC) and changes nothing.
//  - CrashAfterOps(n): after n more mutating calls (writes, syncs,
//    truncates) the file system "dies": later mutating calls fail with EIO
//    and change nothing, exactly as if the process had stopped there.
//
// File creation, removal and renames are taken as durable at once (the
// model does not lose directory entries). The content a file had when the
// env first saw it is taken as durable.
//
// Typical crash test: run the workload; CrashAfterOps or SetActive(false);
// destroy the database object; Crash(mode); SetActive(true); reopen; check.
//
// Thread safety: all methods may be called concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "env/env.h"
#include "env/env_wrapper.h"

namespace sombra {

class FaultInjectionEnv final : public EnvWrapper {
 public:
  enum class Op { kWrite, kSync, kTruncate };
  enum class CrashMode { kDropUnsynced, kTornSectors };
  static constexpr uint64_t kSectorSize = 512;

  explicit FaultInjectionEnv(Env* base, uint64_t seed = 0);
  ~FaultInjectionEnv() override;

  // --- fault controls ---
  void FailNext(Op op, int err, uint64_t skip = 0);
  // Forgets the FailNext failures that have not fired yet.
  void ClearFailures();
  void CrashAfterOps(uint64_t n);
  // Inactive: every mutating call fails with EIO and changes nothing.
  void SetActive(bool active);
  bool active() const;
  // Rewrites every tracked file to what a crash of `mode` leaves on disk and
  // forgets the unsynced operations. Call with no File of this env in use.
  Status Crash(CrashMode mode);
  // Forgets what is unsynced, as if everything had been synced.
  void MarkAllSynced();

  // --- observations ---
  uint64_t mutating_ops() const;  // writes + syncs + truncates so far
  uint64_t syncs() const;         // file and directory syncs
  uint64_t unsynced_bytes(const std::string& path) const;

  // --- Env ---
  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override;
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;

 private:
  friend class FaultFile;

  struct PendingOp {
    bool is_truncate;
    uint64_t offset;   // write offset, or the new size of a truncate
    std::string data;  // written bytes
  };
  struct FileState {
    std::string durable;
    std::vector<PendingOp> pending;
  };

  // Decides whether the next mutating call may proceed; returns the errno to
  // fail it with, or 0.
  int Admit(Op op);
  // The state of `path`, created from `file`'s content on first sight.
  std::shared_ptr<FileState> StateFor(const std::string& path, File* file);
  void RecordWrite(FileState* state, uint64_t offset, std::string_view data);
  void RecordTruncate(FileState* state, uint64_t size);
  size_t PendingCount(FileState* state);
  // The first `covered` pending operations become durable.
  void RecordSync(FileState* state, size_t covered);
  void ApplyPendingLocked(FileState* state, size_t count);
  std::string Replay(const FileState& state, CrashMode mode);

  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  // By current name; open files hold their state, so renames follow them.
  std::map<std::string, std::shared_ptr<FileState>> files_;
  struct Failure {
    Op op;
    int err;
    uint64_t skip;
  };
  std::vector<Failure> failures_;
  bool active_ = true;
  uint64_t crash_after_ = UINT64_MAX;
  uint64_t mutating_ops_ = 0;
  uint64_t syncs_ = 0;
};

}  // namespace sombra
