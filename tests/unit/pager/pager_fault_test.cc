// The pager against an in-memory model under simulated power loss, failing
// log writes and syncs, the lax durability modes and a read-only opener
// (docs/testing.md, "Fault injection").
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
#include "testutil/no_sync_env.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"

namespace sombra::pager {
namespace {

using CrashMode = FaultInjectionEnv::CrashMode;
using FaultOp = FaultInjectionEnv::Op;

constexpr uint32_t kPageSize = 4096;
constexpr uint64_t kMaxPages = 40;  // keeps the freelist busy

uint8_t* Bytes(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }

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
  EncodeFixed32(Bytes(page) + kHeaderPageNoOffset, page_no);
  return page;
}

std::string StateString(uint64_t lsn, uint32_t root, uint64_t pages, uint32_t head, uint64_t free) {
  return "lsn " + std::to_string(lsn) + " root " + std::to_string(root) + " pages " +
         std::to_string(pages) + " freelist " + std::to_string(head) + "/" + std::to_string(free);
}

// Empty when `snap` shows exactly `m`; otherwise the first difference.
std::string Diff(const Snapshot& snap, const Model& m) {
  const TreeState& s = snap.state();
  const std::string got =
      StateString(s.lsn, s.root, s.page_count, s.freelist_head, s.freelist_count);
  const std::string want =
      StateString(m.lsn, m.root, m.page_count(), m.freelist_head, m.freelist_count);
  if (got != want) return "state " + got + ", model " + want;
  for (uint32_t p = kFirstDataPage; p < m.page_count(); ++p) {
    auto page = snap.Read(p);
    if (!page.ok()) return "page " + std::to_string(p) + ": " + page.status().ToString();
    for (size_t i = 0; i < kPageSize; ++i) {
      if (i == kHeaderChecksumOffset) i = kPageHeaderSize;
      if ((*page)[i] != static_cast<uint8_t>(m.pages[p][i])) {
        return "page " + std::to_string(p) + " differs at byte " + std::to_string(i);
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
  auto stop = [error](const Status& s) {
    *error = s;
    return Outcome::kStopped;
  };
  auto fail = [&stop](const Status& s) {  // reads never touch the file system: a bug
    ADD_FAILURE() << s.ToString();
    return stop(s);
  };
  auto txn = pager->BeginWrite();
  if (!txn.ok()) return stop(txn.status());
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
      if (next->freelist_head == 0 && next->page_count() >= kMaxPages) continue;
      const bool reuse = next->freelist_head != 0;
      const uint32_t expect = reuse ? next->freelist_head : uint32_t(next->page_count());
      uint8_t* buf = nullptr;
      auto p = (*txn)->Allocate(PageKind::kRaw, &buf);
      if (!p.ok()) return stop(p.status());  // ftruncate failed: not sticky
      EXPECT_EQ(*p, expect) << "the freelist is LIFO, else the file grows";
      if (reuse) {
        next->freelist_head = DecodeFixed32(Bytes(next->pages[*p]) + kFreeNextOffset);
        next->freelist_count--;
      } else {
        next->pages.emplace_back();
      }
      std::string& model = next->pages[*p];
      model = BlankPage(PageKind::kRaw, *p);
      EncodeFixed32(Bytes(model) + kPageHeaderSize, static_cast<uint32_t>(rng()));  // the tag
      std::memcpy(buf + kPageHeaderSize, model.data() + kPageHeaderSize, 4);
      const uint32_t off = 28 + static_cast<uint32_t>(rng() % (kPageSize - 28));
      Scribble(rng, buf, &model, off, 1 + static_cast<uint32_t>(rng() % (kPageSize - off)));
      touched.push_back(*p);
    } else if (kind < 8) {  // patch a byte range
      auto buf = (*txn)->Write(pick);
      if (!buf.ok()) return fail(buf.status());
      const uint32_t off = kPageHeaderSize + static_cast<uint32_t>(rng() % (kPageSize - 24));
      const uint32_t max_len = rng() % 4 == 0 ? kPageSize - off : std::min(kPageSize - off, 64u);
      const uint32_t len = 1 + static_cast<uint32_t>(rng() % max_len);
      Scribble(rng, *buf, &next->pages[pick], off, len);
      (*txn)->NoteWrite(pick, off, len);
      touched.push_back(pick);
    } else if (kind == 8) {  // free
      Status s = (*txn)->Free(pick);
      if (!s.ok()) return fail(s);
      next->pages[pick] = BlankPage(PageKind::kFree, pick);
      EncodeFixed32(Bytes(next->pages[pick]) + kFreeNextOffset, next->freelist_head);
      next->freelist_head = pick;
      next->freelist_count++;
      touched.push_back(pick);
    } else {  // a new root
      next->root = rng() % 4 == 0 ? 0 : pick;
      (*txn)->SetRoot(next->root);
    }
  }
  if (touched.empty()) (*txn)->SetRoot(next->root);  // every transaction commits something
  for (uint32_t p : touched) EncodeFixed64(Bytes(next->pages[p]) + kHeaderLsnOffset, next->lsn);
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
    ASSERT_TRUE(o == Outcome::kCommitted || o == Outcome::kAborted) << error.ToString();
    if (o == Outcome::kCommitted) {
      *m = std::move(next);
      ++done;
    }
  }
}

// The sizes of the database and its log and their first `prefix` bytes.
std::string FileBytes(const std::string& path, uint64_t prefix = UINT64_MAX) {
  std::string out;
  for (const std::string& file : {path, path + "-wal"}) {
    auto found = Env::Default()->GetFileSize(file);
    const uint64_t size = found.ok() ? *found : 0;
    out += std::to_string(size) + ":" + test::ReadAt(file, 0, std::min(size, prefix)) + "|";
  }
  return out;
}

class PagerFaultTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<Pager>> Open(Env* env, const std::string& path,
                                      const Options& o = Options(),
                                      const PagerOptions& po = PagerOptions()) {
    return Pager::Open(env, path, o, po);
  }

