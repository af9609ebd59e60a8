// The shared reader table `<path>-shm` (docs/format/shm.md): slots,
// the oldest snapshot, liveness across real processes (fork, SIGKILL), the
// rebuild rule, racing opens, and the byte layout the format doc gives.
#include "env/reader_table.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"
#include "util/hash.h"

namespace sombra {
namespace {

constexpr uint64_t kSalt = 0x5eed5a17db000001;

// A forked child running `body(in, out)`: it reads commands from `in` and
// writes answers to `out`; its return value is its exit status. The child
// never returns into gtest.
class Child {
 public:
  explicit Child(const std::function<int(int in, int out)>& body) {
    int to_child[2], to_parent[2];
    if (pipe(to_child) != 0 || pipe(to_parent) != 0) std::abort();
    pid_ = fork();
    if (pid_ < 0) std::abort();
    if (pid_ == 0) {
      ::close(to_child[1]);
      ::close(to_parent[0]);
      _exit(body(to_child[0], to_parent[1]));
    }
    ::close(to_child[0]);
    ::close(to_parent[1]);
    to_child_ = to_child[1];
    from_child_ = to_parent[0];
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (to_child_ >= 0) ::close(to_child_);
    ::close(from_child_);
  }

  pid_t pid() const { return pid_; }
  void Send(char c) { ASSERT_EQ(::write(to_child_, &c, 1), 1); }
  // One answer line from the child ("" at EOF).
  std::string ReadLine() {
    std::string line;
    char c;
    while (::read(from_child_, &c, 1) == 1 && c != '\n') line.push_back(c);
    return line;
  }
  void Kill() {
    ASSERT_EQ(::kill(pid_, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid_, &status, 0), pid_);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    reaped_ = true;
  }
  // Waits for a normal exit and returns its status (-1 otherwise).
  int Wait() {
    int status = 0;
    EXPECT_EQ(::waitpid(pid_, &status, 0), pid_);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  bool reaped_ = false;
};

void WriteLine(int fd, const std::string& line) {
  std::string s = line + "\n";
  if (::write(fd, s.data(), s.size()) != static_cast<ssize_t>(s.size())) _exit(90);
}
char ReadCommand(int fd) {
  char c = 0;
  return ::read(fd, &c, 1) == 1 ? c : 0;
}

// The body of a reader process: opens the table, claims a slot, publishes
// `lsn`, answers "<slot index> <open kind>", then obeys commands:
// 'p' publishes lsn + 1 and answers "ok"; anything else (or EOF) releases
// the slot and exits 0. (Commands, not EOF: later children inherit the
// write ends of earlier children's command pipes.)
std::function<int(int, int)> ReaderBody(const std::string& path, uint64_t salt, uint64_t lsn) {
  return [path, salt, lsn](int in, int out) {
    auto table = ReaderTable::Open(path, salt);
    if (!table.ok()) {
      WriteLine(out, "error " + table.status().ToString());
      return 1;
    }
    auto slot = (*table)->Acquire();
    if (!slot.ok()) {
      WriteLine(out, "error " + slot.status().ToString());
      return 2;
    }
    slot->Publish(lsn);
    WriteLine(out, std::to_string(slot->index()) + " " +
                       std::to_string(static_cast<int>((*table)->open_kind())));
    for (;;) {
      char c = ReadCommand(in);
      if (c == 'p') {
        slot->Publish(lsn + 1);
        WriteLine(out, "ok");
      } else {
        slot->Release();
        return 0;
      }
    }
  };
}

void PatchFile(const std::string& path, uint64_t offset, const void* data, size_t n) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, data, n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
  ::close(fd);
}
void PatchU64(const std::string& path, uint64_t offset, uint64_t v) {
  uint8_t b[8];
  EncodeFixed64(b, v);
  PatchFile(path, offset, b, 8);
}
off_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}
void TruncateFile(const std::string& path, off_t size) {
  ASSERT_EQ(::truncate(path.c_str(), size), 0);
}
// Rewrites header field `offset` (4 or 8 bytes) and reseals the checksum,
// so that the field is the only thing wrong.
void RewriteHeaderField(const std::string& path, size_t offset, uint64_t v, int width) {
  std::string bytes = test::ReadFileOrDie(path);
  ASSERT_GE(bytes.size(), 64u);
  uint8_t h[64];
  std::memcpy(h, bytes.data(), 64);
  if (width == 4) EncodeFixed32(h + offset, static_cast<uint32_t>(v));
  if (width == 8) EncodeFixed64(h + offset, v);
  EncodeFixed64(h + 56, Hash64(h, 56, 0));
  PatchFile(path, 0, h, 64);
}

// Which lock another open file description sees on `byte` (F_UNLCK,
// F_RDLCK or F_WRLCK).
short LockSeenOn(const std::string& path, uint64_t byte) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(byte);
  fl.l_len = 1;
  EXPECT_EQ(::fcntl(fd, F_OFD_GETLK, &fl), 0);
  ::close(fd);
  return fl.l_type;
}

