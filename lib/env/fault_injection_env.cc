#include "env/fault_injection_env.h"

#include <errno.h>

#include <algorithm>

#include "env/posix_file.h"

namespace sombra {

// A File that records each mutation with its env before passing it on.
class FaultFile final : public FileWrapper {
 public:
  FaultFile(FaultInjectionEnv* env, std::unique_ptr<File> base,
            std::shared_ptr<FaultInjectionEnv::FileState> state)
      : FileWrapper(std::move(base)), env_(env), state_(std::move(state)) {}

  Status WriteAt(uint64_t offset, std::string_view data) override {
    if (int err = env_->Admit(FaultInjectionEnv::Op::kWrite)) {
      return PosixError("pwrite (injected fault) at offset " + std::to_string(offset) + " of",
                        path(), err);
    }
    SOMBRA_RETURN_IF_ERROR(base()->WriteAt(offset, data));
    env_->RecordWrite(state_.get(), offset, data);
    return Status::OK();
  }
  Status Append(std::string_view data) override {
    SOMBRA_ASSIGN_OR_RETURN(uint64_t end, base()->Size());
    return WriteAt(end, data);
  }
  Status Sync() override {
    if (int err = env_->Admit(FaultInjectionEnv::Op::kSync)) {
      return PosixError("fdatasync (injected fault)", path(), err);
    }
    // Only the writes made before the real sync began become durable: a
    // concurrent writer's later writes stay pending.
    const size_t covered = env_->PendingCount(state_.get());
    SOMBRA_RETURN_IF_ERROR(base()->Sync());
    env_->RecordSync(state_.get(), covered);
    return Status::OK();
  }
  Status Truncate(uint64_t size) override {
    if (int err = env_->Admit(FaultInjectionEnv::Op::kTruncate)) {
      return PosixError("ftruncate (injected fault) to " + std::to_string(size) + " bytes of",
                        path(), err);
    }
    SOMBRA_RETURN_IF_ERROR(base()->Truncate(size));
    env_->RecordTruncate(state_.get(), size);
    return Status::OK();
  }

 private:
  FaultInjectionEnv* const env_;
  std::shared_ptr<FaultInjectionEnv::FileState> state_;
};

FaultInjectionEnv::FaultInjectionEnv(Env* base, uint64_t seed) : EnvWrapper(base), rng_(seed) {}
FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::FailNext(Op op, int err, uint64_t skip) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.push_back(Failure{op, err, skip});
}

void FaultInjectionEnv::ClearFailures() {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.clear();
}

void FaultInjectionEnv::CrashAfterOps(uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  crash_after_ = mutating_ops_ + n;
}

void FaultInjectionEnv::SetActive(bool active) {
  std::lock_guard<std::mutex> lock(mu_);
  active_ = active;
  if (active) crash_after_ = UINT64_MAX;
}

bool FaultInjectionEnv::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

uint64_t FaultInjectionEnv::mutating_ops() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mutating_ops_;
}

uint64_t FaultInjectionEnv::syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return syncs_;
}

uint64_t FaultInjectionEnv::unsynced_bytes(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return 0;
  uint64_t n = 0;
  for (const auto& op : it->second->pending) n += op.data.size();
  return n;
}

int FaultInjectionEnv::Admit(Op op) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!active_) return EIO;
  if (mutating_ops_ >= crash_after_) {
    active_ = false;
    return EIO;
  }
  for (auto it = failures_.begin(); it != failures_.end(); ++it) {
    if (it->op != op) continue;
    if (it->skip > 0) {
      --it->skip;
      continue;
    }
    int err = it->err;
    failures_.erase(it);
    return err;
  }
  ++mutating_ops_;
  if (op == Op::kSync) ++syncs_;
  return 0;
}

std::shared_ptr<FaultInjectionEnv::FileState> FaultInjectionEnv::StateFor(const std::string& path,
                                                                          File* file) {
  auto it = files_.find(path);
  if (it != files_.end()) return it->second;
  auto state = std::make_shared<FileState>();
  files_[path] = state;
  if (file != nullptr) {
    auto size = file->Size();
    if (size.ok() && *size > 0) {
      state->durable.resize(*size);
      if (!file->ReadExactly(0, *size, state->durable.data()).ok()) state->durable.clear();
    }
  }
  return state;
}

