// The pager against an in-memory model under simulated power loss, failing
// log writes and syncs, the lax durability modes and a read-only opener
// (TESTING.md section 3).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "env/fault_injection_env.h"
#include "pager/pager.h"
#include "pager_test_util.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"

namespace sombra::pager {
namespace {

using CrashMode = FaultInjectionEnv::CrashMode;
using FaultOp = FaultInjectionEnv::Op;

constexpr uint32_t kPageSize = 4096;
constexpr uint64_t kMaxPages = 40;  // keeps the freelist busy

// What the database must show: every data page's bytes (the checksum at
// [16, 24) aside; the model keeps the page LSN at 8) and the tree state.
struct Model {
  std::vector<std::string> pages = std::vector<std::string>(kFirstDataPage);
  uint64_t lsn = 0;
  uint32_t root = 0;
  uint32_t freelist_head = 0;
  uint64_t freelist_count = 0;
  uint64_t page_count() const { return pages.size(); }
  bool live(uint32_t p) const { return pages[p][kHeaderKindOffset] != char(PageKind::kFree); }
};

// A zeroed page with its header's kind and number, as the pager makes it.
std::string BlankPage(PageKind kind, uint32_t page_no) {
  std::string page(kPageSize, '\0');
  page[kHeaderKindOffset] = static_cast<char>(kind);
  EncodeFixed32(reinterpret_cast<uint8_t*>(page.data()) + kHeaderPageNoOffset, page_no);
  return page;
}

// Empty when `snap` shows exactly `m`; otherwise the first difference.
std::string Diff(const Snapshot& snap, const Model& m) {
  const TreeState& s = snap.state();
  if (s.lsn != m.lsn || s.root != m.root || s.page_count != m.page_count() ||
      s.freelist_head != m.freelist_head || s.freelist_count != m.freelist_count) {
    return "state lsn/root/pages/head/free " + std::to_string(s.lsn) + "/" +
           std::to_string(s.root) + "/" + std::to_string(s.page_count) + "/" +
           std::to_string(s.freelist_head) + "/" + std::to_string(s.freelist_count) + ", model " +
           std::to_string(m.lsn) + "/" + std::to_string(m.root) + "/" +
           std::to_string(m.page_count()) + "/" + std::to_string(m.freelist_head) + "/" +
           std::to_string(m.freelist_count);
  }
  for (uint32_t p = kFirstDataPage; p < m.page_count(); ++p) {
    auto page = snap.Read(p);
    if (!page.ok()) return "page " + std::to_string(p) + ": " + page.status().ToString();
    const char* got = reinterpret_cast<const char*>(*page);
    const std::string& want = m.pages[p];
    for (size_t i = 0; i < kPageSize; ++i) {
      if (i == kHeaderChecksumOffset) i = kPageHeaderSize;
      if (got[i] != want[i]) {
        return "page " + std::to_string(p) + " differs at byte " + std::to_string(i) +
               (i < kPageHeaderSize ? " (header)" : "");
      }
    }
  }
  return "";
}

std::string Diff(Pager* pager, const Model& m) {
  if (pager->published().lsn != m.lsn) {
    return "published lsn " + std::to_string(pager->published().lsn) + ", model " +
           std::to_string(m.lsn);
  }
  return Diff(*pager->BeginRead(), m);
}

// Writes `len` bytes at `off` of both the page buffer and its model: one
// fill byte or random bytes.
void Scribble(std::mt19937_64& rng, uint8_t* buf, std::string* model, uint32_t off, uint32_t len) {
  const bool fill = rng() % 2 == 0;
  const char fill_byte = static_cast<char>(rng());
  for (uint32_t i = off; i < off + len; ++i) (*model)[i] = fill ? fill_byte : char(rng());
  std::memcpy(buf + off, model->data() + off, len);
}

enum class Outcome { kCommitted, kAborted, kFailed, kStopped };

// One random transaction of 1-4 operations on `pager`, mirrored into *next
// (a copy of `cur` with the transaction applied). kFailed: Commit returned
// *error, so the transaction is in flight; kStopped: an earlier call
// failed, nothing was logged.
Outcome RunTxn(Pager* pager, std::mt19937_64& rng, const Model& cur, int abort_percent, Model* next,
               Status* error) {
  auto txn = pager->BeginWrite();
  if (!txn.ok()) {
    *error = txn.status();
    return Outcome::kStopped;
  }
  *next = cur;
  next->lsn = cur.lsn + 1;
  std::vector<uint32_t> touched;
  const int ops = 1 + static_cast<int>(rng() % 4);
  for (int op = 0; op < ops; ++op) {
    std::vector<uint32_t> live;
    for (uint32_t p = kFirstDataPage; p < next->page_count(); ++p) {
      if (next->live(p)) live.push_back(p);
    }
    const uint32_t pick = live.empty() ? 0 : live[rng() % live.size()];
    const int kind = static_cast<int>(rng() % 10);
    if (kind < 4 || live.empty()) {  // allocate
      if (next->freelist_head == 0 && next->page_count() >= kMaxPages) {
        (*txn)->SetRoot(0);
        next->root = 0;
        continue;
      }
      const bool reuse = next->freelist_head != 0;
      const uint32_t expect = reuse ? next->freelist_head : uint32_t(next->page_count());
      uint8_t* buf = nullptr;
      auto p = (*txn)->Allocate(PageKind::kRaw, &buf);
      if (!p.ok()) {
        *error = p.status();
        return Outcome::kStopped;
      }
      EXPECT_EQ(*p, expect) << "the freelist is LIFO, else the file grows";
      if (reuse) {
        next->freelist_head = DecodeFixed32(
            reinterpret_cast<const uint8_t*>(next->pages[*p].data()) + kFreeNextOffset);
        next->freelist_count--;
      } else {
        next->pages.emplace_back();
      }
      std::string& model = next->pages[*p];
      model = BlankPage(PageKind::kRaw, *p);
      EncodeFixed32(reinterpret_cast<uint8_t*>(model.data()) + kPageHeaderSize,
                    static_cast<uint32_t>(rng()));
      std::memcpy(buf + kPageHeaderSize, model.data() + kPageHeaderSize, 4);
      const uint32_t off = 28 + static_cast<uint32_t>(rng() % (kPageSize - 28));
      Scribble(rng, buf, &model, off, 1 + static_cast<uint32_t>(rng() % (kPageSize - off)));
      touched.push_back(*p);
    } else if (kind < 8) {  // patch a byte range
      auto buf = (*txn)->Write(pick);
      if (!buf.ok()) {
        ADD_FAILURE() << "Write(" << pick << "): " << buf.status().ToString();
        *error = buf.status();
        return Outcome::kStopped;
      }
      const uint32_t off = kPageHeaderSize + static_cast<uint32_t>(rng() % (kPageSize - 24));
      const uint32_t max_len = rng() % 4 == 0 ? kPageSize - off : std::min(kPageSize - off, 64u);
      const uint32_t len = 1 + static_cast<uint32_t>(rng() % max_len);
      Scribble(rng, *buf, &next->pages[pick], off, len);
      (*txn)->NoteWrite(pick, off, len);
      touched.push_back(pick);
    } else if (kind == 8) {  // free
      Status s = (*txn)->Free(pick);
      if (!s.ok()) {
        ADD_FAILURE() << "Free(" << pick << "): " << s.ToString();
        *error = s;
        return Outcome::kStopped;
      }
      next->pages[pick] = BlankPage(PageKind::kFree, pick);
      EncodeFixed32(reinterpret_cast<uint8_t*>(next->pages[pick].data()) + kFreeNextOffset,
                    next->freelist_head);
      next->freelist_head = pick;
      next->freelist_count++;
      touched.push_back(pick);
    } else {  // a new root
      const uint32_t root = rng() % 4 == 0 ? 0 : pick;
      (*txn)->SetRoot(root);
      next->root = root;
    }
  }
  for (uint32_t p : touched) {
    EncodeFixed64(reinterpret_cast<uint8_t*>(next->pages[p].data()) + kHeaderLsnOffset, next->lsn);
  }
  if (static_cast<int>(rng() % 100) < abort_percent) {
    (*txn)->Abort();
    return Outcome::kAborted;
  }
  *error = (*txn)->Commit();
  return error->ok() ? Outcome::kCommitted : Outcome::kFailed;
}

// Commits `n` random transactions (some aborted on the way) onto *m.
void CommitSome(Pager* pager, std::mt19937_64& rng, int n, Model* m) {
  for (int done = 0; done < n;) {
    Model next;
    Status error;
    Outcome o = RunTxn(pager, rng, *m, 10, &next, &error);
    ASSERT_NE(o, Outcome::kFailed) << error.ToString();
    ASSERT_NE(o, Outcome::kStopped) << error.ToString();
    if (o == Outcome::kCommitted) {
      *m = std::move(next);
      ++done;
    }
  }
}

// The bytes of the database and its log.
std::string FileBytes(const std::string& path) {
  return sombra::test::ReadFileOrDie(path) + "|" + sombra::test::ReadFileOrDie(path + "-wal");
}

// Env::Default() without fdatasync: under a FaultInjectionEnv, which keeps
// its own account of what is durable, a real sync only costs time.
class NoSyncEnv final : public Env {
 public:
  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    SOMBRA_ASSIGN_OR_RETURN(auto file, base_->OpenFile(path, mode));
    return std::unique_ptr<File>(new NoSyncFile(std::move(file)));
  }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  bool IsDirectory(const std::string& path) override { return base_->IsDirectory(path); }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    return base_->GetFileSize(path);
  }
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return base_->RenameFile(from, to);
  }
  Status SyncDir(const std::string&) override { return Status::OK(); }
  Result<std::shared_ptr<const MappedRegion>> MapReadOnly(const std::string& path,
                                                          uint64_t size) override {
    return base_->MapReadOnly(path, size);
  }
  Result<std::unique_ptr<FileLock>> LockDatabase(const std::string& db_path) override {
    return base_->LockDatabase(db_path);
  }

 private:
  class NoSyncFile final : public File {
   public:
    explicit NoSyncFile(std::unique_ptr<File> base) : base_(std::move(base)) {}
    const std::string& path() const override { return base_->path(); }
    Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* bytes_read) override {
      return base_->ReadAt(offset, n, dst, bytes_read);
    }
    Status WriteAt(uint64_t offset, std::string_view data) override {
      return base_->WriteAt(offset, data);
    }
    Status Append(std::string_view data) override { return base_->Append(data); }
    Status Sync() override { return Status::OK(); }
    Status Truncate(uint64_t size) override { return base_->Truncate(size); }
    Result<uint64_t> Size() override { return base_->Size(); }

   private:
    std::unique_ptr<File> base_;
  };
  Env* const base_ = Env::Default();
};

class PagerFaultTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<Pager>> Open(Env* env, const std::string& path,
                                      const Options& o = Options(),
                                      const PagerOptions& po = PagerOptions()) {
    return Pager::Open(env, path, o, po);
  }

  // Random transactions and checkpoints on `pager` until the file system
  // dies or `max_txns` ran. *acked gets every acknowledged commit; a commit
  // that returned an error leaves its state in *in_flight.
  void RunUntilFailure(Pager* pager, std::mt19937_64& rng, int max_txns, Model* acked,
                       std::optional<Model>* in_flight) {
    std::unique_ptr<Snapshot> held;  // an old reader across checkpoints
    Model held_model;
    for (int t = 0; t < max_txns; ++t) {
      if (held == nullptr && rng() % 8 == 0 && !getenv("NOHELD")) {
        held = pager->BeginRead();
        held_model = *acked;
      }
      if (rng() % 16 == 0) {
        if (!pager->Checkpoint().ok()) break;
        continue;
      }
      Model next;
      Status error;
      Outcome o = RunTxn(pager, rng, *acked, 10, &next, &error);
      if (o == Outcome::kCommitted) {
        *acked = std::move(next);
        ASSERT_EQ(pager->published().lsn, acked->lsn) << "durability full publishes at once";
      } else if (o == Outcome::kFailed) {
        EXPECT_TRUE(error.IsIOError()) << error.ToString();
        *in_flight = std::move(next);
        break;
      } else if (o == Outcome::kStopped) {
        break;
      }
    }
    if (held != nullptr) {
      EXPECT_EQ(Diff(*held, held_model), "") << "an old snapshot changed";
    }
  }

  NoSyncEnv disk_;  // the "disk" under every FaultInjectionEnv
  sombra::test::TempDir dir_;
};