class ReaderTableTest : public ::testing::Test {
 protected:
  std::unique_ptr<ReaderTable> OpenTable(uint64_t salt = kSalt) {
    auto table = ReaderTable::Open(path_, salt);
    EXPECT_TRUE(table.ok()) << table.status().ToString();
    return table.ok() ? std::move(*table) : nullptr;
  }
  ReaderSlot AcquireOk(ReaderTable* table) {
    auto slot = table->Acquire();
    EXPECT_TRUE(slot.ok()) << slot.status().ToString();
    return slot.ok() ? std::move(*slot) : ReaderSlot();
  }
  // Claims every free slot of `table`; returns them.
  std::vector<ReaderSlot> AcquireAll(ReaderTable* table) {
    std::vector<ReaderSlot> slots;
    for (;;) {
      auto slot = table->Acquire();
      if (!slot.ok()) {
        EXPECT_TRUE(slot.status().IsBusy()) << slot.status().ToString();
        return slots;
      }
      slots.push_back(std::move(*slot));
    }
  }

  test::TempDir dir_;
  std::string path_ = dir_.File("db-shm");
};

TEST_F(ReaderTableTest, AcquirePublishClearOldest) {
  auto table = OpenTable();
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->open_kind(), ReaderTable::OpenKind::kInitialized);
  EXPECT_EQ(table->open_reason(), "new file");
  EXPECT_EQ(table->OldestSnapshot(), kNoSnapshot);

  ReaderSlot a = AcquireOk(table.get());
  ReaderSlot b = AcquireOk(table.get());
  ASSERT_TRUE(a.valid() && b.valid());
  EXPECT_NE(a.index(), b.index());
  EXPECT_EQ(table->OldestSnapshot(), kNoSnapshot) << "claimed but not reading";

  a.Publish(10);
  b.Publish(7);
  EXPECT_EQ(a.published(), 10u);
  EXPECT_EQ(table->OldestSnapshot(), 7u);
  b.Clear();
  EXPECT_EQ(table->OldestSnapshot(), 10u);
  b.Publish(12);
  EXPECT_EQ(table->OldestSnapshot(), 10u);
  a.Clear();
  EXPECT_EQ(table->OldestSnapshot(), 12u);

  ReaderTable::SlotView view = table->Peek(b.index());
  EXPECT_EQ(view.owner_pid, static_cast<uint64_t>(getpid()));
  EXPECT_EQ(view.nonce, table->nonce());
  EXPECT_EQ(view.lsn, 12u);

  const uint32_t b_index = b.index();
  b.Release();
  EXPECT_FALSE(b.valid());
  b.Release();  // idempotent
  EXPECT_EQ(table->OldestSnapshot(), kNoSnapshot);
  view = table->Peek(b_index);
  EXPECT_EQ(view.owner_pid, 0u);
  EXPECT_EQ(view.nonce, 0u);
  EXPECT_EQ(view.lsn, 0u);

  // Moving a slot moves the claim.
  ReaderSlot moved = std::move(a);
  EXPECT_FALSE(a.valid());  // NOLINT: testing the moved-from state
  moved.Publish(3);
  EXPECT_EQ(table->OldestSnapshot(), 3u);
}

