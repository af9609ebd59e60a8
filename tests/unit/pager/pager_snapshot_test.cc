// Snapshots against commits and checkpoints: a reader keeps its view (and
// its pointers) across checkpoints, the log stays bounded while a reader is
// held, readers and a writer run concurrently, group commit shares
// fdatasyncs, and page versions are pruned (docs/design/checkpoint.md).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pager/pager.h"
#include "pager_test_util.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"
#include "wal/wal_writer.h"

namespace sombra::pager {
namespace {

using Clock = std::chrono::steady_clock;
using test::ExpectRawPage;

// Bytes [16, 24) of a page are its checksum: 0 in a page version, sealed in
// the page file. A page read again may come from the other place.
bool SameIgnoringChecksum(const uint8_t* a, const uint8_t* b, uint32_t ps) {
  return std::memcmp(a, b, kHeaderChecksumOffset) == 0 &&
         std::memcmp(a + kPageHeaderSize, b + kPageHeaderSize, ps - kPageHeaderSize) == 0;
}

std::string Bytes(const uint8_t* p, uint32_t n) {
  return std::string(reinterpret_cast<const char*>(p), n);
}
const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// A random page body: bytes [kPageHeaderSize, ps).
std::string RandomBody(std::mt19937_64* rng, uint32_t ps) {
  std::string body(ps - kPageHeaderSize, '\0');
  for (char& c : body) c = static_cast<char>((*rng)() & 0xff);
  return body;
}

// Collects failures from worker threads; reported by the main thread.
class Failures {
 public:
  void Add(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (count_++ < 10) messages_ += what + "\n";
  }
  int count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }
  std::string messages() const {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }

 private:
  mutable std::mutex mu_;
  int count_ = 0;
  std::string messages_;
};

// Allocates a raw page with a fixed body; 0 on failure (reported).
uint32_t AllocRawPageOrZero(PagerTxn* txn) {
  uint8_t* page = nullptr;
  auto page_no = txn->Allocate(PageKind::kRaw, &page);
  EXPECT_TRUE(page_no.ok()) << page_no.status().ToString();
  if (!page_no.ok()) return 0;
  test::FillRawPage(page, txn->page_size(), *page_no, 'r');
  return *page_no;
}

class PagerSnapshotTest : public ::testing::Test {
 protected:
  std::unique_ptr<Pager> OpenOrDie(const Options& options) {
    auto pager = Pager::Open(Env::Default(), path_, options);
    EXPECT_TRUE(pager.ok()) << pager.status().ToString();
    if (!pager.ok()) return nullptr;
    return std::move(*pager);
  }
  sombra::test::TempDir dir_;
  std::string path_ = dir_.File("db");
};

// ---------------------------------------------------------------------------
// A reader opened before many commits and two checkpoints reads exactly its
// snapshot, through new reads and through pointers taken before.

TEST_F(PagerSnapshotTest, ReaderKeepsItsSnapshotAcrossCommitsAndTwoCheckpoints) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  auto pager = OpenOrDie(Options());
  ASSERT_NE(pager, nullptr);
  const uint32_t ps = pager->page_size();

  // The writer's model: the body of every live raw page; free pages.
  std::map<uint32_t, std::string> live;
  std::set<uint32_t> free_pages;

  auto alloc = [&](PagerTxn* txn) -> Status {
    uint8_t* page = nullptr;
    auto page_no = txn->Allocate(PageKind::kRaw, &page);
    if (!page_no.ok()) return page_no.status();
    std::string body = RandomBody(&rng, ps);
    std::memcpy(page + kPageHeaderSize, body.data(), body.size());
    live[*page_no] = std::move(body);
    free_pages.erase(*page_no);
    return Status::OK();
  };
  auto patch = [&](PagerTxn* txn, uint32_t page_no) -> Status {
    auto page = txn->Write(page_no);
    if (!page.ok()) return page.status();
    const uint32_t len = 1 + static_cast<uint32_t>(rng() % 300);
    const uint32_t off =
        kPageHeaderSize + static_cast<uint32_t>(rng() % (ps - kPageHeaderSize - len));
    const char byte = static_cast<char>(rng() & 0xff);
    std::memset(*page + off, byte, len);
    txn->NoteWrite(page_no, off, len);
    std::memset(live[page_no].data() + (off - kPageHeaderSize), byte, len);
    return Status::OK();
  };
  auto free_page = [&](PagerTxn* txn, uint32_t page_no) -> Status {
    SOMBRA_RETURN_IF_ERROR(txn->Free(page_no));
    live.erase(page_no);
    free_pages.insert(page_no);
    return Status::OK();
  };
  auto pick_live = [&]() {
    auto it = live.begin();
    std::advance(it, static_cast<long>(rng() % live.size()));
    return it->first;
  };