// Power fails after a random number of file operations, twice per database;
// each reopen shows every acknowledged commit and the one in flight either
// whole or not at all.
TEST_F(PagerFaultTest, CrashAfterAnyOperationKeepsAcknowledgedCommits) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  constexpr int kRounds = 150;
  constexpr int kPhases = 2;
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = dir_.File("crash" + std::to_string(round));
    FaultInjectionEnv env(&disk_, seed + round);
    Options o;
    o.wal_checkpoint_bytes = 64 << 10;
    o.wal_compression = rng() % 2 == 0;
    auto pager = Open(&env, path, o);
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    Model acked;
    for (int phase = 0; phase < kPhases; ++phase) {
      const uint64_t k = rng() % 160;
      const CrashMode mode =
          (round + phase) % 2 ? CrashMode::kTornSectors : CrashMode::kDropUnsynced;
      SCOPED_TRACE("round " + std::to_string(round) + " phase " + std::to_string(phase) +
                   " crash after " + std::to_string(k) + " ops, " +
                   (mode == CrashMode::kTornSectors ? "torn sectors" : "drop unsynced"));
      std::optional<Model> in_flight;
      env.CrashAfterOps(k);
      RunUntilFailure(pager->get(), rng, 60, &acked, &in_flight);
      if (HasFatalFailure()) return;
      env.SetActive(false);  // the process dies: the close writes nothing
      const std::string before = FileBytes(path);
      pager->reset();
      EXPECT_EQ(FileBytes(path), before) << "the close of a dead process wrote";
      ASSERT_TRUE(env.Crash(mode).ok());
      env.SetActive(true);

      pager = Open(&env, path, o);
      ASSERT_TRUE(pager.ok()) << pager.status().ToString();
      const std::string diff = Diff(pager->get(), acked);
      if (diff.empty()) continue;
      ASSERT_TRUE(in_flight.has_value()) << "an acknowledged commit is lost: " << diff;
      const std::string diff_after = Diff(pager->get(), *in_flight);
      ASSERT_EQ(diff_after, "") << "the state is neither before (" << diff
                                << ") nor after the commit in flight";
      acked = std::move(*in_flight);
    }
    pager->reset();  // a clean close, then everything again
    pager = Open(&env, path, o);
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    ASSERT_EQ(Diff(pager->get(), acked), "") << "round " << round << " after a clean close";
  }
}