TEST_F(ReaderTableTest, SlotsAreReusedAfterReleaseAndAFullTableIsBusy) {
  auto table = OpenTable();
  ASSERT_NE(table, nullptr);
  std::vector<ReaderSlot> slots = AcquireAll(table.get());
  ASSERT_EQ(slots.size(), kShmSlotCount);
  std::set<uint32_t> indices;
  for (auto& s : slots) indices.insert(s.index());
  EXPECT_EQ(indices.size(), kShmSlotCount);

  auto full = table->Acquire();
  ASSERT_FALSE(full.ok());
  EXPECT_TRUE(full.status().IsBusy()) << full.status().ToString();
  EXPECT_NE(full.status().message().find(path_), std::string::npos) << full.status().ToString();
  EXPECT_NE(full.status().message().find("126"), std::string::npos) << full.status().ToString();

  const uint32_t freed = slots[40].index();
  slots[40].Release();
  ReaderSlot again = AcquireOk(table.get());
  EXPECT_EQ(again.index(), freed);
  EXPECT_TRUE(table->Acquire().status().IsBusy());

  again.Release();
  slots.clear();
  EXPECT_EQ(AcquireAll(table.get()).size(), kShmSlotCount);
}

TEST_F(ReaderTableTest, TwoHandlesInOneProcessExcludeEachOther) {
  auto first = OpenTable();
  auto second = OpenTable();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(second->open_kind(), ReaderTable::OpenKind::kJoined);
  EXPECT_EQ(second->table_id(), first->table_id());
  EXPECT_NE(second->nonce(), first->nonce());

  std::vector<ReaderSlot> mine;
  for (int i = 0; i < 100; ++i) mine.push_back(AcquireOk(first.get()));
  std::vector<ReaderSlot> theirs = AcquireAll(second.get());
  EXPECT_EQ(theirs.size(), kShmSlotCount - 100);
  EXPECT_TRUE(first->Acquire().status().IsBusy());

  // A slot held by the other handle of this process is alive for both.
  mine[17].Publish(4);
  theirs[3].Publish(6);
  EXPECT_EQ(second->OldestSnapshot(), 4u);
  EXPECT_EQ(first->OldestSnapshot(), 4u);
  EXPECT_EQ(second->Peek(mine[17].index()).nonce, first->nonce());

  mine.clear();
  EXPECT_EQ(second->OldestSnapshot(), 6u);
  EXPECT_EQ(AcquireAll(second.get()).size(), 100u);
}