  // Set-up: 40 pages, half of them changed again after a checkpoint (so the
  // reader below reads some pages from the file and some from versions),
  // and a few free pages.
  {
    auto txn = pager->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (int i = 0; i < 40; ++i) ASSERT_TRUE(alloc(txn->get()).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  ASSERT_TRUE(pager->Checkpoint().ok());
  for (int i = 0; i < 20; ++i) {
    auto txn = pager->BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(patch(txn->get(), pick_live()).ok());
    if (i % 4 == 0) {
      ASSERT_TRUE(free_page(txn->get(), pick_live()).ok());
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  ASSERT_GT(pager->version_count(), 0u);

  // The old reader: a copy of every page it can read, and the pointers.
  auto old_snap = pager->BeginRead();
  const TreeState old_state = old_snap->state();
  const std::set<uint32_t> free_at_snapshot = free_pages;
  std::vector<std::string> saved(old_state.page_count);
  std::vector<const uint8_t*> held(old_state.page_count, nullptr);
  for (uint32_t p = kFirstDataPage; p < old_state.page_count; ++p) {
    auto page = old_snap->Read(p);
    ASSERT_TRUE(page.ok()) << "page " << p << ": " << page.status().ToString();
    held[p] = *page;
    saved[p] = Bytes(*page, ps);
  }

  // Many commits that patch, free, reallocate and grow; two checkpoints.
  std::set<uint32_t> reused;  // pages the old reader saw that were freed and reallocated
  auto random_commits = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto txn = pager->BeginWrite();
      ASSERT_TRUE(txn.ok());
      const int ops = 1 + static_cast<int>(rng() % 3);
      for (int op = 0; op < ops; ++op) {
        const uint64_t what = rng() % 10;
        if (what < 5 && !live.empty()) {
          ASSERT_TRUE(patch(txn->get(), pick_live()).ok());
        } else if (what < 7 && live.size() > 10) {
          ASSERT_TRUE(free_page(txn->get(), pick_live()).ok());
        } else {
          const uint32_t head = (*txn)->state().freelist_head;
          ASSERT_TRUE(alloc(txn->get()).ok());
          if (head != 0 && head < old_state.page_count) reused.insert(head);
        }
      }
      if (rng() % 4 == 0) (*txn)->SetRoot(pick_live());
      ASSERT_TRUE((*txn)->Commit().ok());
    }
  };
  const uint64_t checkpoints_before = pager->metrics()->Value("checkpoints");
  random_commits(40);
  ASSERT_TRUE(pager->Checkpoint().ok());
  random_commits(40);
  ASSERT_TRUE(pager->Checkpoint().ok());
  random_commits(10);  // some of the newest state only in versions
  ASSERT_EQ(pager->metrics()->Value("checkpoints") - checkpoints_before, 2u);
  EXPECT_GT(pager->metrics()->Value("versions_kept_for_readers"), 0u)
      << "pages the reader reads from the file were overwritten";
  EXPECT_FALSE(reused.empty()) << "the test meant to reallocate pages the reader can see";

  // The old reader sees exactly what it saw, and its old pointers too.
  EXPECT_EQ(old_snap->lsn(), old_state.lsn);
  EXPECT_EQ(old_snap->state().page_count, old_state.page_count);
  EXPECT_EQ(old_snap->state().root, old_state.root);
  EXPECT_EQ(old_snap->state().freelist_head, old_state.freelist_head);
  for (uint32_t p = kFirstDataPage; p < old_state.page_count; ++p) {
    EXPECT_EQ(std::memcmp(held[p], saved[p].data(), ps), 0)
        << "pointer to page " << p << " taken before the checkpoints changed"
        << (reused.count(p) ? " (freed and reallocated since)" : "");
    auto page = old_snap->Read(p);
    ASSERT_TRUE(page.ok()) << "page " << p << ": " << page.status().ToString();
    EXPECT_TRUE(SameIgnoringChecksum(*page, U8(saved[p]), ps))
        << "page " << p << " as read again by the old snapshot"
        << (reused.count(p) ? " (freed and reallocated since)" : "");
    if (free_at_snapshot.count(p)) {
      EXPECT_EQ((*page)[kHeaderKindOffset], static_cast<uint8_t>(PageKind::kFree));
    }
  }
  EXPECT_TRUE(
      old_snap->Read(static_cast<uint32_t>(old_state.page_count)).status().IsInvalidArgument());

  // A new reader sees the new state.
  auto new_snap = pager->BeginRead();
  EXPECT_EQ(new_snap->lsn(), pager->published().lsn);
  EXPECT_GT(new_snap->lsn(), old_state.lsn);
  for (uint32_t p = kFirstDataPage; p < new_snap->state().page_count; ++p) {
    auto page = new_snap->Read(p);
    ASSERT_TRUE(page.ok()) << "page " << p << ": " << page.status().ToString();
    auto it = live.find(p);
    if (it != live.end()) {
      EXPECT_EQ((*page)[kHeaderKindOffset], static_cast<uint8_t>(PageKind::kRaw)) << p;
      EXPECT_EQ(std::memcmp(*page + kPageHeaderSize, it->second.data(), it->second.size()), 0)
          << "page " << p << " in the new snapshot";
    } else {
      EXPECT_TRUE(free_pages.count(p)) << p;
      EXPECT_EQ((*page)[kHeaderKindOffset], static_cast<uint8_t>(PageKind::kFree)) << p;
    }
  }
  EXPECT_EQ(new_snap->state().freelist_count, free_pages.size());

  // Once the readers are gone a checkpoint drops every version.
  old_snap.reset();
  new_snap.reset();
  ASSERT_TRUE(pager->Checkpoint().ok());
  EXPECT_EQ(pager->version_count(), 0u);
}

// The reader needs a version older than the checkpoint; the version the
// checkpoint wrote is pruned afterwards (no snapshot needs it), and more
// commits follow before the next checkpoint. The page file then holds a
// version newer than the reader's, so the reader's version must stay.
TEST_F(PagerSnapshotTest, ReaderKeepsItsVersionWhenTheCheckpointedVersionIsPruned) {
  auto pager = OpenOrDie(Options());
  ASSERT_NE(pager, nullptr);
  const uint32_t p = test::WriteNewRawPage(pager.get(), 1, 'a');  // LSN 1: a version only
  auto reader = pager->BeginRead();                               // LSN 1
  ASSERT_EQ(reader->lsn(), 1u);
  ASSERT_TRUE(test::PatchPage(pager.get(), p, 1000, 8, 'b').ok());  // LSN 2
  // Nothing is at risk: the reader has a version of the page (LSN 1).
  ASSERT_TRUE(pager->Checkpoint().ok());  // the file holds LSN 2
  EXPECT_EQ(pager->metrics()->Value("versions_kept_for_readers"), 0u);
  EXPECT_EQ((*reader->Read(p))[1000], 'a');
  ASSERT_TRUE(test::PatchPage(pager.get(), p, 1000, 8, 'c').ok());  // LSN 3: LSN 2 is pruned
  EXPECT_EQ((*reader->Read(p))[1000], 'a');
  ASSERT_TRUE(test::PatchPage(pager.get(), p, 1000, 8, 'd').ok());  // LSN 4
  auto page = reader->Read(p);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ((*page)[1000], 'a') << "the snapshot at LSN 1 reads the page file's LSN 2 bytes";
  ExpectRawPage(*reader, p, 1, 'a');
  EXPECT_EQ((*pager->BeginRead()->Read(p))[1000], 'd');
}

// ---------------------------------------------------------------------------
// A held reader does not make the log grow: every checkpoint restarts it.

TEST_F(PagerSnapshotTest, LogStaysBoundedWhileAReaderIsHeld) {
  std::mt19937_64 rng(sombra::test::TestSeed());
  Options options;
  options.wal_checkpoint_bytes = 64 << 10;
  options.wal_compression = false;  // images cost a full page: predictable sizes
  auto pager = OpenOrDie(options);
  ASSERT_NE(pager, nullptr);
  const uint32_t ps = pager->page_size();
  MetricsRegistry* m = pager->metrics();

  constexpr int kPages = 50;
  std::vector<uint32_t> pages;
  {
    auto txn = pager->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (int i = 0; i < kPages; ++i) {
      uint8_t* page = nullptr;
      auto page_no = (*txn)->Allocate(PageKind::kRaw, &page);
      ASSERT_TRUE(page_no.ok());
      std::string body = RandomBody(&rng, ps);
      std::memcpy(page + kPageHeaderSize, body.data(), body.size());
      pages.push_back(*page_no);
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  ASSERT_TRUE(pager->Checkpoint().ok());
  const uint64_t checkpoints_before = m->Value("checkpoints");

  auto reader = pager->BeginRead();
  std::vector<std::string> saved;
  std::vector<const uint8_t*> held;
  for (uint32_t p : pages) {
    auto page = reader->Read(p);
    ASSERT_TRUE(page.ok());
    held.push_back(*page);
    saved.push_back(Bytes(*page, ps));
  }

  const uint64_t target = 20 * options.wal_checkpoint_bytes;
  uint64_t appended = 0;
  uint64_t max_txn = 0;
  uint64_t max_log = 0;
  size_t max_versions = 0;
  int commits = 0;
  while (appended < target) {
    const uint64_t before = m->Value("wal_bytes");
    auto txn = pager->BeginWrite();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    for (int k = 0; k < 3; ++k) {
      const uint32_t p = pages[rng() % pages.size()];
      auto page = (*txn)->Write(p);
      ASSERT_TRUE(page.ok());
      const uint32_t off =
          kPageHeaderSize + static_cast<uint32_t>(rng() % (ps - 64 - kPageHeaderSize));
      std::memset(*page + off, static_cast<char>(rng()), 64);
      (*txn)->NoteWrite(p, off, 64);
    }
    ASSERT_TRUE((*txn)->Commit().ok());
    ++commits;
    const uint64_t txn_bytes = m->Value("wal_bytes") - before;
    appended += txn_bytes;
    max_txn = std::max(max_txn, txn_bytes);
    const uint64_t log = pager->wal_bytes();
    max_log = std::max(max_log, log);
    ASSERT_LT(log, 2 * options.wal_checkpoint_bytes + max_txn)
        << "after commit " << commits << " with a reader held";
    max_versions = std::max(max_versions, pager->version_count());
    ASSERT_TRUE(pager->sticky_error().ok()) << pager->sticky_error().ToString();
  }
  const uint64_t checkpoints = m->Value("checkpoints") - checkpoints_before;
  EXPECT_GE(checkpoints, 10u);
  EXPECT_LE(max_versions, 2u * kPages) << "one version per page for the newest state suffices";
  auto wal_size = Env::Default()->GetFileSize(path_ + "-wal");
  ASSERT_TRUE(wal_size.ok());
  EXPECT_LE(*wal_size, 2 * options.wal_checkpoint_bytes + max_txn + wal::WalWriter::kGrowStep)
      << "the log file is reused from its start at every restart";
  RecordProperty("commits", std::to_string(commits));
  RecordProperty("checkpoints", std::to_string(checkpoints));
  RecordProperty("max_log_bytes", std::to_string(max_log));
  RecordProperty("max_versions", std::to_string(max_versions));

  // The reader still sees its snapshot.
  for (size_t i = 0; i < pages.size(); ++i) {
    EXPECT_EQ(std::memcmp(held[i], saved[i].data(), ps), 0) << "pointer to page " << pages[i];
    auto page = reader->Read(pages[i]);
    ASSERT_TRUE(page.ok());
    EXPECT_TRUE(SameIgnoringChecksum(*page, U8(saved[i]), ps)) << "page " << pages[i];
  }
  reader.reset();
  ASSERT_TRUE(pager->Checkpoint().ok());
  EXPECT_EQ(pager->version_count(), 0u);
}

// ---------------------------------------------------------------------------
// Readers and a writer at once. Every transaction writes its counter into
// all kPages pages, so a snapshot must see one counter everywhere, equal to
// its LSN minus the set-up's.

constexpr int kCounterPages = 8;
constexpr uint32_t kFillOffset = 64;
constexpr uint32_t kFillLength = 256;

// Writes counter `c` into the page: at 24, at the end, and as a fill.
void StampCounter(PagerTxn* txn, uint32_t page_no, uint8_t* page, uint64_t c) {
  const uint32_t ps = txn->page_size();
  EncodeFixed64(page + kPageHeaderSize, c);
  EncodeFixed64(page + ps - 8, c);
  std::memset(page + kFillOffset, static_cast<int>(c * 7 % 251), kFillLength);
  txn->NoteWrite(page_no, kPageHeaderSize, 8);
  txn->NoteWrite(page_no, ps - 8, 8);
  txn->NoteWrite(page_no, kFillOffset, kFillLength);
}

// Empty when the page carries counter `c` consistently.
std::string CheckCounter(const uint8_t* page, uint32_t ps, uint32_t page_no, uint64_t c) {
  if (page[kHeaderKindOffset] != static_cast<uint8_t>(PageKind::kRaw)) {
    return "page " + std::to_string(page_no) + " is not a raw page";
  }
  const uint64_t head = DecodeFixed64(page + kPageHeaderSize);
  const uint64_t tail = DecodeFixed64(page + ps - 8);
  if (head != c || tail != c) {
    return "page " + std::to_string(page_no) + " carries counters " + std::to_string(head) + "/" +
           std::to_string(tail) + ", the snapshot expects " + std::to_string(c);
  }
  const uint8_t fill = static_cast<uint8_t>(c * 7 % 251);
  for (uint32_t i = 0; i < kFillLength; ++i) {
    if (page[kFillOffset + i] != fill) {
      return "page " + std::to_string(page_no) + " byte " + std::to_string(kFillOffset + i) +
             " is torn for counter " + std::to_string(c);
    }
  }
  return {};
}

TEST_F(PagerSnapshotTest, ConcurrentReadersSeeConsistentSnapshotsWhileCheckpointing) {
  Options options;
  options.durability = Durability::kNormal;
  options.wal_checkpoint_bytes = 48 << 10;  // automatic checkpoints as well
  auto pager = OpenOrDie(options);
  ASSERT_NE(pager, nullptr);
  const uint32_t ps = pager->page_size();

  std::vector<uint32_t> pages;
  {
    auto txn = pager->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (int i = 0; i < kCounterPages; ++i) {
      uint8_t* page = nullptr;
      auto page_no = (*txn)->Allocate(PageKind::kRaw, &page);
      ASSERT_TRUE(page_no.ok());
      StampCounter(txn->get(), *page_no, page, 0);
      pages.push_back(*page_no);
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  const uint64_t base_lsn = pager->published().lsn;  // counter c is LSN base_lsn + c
  MetricsRegistry* m = pager->metrics();

  Failures failures;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> snapshots_checked{0};
  std::atomic<uint64_t> long_held_checked{0};

  auto check_snapshot = [&](const Snapshot& snap) -> bool {
    if (snap.lsn() < base_lsn) {
      failures.Add("snapshot LSN " + std::to_string(snap.lsn()) + " below the set-up's");
      return false;
    }
    const uint64_t c = snap.lsn() - base_lsn;
    for (uint32_t p : pages) {
      auto page = snap.Read(p);
      if (!page.ok()) {
        failures.Add(page.status().ToString());
        return false;
      }
      std::string err = CheckCounter(*page, ps, p, c);
      if (!err.empty()) {
        failures.Add("snapshot at LSN " + std::to_string(snap.lsn()) + ": " + err);
        return false;
      }
    }
    return true;
  };

  auto reader = [&](int id) {
    // A long-held snapshot: its copies and pointers are checked again once
    // several checkpoints have passed, then it is replaced.
    std::unique_ptr<Snapshot> old;
    std::vector<std::string> old_copy;
    std::vector<const uint8_t*> old_ptr;
    uint64_t old_checkpoints = 0;
    auto take_old = [&] {
      old = pager->BeginRead();
      old_copy.clear();
      old_ptr.clear();
      for (uint32_t p : pages) {
        auto page = old->Read(p);
        if (!page.ok()) {
          failures.Add(page.status().ToString());
          return;
        }
        old_ptr.push_back(*page);
        old_copy.push_back(Bytes(*page, ps));
      }
      old_checkpoints = m->Value("checkpoints");
    };
    take_old();
    uint64_t iter = 0;
    while (!stop.load(std::memory_order_relaxed) && failures.count() == 0) {
      {
        auto snap = pager->BeginRead();
        if (check_snapshot(*snap)) snapshots_checked.fetch_add(1, std::memory_order_relaxed);
        if ((++iter + static_cast<uint64_t>(id)) % 8 == 0) std::this_thread::yield();
      }
      if (m->Value("checkpoints") >= old_checkpoints + 3) {
        bool ok = check_snapshot(*old);
        for (size_t i = 0; ok && i < pages.size(); ++i) {
          if (std::memcmp(old_ptr[i], old_copy[i].data(), ps) != 0) {
            failures.Add("long-held snapshot at LSN " + std::to_string(old->lsn()) +
                         ": an old pointer to page " + std::to_string(pages[i]) + " changed");
            ok = false;
          }
          auto page = old->Read(pages[i]);
          if (ok && (!page.ok() || !SameIgnoringChecksum(*page, U8(old_copy[i]), ps))) {
            failures.Add("long-held snapshot at LSN " + std::to_string(old->lsn()) + ": page " +
                         std::to_string(pages[i]) + " changed");
            ok = false;
          }
        }
        if (ok) long_held_checked.fetch_add(1, std::memory_order_relaxed);
        take_old();
      }
    }
  };

  uint64_t commits = 0;
  auto writer = [&] {
    const auto end = Clock::now() + std::chrono::seconds(2);
    while (Clock::now() < end && failures.count() == 0) {
      auto txn = pager->BeginWrite();
      if (!txn.ok()) {
        failures.Add(txn.status().ToString());
        break;
      }
      const uint64_t c = (*txn)->base_lsn() + 1 - base_lsn;
      for (uint32_t p : pages) {
        auto page = (*txn)->Write(p);
        if (!page.ok()) {
          failures.Add(page.status().ToString());
          return;
        }
        StampCounter(txn->get(), p, *page, c);
      }
      Status s = (*txn)->Commit();
      if (!s.ok()) {
        failures.Add("commit: " + s.ToString());
        break;
      }
      ++commits;
      if (commits % 4 == 0) {
        s = pager->Checkpoint();
        if (!s.ok()) {
          failures.Add("checkpoint: " + s.ToString());
          break;
        }
      }
    }
    stop = true;
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(reader, i);
  threads.emplace_back(writer);
  for (auto& t : threads) t.join();

  ASSERT_EQ(failures.count(), 0) << failures.messages();
  EXPECT_GE(commits, 20u);
  EXPECT_GE(m->Value("checkpoints"), 5u);
  EXPECT_GT(snapshots_checked.load(), 100u);
  EXPECT_GT(long_held_checked.load(), 0u) << "no long-held snapshot outlived 3 checkpoints";
  EXPECT_EQ(pager->published().lsn, base_lsn + commits);
  RecordProperty("commits", std::to_string(commits));
  RecordProperty("checkpoints", std::to_string(m->Value("checkpoints")));
  RecordProperty("snapshots_checked", std::to_string(snapshots_checked.load()));
  RecordProperty("long_held_checked", std::to_string(long_held_checked.load()));

  ASSERT_TRUE(pager->Checkpoint().ok());
  EXPECT_EQ(pager->version_count(), 0u);
  auto last = pager->BeginRead();
  EXPECT_TRUE(check_snapshot(*last)) << failures.messages();
}

// Several committers (durability full: the slot is released before the
// fdatasync, so a commit publishes and prunes while the next transaction
// or a checkpoint runs) race a thread that checkpoints continuously, and a
// reader checks that every page only moves forward.
TEST_F(PagerSnapshotTest, CommittersRaceCheckpoints) {
  auto pager = OpenOrDie(Options());
  ASSERT_NE(pager, nullptr);
  const uint32_t ps = pager->page_size();
  constexpr int kWriters = 3;
  std::vector<uint32_t> pages;
  {
    auto txn = pager->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (int i = 0; i < kWriters; ++i) {
      uint8_t* page = nullptr;
      auto page_no = (*txn)->Allocate(PageKind::kRaw, &page);
      ASSERT_TRUE(page_no.ok());
      StampCounter(txn->get(), *page_no, page, 0);
      pages.push_back(*page_no);
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }

  Failures failures;
  std::atomic<int> writers_left{kWriters};
  std::vector<std::atomic<uint64_t>> acked(kWriters);
  for (auto& a : acked) a = 0;
  const auto end = Clock::now() + std::chrono::milliseconds(1500);

  auto writer = [&](int w) {
    for (uint64_t c = 1; Clock::now() < end && failures.count() == 0; ++c) {
      auto txn = pager->BeginWrite();
      if (!txn.ok()) {
        failures.Add(txn.status().ToString());
        break;
      }
      auto page = (*txn)->Write(pages[w]);
      if (!page.ok()) {
        failures.Add(page.status().ToString());
        break;
      }
      StampCounter(txn->get(), pages[w], *page, c);
      Status s = (*txn)->Commit();
      if (!s.ok()) {
        failures.Add("commit: " + s.ToString());
        break;
      }
      acked[w] = c;
    }
    writers_left--;
  };
  auto checkpointer = [&] {
    while (writers_left.load() > 0 && failures.count() == 0) {
      Status s = pager->Checkpoint();
      if (!s.ok()) {
        failures.Add("checkpoint: " + s.ToString());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  };
  auto reader = [&] {
    std::vector<uint64_t> last(kWriters, 0);
    while (writers_left.load() > 0 && failures.count() == 0) {
      std::vector<uint64_t> floor(kWriters);
      for (int w = 0; w < kWriters; ++w) floor[w] = acked[w].load();
      auto snap = pager->BeginRead();
      for (int w = 0; w < kWriters; ++w) {
        auto page = snap->Read(pages[w]);
        if (!page.ok()) {
          failures.Add(page.status().ToString());
          return;
        }
        const uint64_t c = DecodeFixed64(*page + kPageHeaderSize);
        std::string err = CheckCounter(*page, ps, pages[w], c);
        if (!err.empty()) failures.Add(err);
        if (c < last[w] || c < floor[w]) {
          failures.Add("page " + std::to_string(pages[w]) + " went back: counter " +
                       std::to_string(c) + " after " + std::to_string(last[w]) + ", acknowledged " +
                       std::to_string(floor[w]));
        }
        last[w] = c;
      }
    }
  };

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) threads.emplace_back(writer, w);
  threads.emplace_back(checkpointer);
  threads.emplace_back(reader);
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.count(), 0) << failures.messages();
  EXPECT_GE(pager->metrics()->Value("checkpoints"), 5u);

  uint64_t total = 1;
  for (int w = 0; w < kWriters; ++w) total += acked[w].load();
  EXPECT_EQ(pager->published().lsn, total);
  pager.reset();
  pager = OpenOrDie(Options());
  ASSERT_NE(pager, nullptr);
  auto snap = pager->BeginRead();
  for (int w = 0; w < kWriters; ++w) {
    auto page = snap->Read(pages[w]);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(CheckCounter(*page, ps, pages[w], acked[w].load()), "");
  }
}

// ---------------------------------------------------------------------------
// Group commit: committers that overlap share fdatasyncs; every commit is
// published, in order, and durable.

TEST_F(PagerSnapshotTest, GroupCommitSharesFsyncsAndKeepsEveryCommit) {
  constexpr int kThreads = 8;
  constexpr int kCommitsEach = 100;
  Options options;
  options.durability = Durability::kFull;
  auto pager = OpenOrDie(options);
  ASSERT_NE(pager, nullptr);
  const uint32_t ps = pager->page_size();
  MetricsRegistry* m = pager->metrics();
  const uint64_t fsyncs_before = m->Value("fsyncs");

  Failures failures;
  std::vector<uint32_t> page_of(kThreads, 0);
  auto committer = [&](int t) {
    // The first transaction allocates the thread's page; the others change it.
    for (uint64_t c = 1; c <= kCommitsEach; ++c) {
      auto txn = pager->BeginWrite();
      if (!txn.ok()) {
        failures.Add(txn.status().ToString());
        return;
      }
      uint8_t* page = nullptr;
      if (c == 1) {
        auto page_no = (*txn)->Allocate(PageKind::kRaw, &page);
        if (!page_no.ok()) {
          failures.Add(page_no.status().ToString());
          return;
        }
        page_of[t] = *page_no;
      } else {
        auto w = (*txn)->Write(page_of[t]);
        if (!w.ok()) {
          failures.Add(w.status().ToString());
          return;
        }
        page = *w;
      }
      EncodeFixed32(page + ps - 16, static_cast<uint32_t>(t));
      (*txn)->NoteWrite(page_of[t], ps - 16, 4);
      StampCounter(txn->get(), page_of[t], page, c);
      Status s = (*txn)->Commit();
      if (!s.ok()) {
        failures.Add("thread " + std::to_string(t) + " commit " + std::to_string(c) + ": " +
                     s.ToString());
        return;
      }
    }
  };
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(committer, t);
  for (auto& th : threads) th.join();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  ASSERT_EQ(failures.count(), 0) << failures.messages();

  const uint64_t commits = m->Value("commits");
  const uint64_t fsyncs = m->Value("fsyncs") - fsyncs_before;
  EXPECT_EQ(commits, uint64_t{kThreads} * kCommitsEach);
  EXPECT_LT(fsyncs, commits) << "one fdatasync covers the batches appended before it";
  EXPECT_GT(m->Value("wal_syncs_grouped"), 0u);
  EXPECT_EQ(pager->published().lsn, uint64_t{kThreads} * kCommitsEach);
  RecordProperty("fsyncs", std::to_string(fsyncs));
  RecordProperty("commits", std::to_string(commits));
  RecordProperty("ms", std::to_string(ms));

  std::set<uint32_t> distinct(page_of.begin(), page_of.end());
  ASSERT_EQ(distinct.size(), static_cast<size_t>(kThreads));
  pager.reset();  // clean close
  pager = OpenOrDie(options);
  ASSERT_NE(pager, nullptr);
  EXPECT_EQ(pager->published().lsn, uint64_t{kThreads} * kCommitsEach);
  auto snap = pager->BeginRead();
  for (int t = 0; t < kThreads; ++t) {
    auto page = snap->Read(page_of[t]);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(CheckCounter(*page, ps, page_of[t], kCommitsEach), "") << "thread " << t;
    EXPECT_EQ(DecodeFixed32(*page + ps - 16), static_cast<uint32_t>(t));
  }
}

// ---------------------------------------------------------------------------
// Versions are pruned: a held reader costs at most the versions it needs.

TEST_F(PagerSnapshotTest, VersionsArePrunedWhileReadersAreHeldAndDroppedAfter) {
  Options options;
  options.durability = Durability::kNormal;  // 1000 commits; pruning does not depend on it
  auto pager = OpenOrDie(options);
  ASSERT_NE(pager, nullptr);
  const uint32_t ps = pager->page_size();
  const uint32_t p = test::WriteNewRawPage(pager.get(), 7, 'v');
  ASSERT_TRUE(pager->Checkpoint().ok());
  ASSERT_EQ(pager->version_count(), 0u);

  auto old = pager->BeginRead();
  const uint8_t* old_ptr = *old->Read(p);
  const std::string old_copy = Bytes(old_ptr, ps);
  size_t max_versions = 0;
  for (int i = 1; i <= 1000; ++i) {
    ASSERT_TRUE(test::PatchPage(pager.get(), p, 100, 8, static_cast<char>(i)).ok());
    max_versions = std::max(max_versions, pager->version_count());
    ASSERT_LE(pager->version_count(), 3u) << "after patch " << i << " with one old reader";
  }
  EXPECT_GT(pager->metrics()->Value("pager_versions_pruned"), 900u);
  EXPECT_EQ(std::memcmp(old_ptr, old_copy.data(), ps), 0);
  test::ExpectRawPage(*old, p, 7, 'v');
  EXPECT_EQ((*old->Read(p))[100], 'v');

  // Readers at several LSNs need one version each, no more.
  std::vector<std::unique_ptr<Snapshot>> readers;
  for (int i = 1; i <= 400; ++i) {
    ASSERT_TRUE(test::PatchPage(pager.get(), p, 100, 8, static_cast<char>(i)).ok());
    if (i % 100 == 0) readers.push_back(pager->BeginRead());
    ASSERT_LE(pager->version_count(), 2 + readers.size()) << "after patch " << i;
  }
  // A checkpoint with readers held keeps what they need.
  ASSERT_TRUE(pager->Checkpoint().ok());
  EXPECT_LE(pager->version_count(), 2 + readers.size());
  for (size_t r = 0; r < readers.size(); ++r) {
    auto page = readers[r]->Read(p);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ((*page)[100], static_cast<uint8_t>(100 * (r + 1))) << "reader " << r;
  }
  EXPECT_EQ((*old->Read(p))[100], 'v');
  RecordProperty("max_versions_one_reader", std::to_string(max_versions));

  // The readers go; a checkpoint drops every version.
  old.reset();
  readers.clear();
  ASSERT_TRUE(pager->Checkpoint().ok());
  EXPECT_EQ(pager->version_count(), 0u);
  auto now = pager->BeginRead();
  EXPECT_EQ((*now->Read(p))[100], static_cast<uint8_t>(400));
}

// Short readers that overlap (there is always one open, none lives longer
// than one round of commits and a checkpoint) need only the versions of the
// pages changed while they live: a page changed long before the oldest live
// reader began is in the page file and needs no version: a reader costs
// memory for the pages changed since it started, nothing else
// (docs/architecture.md, "Pager, versions and reads").
TEST_F(PagerSnapshotTest, OverlappingShortReadersDoNotPinEveryVersion) {
  Options options;
  options.durability = Durability::kOff;  // pruning does not depend on it
  auto pager = OpenOrDie(options);
  ASSERT_NE(pager, nullptr);
  constexpr int kPages = 500;
  constexpr int kPerRound = 10;
  std::vector<uint32_t> pages;
  {
    auto txn = pager->BeginWrite();
    ASSERT_TRUE(txn.ok());
    for (int i = 0; i < kPages; ++i) pages.push_back(AllocRawPageOrZero(txn->get()));
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  ASSERT_TRUE(pager->Checkpoint().ok());

  auto reader = pager->BeginRead();
  size_t max_versions = 0;
  for (int round = 0; round < 2 * kPages / kPerRound; ++round) {
    auto next = pager->BeginRead();  // opens before the previous one closes
    reader = std::move(next);
    for (int k = 0; k < kPerRound; ++k) {
      const uint32_t p = pages[(round * kPerRound + k) % kPages];
      ASSERT_TRUE(test::PatchPage(pager.get(), p, 100, 8, static_cast<char>(round)).ok());
    }
    ASSERT_TRUE(pager->Checkpoint().ok());
    max_versions = std::max(max_versions, pager->version_count());
  }
  RecordProperty("max_versions", std::to_string(max_versions));
  EXPECT_LE(max_versions, size_t{5} * kPerRound)
      << "versions of pages changed before the oldest live reader began are kept: memory grows "
         "with every page ever changed while readers overlap";
  reader.reset();
  ASSERT_TRUE(pager->Checkpoint().ok());
  EXPECT_EQ(pager->version_count(), 0u);
}

}  // namespace
}  // namespace sombra::pager