// EIO and ENOSPC on the log write and on the log sync: the commit fails,
// writes stay refused, reads show the last acknowledged commit, and a
// reopen drops the failed transaction.
TEST_F(PagerFaultTest, FailedLogWriteOrSyncIsStickyAndLosesOnlyThatCommit) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  int n = 0;
  for (FaultOp op : {FaultOp::kWrite, FaultOp::kSync}) {
    for (int err : {EIO, ENOSPC}) {
      SCOPED_TRACE(std::string(op == FaultOp::kWrite ? "write" : "sync") + " fails with " +
                   (err == EIO ? "EIO" : "ENOSPC"));
      const std::string path = dir_.File("fail" + std::to_string(n++));
      FaultInjectionEnv env(&disk_, seed);
      Model acked;
      auto pager = Open(&env, path);
      ASSERT_TRUE(pager.ok()) << pager.status().ToString();
      CommitSome(pager->get(), rng, 8, &acked);
      ASSERT_TRUE((*pager)->Checkpoint().ok());  // older pages come from the file
      CommitSome(pager->get(), rng, 4, &acked);
      if (HasFatalFailure()) return;

      env.FailNext(op, err);
      Model failed;
      Status error;
      ASSERT_EQ(RunTxn(pager->get(), rng, acked, 0, &failed, &error), Outcome::kFailed);
      EXPECT_TRUE(error.IsIOError()) << error.ToString();
      EXPECT_EQ(error.IsNoSpace(), err == ENOSPC) << error.ToString();
      EXPECT_FALSE((*pager)->sticky_error().ok());
      auto txn = (*pager)->BeginWrite();
      ASSERT_FALSE(txn.ok()) << "writes go on after a failed log " << error.ToString();
      EXPECT_TRUE(txn.status().IsIOError()) << txn.status().ToString();
      EXPECT_FALSE((*pager)->Checkpoint().ok());
      EXPECT_EQ(Diff(pager->get(), acked), "") << "reads after the failure";

      pager->reset();
      pager = Open(&env, path);
      ASSERT_TRUE(pager.ok()) << pager.status().ToString();
      EXPECT_EQ(Diff(pager->get(), acked), "") << "after reopening";
      CommitSome(pager->get(), rng, 3, &acked);  // writable again
      pager->reset();
      pager = Open(&env, path);
      ASSERT_TRUE(pager.ok()) << pager.status().ToString();
      EXPECT_EQ(Diff(pager->get(), acked), "") << "after the commits that followed";
    }
  }
}