TEST_F(ReaderTableTest, ThreadsOfTwoHandlesNeverShareASlot) {
  const uint64_t seed = test::TestSeed();
  auto first = OpenTable();
  auto second = OpenTable();
  ASSERT_TRUE(first && second);
  std::array<std::atomic<int>, kShmSlotCount> holders{};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      ReaderTable* table = (t % 2 == 0) ? first.get() : second.get();
      uint64_t x = seed + static_cast<uint64_t>(t) * 0x9E3779B97F4A7C15;
      for (int round = 0; round < 300; ++round) {
        std::vector<ReaderSlot> held;
        x = x * 6364136223846793005 + 1442695040888963407;
        const int n = 1 + static_cast<int>((x >> 33) % 12);
        for (int k = 0; k < n; ++k) {
          auto slot = table->Acquire();
          if (!slot.ok()) {
            errors.fetch_add(1);
            continue;
          }
          if (holders[slot->index()].fetch_add(1) != 0) errors.fetch_add(1);
          slot->Publish(1 + round);
          held.push_back(std::move(*slot));
        }
        if (table->OldestSnapshot() == kNoSnapshot) errors.fetch_add(1);
        for (auto& s : held) {
          holders[s.index()].fetch_sub(1);
          s.Release();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(first->OldestSnapshot(), kNoSnapshot);
  EXPECT_EQ(AcquireAll(first.get()).size(), kShmSlotCount);
}

TEST_F(ReaderTableTest, KilledReaderNoLongerHoldsTheMinimum) {
  auto table = OpenTable();
  ASSERT_NE(table, nullptr);
  ReaderSlot mine = AcquireOk(table.get());
  mine.Publish(9);

  Child child(ReaderBody(path_, kSalt, 5));
  const std::string hello = child.ReadLine();
  const uint32_t index = static_cast<uint32_t>(std::stoul(hello));
  EXPECT_EQ(hello, std::to_string(index) + " " +
                       std::to_string(static_cast<int>(ReaderTable::OpenKind::kJoined)));
  EXPECT_NE(index, mine.index());
  EXPECT_EQ(table->OldestSnapshot(), 5u);
  EXPECT_EQ(table->Peek(index).owner_pid, static_cast<uint64_t>(child.pid()));
  EXPECT_EQ(LockSeenOn(path_, kShmSlotsOffset + index * kShmSlotSize), F_WRLCK);

  child.Kill();
  // Its slot still says LSN 5, but nobody holds its lock.
  EXPECT_EQ(table->Peek(index).lsn, 5u);
  EXPECT_EQ(table->OldestSnapshot(), 9u);
  EXPECT_EQ(table->Peek(index).lsn, 0u) << "met as the minimum: reclaimed";
  EXPECT_EQ(table->Peek(index).owner_pid, 0u);
  EXPECT_EQ(table->OldestSnapshot(), 9u);
  // Every other slot can be claimed, the dead reader's included.
  std::vector<ReaderSlot> rest = AcquireAll(table.get());
  EXPECT_EQ(rest.size(), kShmSlotCount - 1);
}

TEST_F(ReaderTableTest, KilledReaderAboveTheMinimumIsReclaimedByAcquire) {
  auto table = OpenTable();
  ASSERT_NE(table, nullptr);
  ReaderSlot mine = AcquireOk(table.get());
  mine.Publish(3);
  Child child(ReaderBody(path_, kSalt, 20));
  const uint32_t index = static_cast<uint32_t>(std::stoul(child.ReadLine()));
  EXPECT_EQ(table->OldestSnapshot(), 3u);
  child.Kill();
  EXPECT_EQ(table->OldestSnapshot(), 3u);
  EXPECT_EQ(table->Peek(index).lsn, 20u) << "not the minimum: left as it was";
  mine.Clear();
  EXPECT_EQ(table->OldestSnapshot(), kNoSnapshot) << "the dead slot must not count";

  std::vector<ReaderSlot> rest = AcquireAll(table.get());
  ASSERT_EQ(rest.size(), kShmSlotCount - 1);
  bool got_dead_slot = false;
  for (auto& s : rest) {
    if (s.index() != index) continue;
    got_dead_slot = true;
    EXPECT_EQ(s.published(), 0u);
    EXPECT_EQ(table->Peek(index).owner_pid, static_cast<uint64_t>(getpid()));
  }
  EXPECT_TRUE(got_dead_slot);
}

TEST_F(ReaderTableTest, ReaderInAnotherProcessMovesTheMinimum) {
  auto table = OpenTable();
  ASSERT_NE(table, nullptr);
  Child child(ReaderBody(path_, kSalt, 5));
  ASSERT_FALSE(child.ReadLine().empty());
  EXPECT_EQ(table->OldestSnapshot(), 5u);
  child.Send('p');
  EXPECT_EQ(child.ReadLine(), "ok");
  EXPECT_EQ(table->OldestSnapshot(), 6u);
  child.Send('q');
  EXPECT_EQ(child.Wait(), 0);
  EXPECT_EQ(table->OldestSnapshot(), kNoSnapshot);
}

TEST_F(ReaderTableTest, DamagedFileIsReinitialisedWhenNobodyUsesIt) {
  struct Damage {
    const char* name;
    std::function<void(const std::string&)> apply;
    const char* reason;
  };
  auto flip = [](size_t offset) {
    return [offset](const std::string& p) {
      std::string bytes = test::ReadFileOrDie(p);
      uint8_t b = static_cast<uint8_t>(bytes[offset] ^ 0x40);
      PatchFile(p, offset, &b, 1);
    };
  };
  std::vector<Damage> damages = {
      {"magic", flip(0), "bad magic"},
      {"version", flip(8), "checksum"},
      {"slot count", flip(12), "checksum"},
      {"salt", flip(25), "checksum"},
      {"table id", flip(33), "checksum"},
      {"reserved", flip(44), "checksum"},
      {"checksum", flip(60), "checksum"},
      {"empty", [](const std::string& p) { TruncateFile(p, 0); }, "new file"},
      {"short", [](const std::string& p) { TruncateFile(p, 100); }, "too short"},
      {"one byte short", [](const std::string& p) { TruncateFile(p, 8191); }, "too short"},
      {"removed", [](const std::string& p) { ::unlink(p.c_str()); }, "new file"},
      {"another database",
       [](const std::string& p) { RewriteHeaderField(p, kShmDbSaltOffset, kSalt + 1, 8); },
       "another database"},
      {"another version",
       [](const std::string& p) { RewriteHeaderField(p, kShmVersionOffset, 2, 4); },
       "format version 2"},
      {"another slot count",
       [](const std::string& p) { RewriteHeaderField(p, kShmSlotCountOffset, 254, 4); },
       "slot count"},
      {"reserved set", [](const std::string& p) { RewriteHeaderField(p, 48, 1, 8); },
       "reserved byte 48"},
      {"intact", [](const std::string&) {}, "no other handle had it open"},
  };
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.name);
    uint64_t old_id;
    {
      auto table = OpenTable();
      ASSERT_NE(table, nullptr);
      old_id = table->table_id();
      table->PublishNewestLsn(77);
    }
    d.apply(path_);
    // A stale slot left by a dead process (no lock): must not survive.
    if (FileSize(path_) >= static_cast<off_t>(kShmFileSize)) {
      PatchU64(path_, kShmSlotsOffset + 7 * kShmSlotSize + kShmSlotLsnOffset, 2);
    }
    auto table = OpenTable();
    ASSERT_NE(table, nullptr);
    EXPECT_EQ(table->open_kind(), ReaderTable::OpenKind::kInitialized);
    EXPECT_NE(table->open_reason().find(d.reason), std::string::npos) << table->open_reason();
    EXPECT_NE(table->table_id(), old_id);
    EXPECT_EQ(table->NewestLsn(), 0u);
    EXPECT_EQ(table->OldestSnapshot(), kNoSnapshot);
    EXPECT_EQ(table->Peek(7).lsn, 0u);
    EXPECT_TRUE(table->HeaderUnchanged());
    std::string bytes = test::ReadFileOrDie(path_);
    ASSERT_EQ(bytes.size(), kShmFileSize);
    const uint8_t* h = reinterpret_cast<const uint8_t*>(bytes.data());
    EXPECT_EQ(DecodeFixed64(h + 56), Hash64(h, 56, 0));
    ReaderSlot slot = AcquireOk(table.get());
    slot.Publish(31);
    EXPECT_EQ(table->OldestSnapshot(), 31u);
  }
}