  // Random transactions and checkpoints on `pager`, with an old reader held
  // at times, until the file system dies or `max_txns` ran. *acked gets
  // every acknowledged commit; a commit that returned an error leaves its
  // state in *in_flight.
  void RunUntilFailure(Pager* pager, std::mt19937_64& rng, int max_txns, Model* acked,
                       std::optional<Model>* in_flight) {
    std::unique_ptr<Snapshot> held;
    Model held_model;
    for (int t = 0; t < max_txns; ++t) {
      if (held == nullptr && rng() % 8 == 0) {
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
      EXPECT_EQ(Diff(*held, held_model), "") << "a reader's snapshot changed under it";
    }
  }

  sombra::test::NoSyncEnv disk_;  // the "disk" under every FaultInjectionEnv
  sombra::test::TempDir dir_;
};

// Power fails after a random number of file operations, twice per database;
// each reopen shows every acknowledged commit and the one in flight either
// whole or not at all.
TEST_F(PagerFaultTest, CrashAfterAnyOperationKeepsAcknowledgedCommits) {
  const uint64_t seed = sombra::test::TestSeed();
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 150; ++round) {
    const std::string path = dir_.File("crash" + std::to_string(round));
    FaultInjectionEnv env(&disk_, seed + round);
    Options o;
    o.wal_checkpoint_bytes = 64 << 10;
    o.wal_compression = rng() % 2 == 0;
    auto pager = Open(&env, path, o);
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    Model acked;
    for (int phase = 0; phase < 2; ++phase) {  // the second crash hits a recovered database
      const uint64_t k = rng() % 160;
      const CrashMode mode =
          (round + phase) % 2 ? CrashMode::kTornSectors : CrashMode::kDropUnsynced;
      SCOPED_TRACE("round " + std::to_string(round) + " phase " + std::to_string(phase) +
                   ": crash after " + std::to_string(k) + " ops, " +
                   (mode == CrashMode::kTornSectors ? "torn sectors" : "drop unsynced"));
      std::optional<Model> in_flight;
      env.CrashAfterOps(k);
      RunUntilFailure(pager->get(), rng, 60, &acked, &in_flight);
      if (HasFatalFailure()) return;
      env.SetActive(false);  // the process dies: its close writes nothing
      const std::string before = FileBytes(path, kMaxPages * kPageSize);
      pager->reset();
      EXPECT_EQ(FileBytes(path, kMaxPages * kPageSize), before) << "a dead process wrote";
      ASSERT_TRUE(env.Crash(mode).ok());
      env.SetActive(true);

      pager = Open(&env, path, o);
      ASSERT_TRUE(pager.ok()) << pager.status().ToString();
      const std::string diff = Diff(pager->get(), acked);
      if (diff.empty()) continue;
      ASSERT_TRUE(in_flight.has_value()) << "an acknowledged commit is lost: " << diff;
      ASSERT_EQ(Diff(pager->get(), *in_flight), "")
          << "neither before (" << diff << ") nor after the commit in flight";
      acked = std::move(*in_flight);
    }
    pager->reset();  // a clean close keeps everything too
    pager = Open(&env, path, o);
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    ASSERT_EQ(Diff(pager->get(), acked), "") << "round " << round << ", after a clean close";
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
      std::vector<Model> models(first.lsn + 1);  // [i]: the state after commit i
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
    EXPECT_EQ(StateString(r.lsn, r.root, r.page_count, r.freelist_head, r.freelist_count),
              StateString(w.lsn, w.root, w.page_count, w.freelist_head, w.freelist_count));
    EXPECT_TRUE((*reader)->BeginWrite().status().IsNotSupported());
    EXPECT_TRUE((*reader)->Checkpoint().IsNotSupported());
  }
  EXPECT_EQ(env.mutating_ops(), 0u);
  EXPECT_EQ(FileBytes(path), before) << "the read-only opener wrote";
  CommitSome(writer->get(), rng, 2, &acked);  // the writer is unaffected
  EXPECT_EQ(Diff(writer->get(), acked), "");
}