Result<std::unique_ptr<File>> FaultInjectionEnv::OpenFile(const std::string& path, OpenMode mode) {
  SOMBRA_ASSIGN_OR_RETURN(auto file, base()->OpenFile(path, mode));
  std::shared_ptr<FileState> state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state = StateFor(path, file.get());
  }
  return std::unique_ptr<File>(new FaultFile(this, std::move(file), std::move(state)));
}

void FaultInjectionEnv::RecordWrite(FileState* state, uint64_t offset, std::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  state->pending.push_back(PendingOp{false, offset, std::string(data)});
}

void FaultInjectionEnv::RecordTruncate(FileState* state, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  state->pending.push_back(PendingOp{true, size, {}});
}

size_t FaultInjectionEnv::PendingCount(FileState* state) {
  std::lock_guard<std::mutex> lock(mu_);
  return state->pending.size();
}

void FaultInjectionEnv::RecordSync(FileState* state, size_t covered) {
  std::lock_guard<std::mutex> lock(mu_);
  ApplyPendingLocked(state, covered);
}

void FaultInjectionEnv::ApplyPendingLocked(FileState* state, size_t count) {
  count = std::min(count, state->pending.size());
  for (size_t i = 0; i < count; ++i) {
    const PendingOp& op = state->pending[i];
    if (op.is_truncate) {
      state->durable.resize(op.offset);
    } else {
      if (state->durable.size() < op.offset + op.data.size()) {
        state->durable.resize(op.offset + op.data.size());
      }
      std::copy(op.data.begin(), op.data.end(), state->durable.begin() + op.offset);
    }
  }
  state->pending.erase(state->pending.begin(), state->pending.begin() + count);
}

std::string FaultInjectionEnv::Replay(const FileState& state, CrashMode mode) {
  std::string out = state.durable;
  if (mode == CrashMode::kDropUnsynced) return out;
  for (const PendingOp& op : state.pending) {
    if (op.is_truncate) {
      out.resize(op.offset);
      continue;
    }
    uint64_t pos = op.offset;
    uint64_t end = op.offset + op.data.size();
    while (pos < end) {
      uint64_t sector_end = std::min(end, (pos / kSectorSize + 1) * kSectorSize);
      int choice = static_cast<int>(rng_() % 3);  // 0 keep, 1 drop, 2 garble
      if (choice != 1) {
        if (out.size() < sector_end) out.resize(sector_end);
        for (uint64_t i = pos; i < sector_end; ++i) {
          out[i] = choice == 0 ? op.data[i - op.offset] : static_cast<char>(rng_());
        }
      }
      pos = sector_end;
    }
  }
  return out;
}

Status FaultInjectionEnv::Crash(CrashMode mode) {
  std::lock_guard<std::mutex> lock(mu_);
  Status first_error;
  for (auto& entry : files_) {
    const std::string& path = entry.first;  // (a lambda below uses it: no structured binding)
    auto& state = entry.second;
    if (state->pending.empty()) continue;
    std::string content = Replay(*state, mode);
    state->pending.clear();
    Status s = [&]() -> Status {
      SOMBRA_ASSIGN_OR_RETURN(auto file, base()->OpenFile(path, OpenMode::kReadWrite));
      SOMBRA_RETURN_IF_ERROR(file->Truncate(content.size()));
      SOMBRA_RETURN_IF_ERROR(file->WriteAt(0, content));
      return file->Sync();
    }();
    if (!s.ok() && first_error.ok()) first_error = s;  // go on with the other files
    state->durable = std::move(content);
  }
  return first_error;
}

void FaultInjectionEnv::MarkAllSynced() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& entry : files_) ApplyPendingLocked(entry.second.get(), SIZE_MAX);
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  SOMBRA_RETURN_IF_ERROR(base()->RemoveFile(path));
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(path);
  return Status::OK();
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  SOMBRA_RETURN_IF_ERROR(base()->RenameFile(from, to));
  if (from == to) return Status::OK();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(from);
  files_.erase(to);
  if (it != files_.end()) {
    std::shared_ptr<FileState> state = std::move(it->second);
    files_.erase(it);
    files_[to] = std::move(state);
  }
  return Status::OK();
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  if (int err = Admit(Op::kSync)) return PosixError("fsync directory (injected fault)", dir, err);
  return base()->SyncDir(dir);
}

}  // namespace sombra