TEST_F(ReaderTableTest, DamagedFileInUseIsRebuiltKeepingLiveSlots) {
  auto before = OpenTable();
  ASSERT_NE(before, nullptr);
  Child child(ReaderBody(path_, kSalt, 7));
  const uint32_t index = static_cast<uint32_t>(std::stoul(child.ReadLine()));
  // A dead process's slot, unlocked: the rebuild clears it.
  const uint32_t stale = index == 100 ? 101 : 100;
  PatchU64(path_, kShmSlotsOffset + stale * kShmSlotSize + kShmSlotLsnOffset, 2);

  {
    uint8_t b = 'X';
    PatchFile(path_, 3, &b, 1);  // magic
    auto table = OpenTable();
    ASSERT_NE(table, nullptr);
    EXPECT_EQ(table->open_kind(), ReaderTable::OpenKind::kRebuilt);
    EXPECT_EQ(table->open_reason(), "bad magic");
    EXPECT_EQ(table->OldestSnapshot(), 7u) << "the live reader's slot is kept";
    EXPECT_EQ(table->Peek(stale).lsn, 0u);
    EXPECT_FALSE(before->HeaderUnchanged());
    EXPECT_TRUE(table->HeaderUnchanged());
  }
  {
    auto other_db = OpenTable(kSalt + 1);
    ASSERT_NE(other_db, nullptr);
    EXPECT_EQ(other_db->open_kind(), ReaderTable::OpenKind::kRebuilt);
    EXPECT_NE(other_db->open_reason().find("another database"), std::string::npos);
    EXPECT_EQ(other_db->OldestSnapshot(), 7u);
  }
  {
    // Truncated under the live reader: its slot bytes are gone, but its lock
    // keeps the slot its own.
    TruncateFile(path_, 100);
    auto table = OpenTable();
    ASSERT_NE(table, nullptr);
    EXPECT_EQ(table->open_kind(), ReaderTable::OpenKind::kRebuilt);
    EXPECT_NE(table->open_reason().find("too short"), std::string::npos);
    EXPECT_EQ(table->OldestSnapshot(), kNoSnapshot);
    child.Send('p');
    EXPECT_EQ(child.ReadLine(), "ok");
    EXPECT_EQ(table->OldestSnapshot(), 8u);
    std::vector<ReaderSlot> all = AcquireAll(table.get());
    EXPECT_EQ(all.size(), kShmSlotCount - 1);
    for (auto& s : all) EXPECT_NE(s.index(), index);
  }
  {
    // A sealed header of another version, in use: refused, left alone.
    RewriteHeaderField(path_, kShmVersionOffset, 2, 4);
    auto table = ReaderTable::Open(path_, kSalt);
    ASSERT_FALSE(table.ok());
    EXPECT_TRUE(table.status().IsNotSupported()) << table.status().ToString();
    EXPECT_NE(table.status().message().find("version 2"), std::string::npos);
    EXPECT_NE(table.status().message().find(path_), std::string::npos);
    EXPECT_EQ(DecodeFixed32(reinterpret_cast<const uint8_t*>(test::ReadFileOrDie(path_).data()) +
                            kShmVersionOffset),
              2u);
  }
  before.reset();
  child.Kill();
  auto table = OpenTable();
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->open_kind(), ReaderTable::OpenKind::kInitialized);
  EXPECT_NE(table->open_reason().find("format version 2"), std::string::npos);
}