// Found by the model test above. A reader at LSN 1 while its page changes
// at 2, a checkpoint writes 2, then 3 and 4: the reader must still see 1.
TEST_F(PagerFaultTest, OldReaderKeepsItsPageWhenTheFileHoldsALaterVersion) {
  auto pager = Open(&disk_, dir_.File("db"));
  ASSERT_TRUE(pager.ok()) << pager.status().ToString();
  const uint32_t page = test::WriteNewRawPage(pager->get(), 7, 'a');  // LSN 1
  auto reader = (*pager)->BeginRead();
  ASSERT_TRUE(test::PatchPage(pager->get(), page, 100, 10, 'b').ok());  // LSN 2
  ASSERT_TRUE((*pager)->Checkpoint().ok());                             // the file holds 'b'
  ASSERT_TRUE(test::PatchPage(pager->get(), page, 100, 10, 'c').ok());  // LSN 3
  ASSERT_TRUE(test::PatchPage(pager->get(), page, 100, 10, 'd').ok());  // LSN 4
  auto bytes = reader->Read(page);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ((*bytes)[100], 'a') << "a reader at LSN 1 sees a later commit";
}

// Found by the model test above. A checkpoint while a reader holds an old
// version of a page that has not changed since the last checkpoint: power
// fails with that checkpoint's page writes torn. The log holds no image of
// the page any more, so the checkpoint must not have rewritten it.
TEST_F(PagerFaultTest, TornCheckpointLeavesPagesKeptForAReaderIntact) {
  for (uint64_t env_seed = 0; env_seed < 4; ++env_seed) {
    SCOPED_TRACE("env seed " + std::to_string(env_seed));
    const std::string path = dir_.File("torn" + std::to_string(env_seed));
    FaultInjectionEnv env(&disk_, env_seed);
    uint32_t page, other;
    {
      auto pager = Open(&env, path);
      ASSERT_TRUE(pager.ok()) << pager.status().ToString();
      page = test::WriteNewRawPage(pager->get(), 7, 'a');  // LSN 1
      auto reader = (*pager)->BeginRead();
      ASSERT_TRUE(test::PatchPage(pager->get(), page, 100, 10, 'b').ok());  // LSN 2
      ASSERT_TRUE((*pager)->Checkpoint().ok());                             // the log restarts
      other = test::WriteNewRawPage(pager->get(), 8, 'o');                  // LSN 3
      env.CrashAfterOps(2);  // the checkpoint's page writes pass, its sync fails
      EXPECT_FALSE((*pager)->Checkpoint().ok());
      env.SetActive(false);
    }
    ASSERT_TRUE(env.Crash(CrashMode::kTornSectors).ok());
    env.SetActive(true);
    auto pager = Open(&env, path);
    ASSERT_TRUE(pager.ok()) << pager.status().ToString();
    auto snap = (*pager)->BeginRead();
    test::ExpectRawPage(*snap, other, 8, 'o');
    auto bytes = snap->Read(page);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ((*bytes)[100], 'b');
  }
}

}  // namespace
}  // namespace sombra::pager