// Durability off and normal: a clean close keeps everything; a power loss
// keeps a prefix of the commits (at least up to the last checkpoint), never
// a mixture.
TEST_F(PagerFaultTest, LaxDurabilityKeepsAPrefixOfTheCommits) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  int n = 0;
  for (Durability d : {Durability::kOff, Durability::kNormal}) {
    for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kTornSectors}) {
      SCOPED_TRACE(std::string(d == Durability::kOff ? "durability off" : "durability normal") +
                   (mode == CrashMode::kTornSectors ? ", torn sectors" : ", drop unsynced"));
      Options o;
      o.durability = d;
      o.wal_checkpoint_bytes = 256 << 10;
      PagerOptions po;
      po.normal_sync_interval_ms = 1;
      const std::string path = dir_.File("lax" + std::to_string(n++));
      FaultInjectionEnv env(&disk_, seed + n);
      Model first;
      {
        auto pager = Open(&env, path, o, po);
        ASSERT_TRUE(pager.ok()) << pager.status().ToString();
        CommitSome(pager->get(), rng, 10, &first);
      }
      auto pager = Open(&env, path, o, po);
      ASSERT_TRUE(pager.ok()) << pager.status().ToString();
      ASSERT_EQ(Diff(pager->get(), first), "") << "after a clean close";
      // models[i]: the state after commit i, from the clean close on.
      std::vector<Model> models(first.lsn + 1);
      models.back() = first;
      uint64_t checkpointed = first.lsn;  // the clean close checkpointed
      for (int i = 0; i < 40; ++i) {
        if (rng() % 16 == 0) {
          ASSERT_TRUE((*pager)->Checkpoint().ok());
          checkpointed = models.size() - 1;
        }
        Model next = models.back();
        CommitSome(pager->get(), rng, 1, &next);
        models.push_back(std::move(next));
      }
      if (HasFatalFailure()) return;
      env.SetActive(false);
      pager->reset();
      ASSERT_TRUE(env.Crash(mode).ok());
      env.SetActive(true);
      pager = Open(&env, path, o, po);
      ASSERT_TRUE(pager.ok()) << pager.status().ToString();
      const uint64_t lsn = (*pager)->published().lsn;
      ASSERT_GE(lsn, checkpointed) << "a checkpointed commit is lost";
      ASSERT_LT(lsn, models.size());
      EXPECT_EQ(Diff(pager->get(), models[lsn]), "") << "not the state after commit " << lsn;
    }
  }
}

// A read-only opener next to a writer with commits only in the log sees
// the writer's published state and changes no byte of either file.
TEST_F(PagerFaultTest, ReadOnlyOpenerSeesTheLogAndWritesNothing) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  const std::string path = dir_.File("db");
  Model acked;
  auto writer = Open(Env::Default(), path);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  CommitSome(writer->get(), rng, 12, &acked);
  ASSERT_TRUE((*writer)->Checkpoint().ok());
  CommitSome(writer->get(), rng, 12, &acked);
  ASSERT_GT((*writer)->wal_bytes(), 0u);
  ASSERT_EQ(Diff(writer->get(), acked), "");

  const std::string before = FileBytes(path);
  FaultInjectionEnv env(Env::Default(), seed);
  {
    Options o;
    o.read_only = true;
    auto reader = Open(&env, path, o);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_EQ(Diff(reader->get(), acked), "");
    const TreeState w = (*writer)->published(), r = (*reader)->published();
    EXPECT_EQ(r.lsn, w.lsn);
    EXPECT_EQ(r.root, w.root);
    EXPECT_EQ(r.page_count, w.page_count);
    EXPECT_EQ(r.freelist_head, w.freelist_head);
    EXPECT_EQ(r.freelist_count, w.freelist_count);
    EXPECT_TRUE((*reader)->BeginWrite().status().IsNotSupported());
    EXPECT_TRUE((*reader)->Checkpoint().IsNotSupported());
  }
  EXPECT_EQ(env.mutating_ops(), 0u);
  EXPECT_EQ(FileBytes(path), before) << "the read-only opener wrote";
  CommitSome(writer->get(), rng, 2, &acked);  // the writer is unaffected
  EXPECT_EQ(Diff(writer->get(), acked), "");
}

}  // namespace
}  // namespace sombra::pager