TEST_F(ReaderTableTest, RacingOpensOfAFreshFileAgree) {
  constexpr int kRounds = 8;
  constexpr int kProcesses = 4;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(round);
    const std::string path = dir_.File("race" + std::to_string(round) + "-shm");
    int start[2];
    ASSERT_EQ(pipe(start), 0);
    std::vector<std::unique_ptr<Child>> children;
    for (int k = 0; k < kProcesses; ++k) {
      children.push_back(std::make_unique<Child>([&, k](int in, int out) {
        ::close(start[1]);
        char c;
        if (::read(start[0], &c, 1) != 0) return 3;  // EOF: go
        auto table = ReaderTable::Open(path, kSalt);
        if (!table.ok()) {
          WriteLine(out, "error " + table.status().ToString());
          return 1;
        }
        auto slot = (*table)->Acquire();
        if (!slot.ok()) {
          WriteLine(out, "error " + slot.status().ToString());
          return 2;
        }
        slot->Publish(100 + static_cast<uint64_t>(k));
        WriteLine(out, std::to_string(slot->index()) + " " +
                           std::to_string(static_cast<int>((*table)->open_kind())) + " " +
                           std::to_string((*table)->table_id()));
        ReadCommand(in);
        slot->Release();
        return 0;
      }));
    }
    ::close(start[0]);
    ::close(start[1]);  // all children start at once
    std::set<std::string> indices, table_ids;
    int initialised = 0;
    for (auto& child : children) {
      std::string line = child->ReadLine();
      ASSERT_EQ(line.rfind("error", 0), std::string::npos) << line;
      const size_t a = line.find(' ');
      const size_t b = line.find(' ', a + 1);
      ASSERT_NE(b, std::string::npos) << line;
      indices.insert(line.substr(0, a));
      const int kind = std::stoi(line.substr(a + 1, b - a - 1));
      if (kind == static_cast<int>(ReaderTable::OpenKind::kInitialized)) ++initialised;
      EXPECT_TRUE(kind == static_cast<int>(ReaderTable::OpenKind::kInitialized) ||
                  kind == static_cast<int>(ReaderTable::OpenKind::kJoined))
          << line;
      table_ids.insert(line.substr(b + 1));
    }
    EXPECT_EQ(indices.size(), static_cast<size_t>(kProcesses));
    EXPECT_EQ(initialised, 1);
    EXPECT_EQ(table_ids.size(), 1u);

    auto table = ReaderTable::Open(path, kSalt);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    EXPECT_EQ((*table)->open_kind(), ReaderTable::OpenKind::kJoined);
    EXPECT_EQ(std::to_string((*table)->table_id()), *table_ids.begin());
    EXPECT_EQ((*table)->OldestSnapshot(), 100u);
    for (auto& child : children) child->Send('q');
    for (auto& child : children) EXPECT_EQ(child->Wait(), 0);
    EXPECT_EQ((*table)->OldestSnapshot(), kNoSnapshot);
  }
}

// The offsets of docs/format/shm.md, written out here as the doc gives
// them (not through the constants), read back from the file's bytes.
TEST_F(ReaderTableTest, LayoutMatchesTheFormatDoc) {
  auto table = OpenTable();
  ASSERT_NE(table, nullptr);
  ReaderSlot s0 = AcquireOk(table.get());
  ReaderSlot s1 = AcquireOk(table.get());
  ASSERT_EQ(s0.index(), 0u);
  ASSERT_EQ(s1.index(), 1u);
  std::vector<ReaderSlot> rest = AcquireAll(table.get());
  ASSERT_EQ(rest.size(), 124u);
  ReaderSlot& last = rest.back();
  ASSERT_EQ(last.index(), 125u);
  s0.Publish(0x0102030405060708);
  last.Publish(0x1122334455667788);
  table->PublishNewestLsn(0xa1a2a3a4a5a6a7a8);
  table->PublishCheckpointSeq(0xb1b2b3b4b5b6b7b8);

  const std::string file = test::ReadFileOrDie(path_);
  ASSERT_EQ(file.size(), 8192u);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(file.data());
  EXPECT_EQ(file.substr(0, 8), "SOMBRSHM");
  EXPECT_EQ(DecodeFixed32(p + 8), 1u);      // version
  EXPECT_EQ(DecodeFixed32(p + 12), 126u);   // slot count
  EXPECT_EQ(DecodeFixed32(p + 16), 64u);    // slot size
  EXPECT_EQ(DecodeFixed32(p + 20), 8192u);  // file size
  EXPECT_EQ(DecodeFixed64(p + 24), kSalt);
  EXPECT_EQ(DecodeFixed64(p + 32), table->table_id());
  EXPECT_NE(DecodeFixed64(p + 32), 0u);
  for (int i = 40; i < 56; ++i) EXPECT_EQ(p[i], 0) << i;
  EXPECT_EQ(DecodeFixed64(p + 56), Hash64(p, 56, 0));
  EXPECT_EQ(DecodeFixed64(p + 64), 0xa1a2a3a4a5a6a7a8u);
  EXPECT_EQ(DecodeFixed64(p + 72), 0xb1b2b3b4b5b6b7b8u);
  for (int i = 80; i < 128; ++i) EXPECT_EQ(p[i], 0) << i;
  // Slot 0 at 128, slot 1 at 192, slot 125 at 8128: pid, nonce, LSN.
  EXPECT_EQ(DecodeFixed64(p + 128), static_cast<uint64_t>(getpid()));
  EXPECT_EQ(DecodeFixed64(p + 136), table->nonce());
  EXPECT_EQ(DecodeFixed64(p + 144), 0x0102030405060708u);
  EXPECT_EQ(p[144], 0x08) << "little-endian";
  EXPECT_EQ(DecodeFixed64(p + 192), static_cast<uint64_t>(getpid()));
  EXPECT_EQ(DecodeFixed64(p + 208), 0u);
  EXPECT_EQ(DecodeFixed64(p + 8128), static_cast<uint64_t>(getpid()));
  EXPECT_EQ(DecodeFixed64(p + 8144), 0x1122334455667788u);
  for (int slot = 0; slot < 126; ++slot) {
    for (int i = 24; i < 64; ++i) EXPECT_EQ(p[128 + slot * 64 + i], 0) << slot << " " << i;
  }

  // Locks: byte 0 free (init), byte 1 read-locked (in use), each claimed
  // slot's first byte write-locked, a released one free.
  EXPECT_EQ(LockSeenOn(path_, 0), F_UNLCK);
  EXPECT_EQ(LockSeenOn(path_, 1), F_RDLCK);
  EXPECT_EQ(LockSeenOn(path_, 128), F_WRLCK);
  EXPECT_EQ(LockSeenOn(path_, 8128), F_WRLCK);
  EXPECT_EQ(LockSeenOn(path_, 129), F_UNLCK);
  s1.Release();
  EXPECT_EQ(LockSeenOn(path_, 192), F_UNLCK);
  const std::string after = test::ReadFileOrDie(path_);
  for (int i = 192; i < 256; ++i) EXPECT_EQ(after[i], 0) << i;
}

TEST_F(ReaderTableTest, WriterWordsAreSharedAcrossHandlesAndProcesses) {
  auto writer = OpenTable();
  auto reader = OpenTable();
  ASSERT_TRUE(writer && reader);
  EXPECT_EQ(reader->NewestLsn(), 0u);
  EXPECT_EQ(reader->CheckpointSeq(), 0u);
  writer->PublishNewestLsn(42);
  writer->PublishCheckpointSeq(3);
  EXPECT_EQ(reader->NewestLsn(), 42u);
  EXPECT_EQ(reader->CheckpointSeq(), 3u);

  const std::string path = path_;
  Child child([path](int in, int out) {
    auto table = ReaderTable::Open(path, kSalt);
    if (!table.ok()) return 1;
    WriteLine(out, std::to_string((*table)->NewestLsn()) + " " +
                       std::to_string((*table)->CheckpointSeq()));
    ReadCommand(in);
    WriteLine(out, std::to_string((*table)->NewestLsn()) + " " +
                       std::to_string((*table)->CheckpointSeq()));
    return 0;
  });
  EXPECT_EQ(child.ReadLine(), "42 3");
  writer->PublishNewestLsn(43);
  writer->PublishCheckpointSeq(4);
  child.Send('n');
  EXPECT_EQ(child.ReadLine(), "43 4");
  EXPECT_EQ(child.Wait(), 0);
}

TEST_F(ReaderTableTest, BadArgumentsAndPaths) {
  auto zero = ReaderTable::Open(path_, 0);
  EXPECT_TRUE(zero.status().IsInvalidArgument()) << zero.status().ToString();
  EXPECT_EQ(FileSize(path_), -1) << "no file created";

  const std::string missing = dir_.File("no/such/dir/db-shm");
  auto r = ReaderTable::Open(missing, kSalt);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsIOError()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(missing), std::string::npos);
}

}  // namespace
}  // namespace sombra
