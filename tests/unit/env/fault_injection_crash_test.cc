// Tests of FaultInjectionEnv::Crash: dropping unsynced data, torn sectors,
// and tracking across RemoveFile and RenameFile.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>

#include "env/fault_injection_env.h"
#include "env_test_util.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"

namespace sombra {
namespace {

using CrashMode = FaultInjectionEnv::CrashMode;
constexpr uint64_t kSector = FaultInjectionEnv::kSectorSize;

class FaultCrashTest : public ::testing::Test {
 protected:
  std::unique_ptr<File> Open(Env* env, const std::string& name, OpenMode mode = OpenMode::kCreate) {
    auto file = env->OpenFile(dir_.File(name), mode);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    return file.ok() ? std::move(file).value() : nullptr;
  }

  test::TempDir dir_;
  FaultInjectionEnv env_{Env::Default()};
};

TEST_F(FaultCrashTest, DropUnsyncedRestoresLastSync) {
  const std::string path = dir_.File("f");
  const std::string synced = Pattern(1000, 1);
  auto f = Open(&env_, "f");
  ASSERT_NE(f, nullptr);
  ENV_ASSERT_OK(f->WriteAt(0, synced));
  ENV_ASSERT_OK(f->Sync());
  ENV_ASSERT_OK(f->WriteAt(100, std::string(100, 'B')));  // overwrites synced bytes
  ENV_ASSERT_OK(f->Append(std::string(300, 'C')));        // extends
  EXPECT_EQ(env_.unsynced_bytes(path), 400u);
  f.reset();
  ASSERT_EQ(test::ReadFileOrDie(path).size(), 1300u);  // the writes did reach the file

  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_EQ(test::ReadFileOrDie(path), synced);
  EXPECT_EQ(env_.unsynced_bytes(path), 0u);
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));  // nothing left to drop
  EXPECT_EQ(test::ReadFileOrDie(path), synced);
}

TEST_F(FaultCrashTest, DropUnsyncedKeepsLatestOfSeveralSyncs) {
  const std::string path = dir_.File("f");
  auto f = Open(&env_, "f");
  ASSERT_NE(f, nullptr);
  ENV_ASSERT_OK(f->WriteAt(0, "version-1"));
  ENV_ASSERT_OK(f->Sync());
  ENV_ASSERT_OK(f->WriteAt(8, "2-longer"));
  ENV_ASSERT_OK(f->Sync());
  ENV_ASSERT_OK(f->WriteAt(0, "VERSION-3, unsynced"));
  f.reset();
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_EQ(test::ReadFileOrDie(path), "version-2-longer");
}

TEST_F(FaultCrashTest, DropUnsyncedUndoesTruncates) {
  const std::string path = dir_.File("f");
  const std::string synced = Pattern(1000, 2);
  auto f = Open(&env_, "f");
  ASSERT_NE(f, nullptr);
  ENV_ASSERT_OK(f->WriteAt(0, synced));
  ENV_ASSERT_OK(f->Sync());

  ENV_ASSERT_OK(f->Truncate(10));  // unsynced shrink
  f.reset();
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_EQ(test::ReadFileOrDie(path), synced);

  f = Open(&env_, "f", OpenMode::kReadWrite);
  ASSERT_NE(f, nullptr);
  ENV_ASSERT_OK(f->Truncate(5000));  // unsynced extension
  ENV_ASSERT_OK(f->WriteAt(4000, "x"));
  f.reset();
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_EQ(test::ReadFileOrDie(path), synced);

  // A synced truncate is durable; only the later one is undone.
  f = Open(&env_, "f", OpenMode::kReadWrite);
  ASSERT_NE(f, nullptr);
  ENV_ASSERT_OK(f->Truncate(10));
  ENV_ASSERT_OK(f->Append("tail"));
  ENV_ASSERT_OK(f->Sync());
  ENV_ASSERT_OK(f->Truncate(3));
  f.reset();
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_EQ(test::ReadFileOrDie(path), synced.substr(0, 10) + "tail");
}

TEST_F(FaultCrashTest, DropUnsyncedUsesContentFirstSeenAsDurable) {
  test::WriteFileOrDie(dir_.File("old"), "pre-existing");
  test::WriteFileOrDie(dir_.File("untouched"), "leave me");
  auto old_file = Open(&env_, "old", OpenMode::kReadWrite);
  auto untouched = Open(&env_, "untouched", OpenMode::kReadOnly);
  auto fresh = Open(&env_, "fresh", OpenMode::kCreateExclusive);
  ASSERT_TRUE(old_file && untouched && fresh);
  ENV_ASSERT_OK(old_file->WriteAt(0, "OVERWRITTEN AND LONGER"));
  ENV_ASSERT_OK(fresh->Append("never synced"));
  old_file.reset();
  untouched.reset();
  fresh.reset();
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_EQ(test::ReadFileOrDie(dir_.File("old")), "pre-existing");
  EXPECT_EQ(test::ReadFileOrDie(dir_.File("untouched")), "leave me");
  EXPECT_TRUE(env_.FileExists(dir_.File("fresh")));  // creation is durable
  EXPECT_EQ(test::ReadFileOrDie(dir_.File("fresh")), "");
}

TEST_F(FaultCrashTest, MarkAllSyncedMakesEverythingDurable) {
  auto f = Open(&env_, "f");
  ASSERT_NE(f, nullptr);
  ENV_ASSERT_OK(f->Append("unsynced"));
  env_.MarkAllSynced();
  EXPECT_EQ(env_.unsynced_bytes(dir_.File("f")), 0u);
  f.reset();
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_EQ(test::ReadFileOrDie(dir_.File("f")), "unsynced");
}

// Result of one torn crash of a 64 KiB unsynced write into synced data.
struct TornOutcome {
  int kept = 0;
  int dropped = 0;
  int garbled = 0;
  std::string content;
};

// `data_seed` picks the old and new bytes, `env_seed` seeds the env.
TornOutcome TornCrash(const std::string& path, uint64_t data_seed, uint64_t env_seed) {
  constexpr uint64_t kFileSize = 128 * 1024;
  constexpr uint64_t kOffset = 16 * 1024 + 100;  // not sector aligned
  constexpr uint64_t kSize = 64 * 1024;
  std::mt19937_64 rng(data_seed);
  std::string old_content = RandomBytes(&rng, kFileSize);
  std::string data(kSize, '\0');
  for (uint64_t i = 0; i < kSize; ++i) {  // differs from the old byte everywhere
    data[i] = static_cast<char>(old_content[kOffset + i] ^ static_cast<char>(1 + rng() % 255));
  }
  TornOutcome out;
  FaultInjectionEnv env(Env::Default(), env_seed);
  {
    auto f = env.OpenFile(path, OpenMode::kCreate);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    if (!f.ok()) return out;
    EXPECT_TRUE((*f)->WriteAt(0, old_content).ok());
    EXPECT_TRUE((*f)->Sync().ok());
    EXPECT_TRUE((*f)->WriteAt(kOffset, data).ok());
  }
  Status s = env.Crash(CrashMode::kTornSectors);
  EXPECT_TRUE(s.ok()) << s.ToString();
  out.content = test::ReadFileOrDie(path);
  EXPECT_EQ(out.content.size(), kFileSize);
  if (out.content.size() != kFileSize) return out;
  // Synced bytes outside the unsynced write are untouched.
  EXPECT_EQ(out.content.substr(0, kOffset), old_content.substr(0, kOffset));
  EXPECT_EQ(out.content.substr(kOffset + kSize), old_content.substr(kOffset + kSize));
  for (uint64_t pos = kOffset; pos < kOffset + kSize;) {
    uint64_t end = std::min(kOffset + kSize, (pos / kSector + 1) * kSector);
    std::string got = out.content.substr(pos, end - pos);
    if (got == data.substr(pos - kOffset, end - pos)) {
      ++out.kept;
    } else if (got == old_content.substr(pos, end - pos)) {
      ++out.dropped;
    } else {
      ++out.garbled;
    }
    pos = end;
  }
  EXPECT_EQ(out.kept + out.dropped + out.garbled, 129);
  return out;
}

TEST_F(FaultCrashTest, TornSectorsKeepsDropsOrGarblesWholeSectors) {
  const uint64_t seed = test::TestSeed();
  TornOutcome total;
  for (uint64_t round = 0; round < 4; ++round) {
    SCOPED_TRACE(seed + round);
    const uint64_t round_seed = seed + round;
    TornOutcome r = TornCrash(dir_.File("torn" + std::to_string(round)), round_seed, round_seed);
    total.kept += r.kept;
    total.dropped += r.dropped;
    total.garbled += r.garbled;
  }
  EXPECT_GT(total.kept, 0);
  EXPECT_GT(total.dropped, 0);
  EXPECT_GT(total.garbled, 0);
}

TEST_F(FaultCrashTest, TornSectorsReplaysFromSeed) {
  const uint64_t seed = test::TestSeed();
  TornOutcome a = TornCrash(dir_.File("a"), seed, seed);
  TornOutcome b = TornCrash(dir_.File("b"), seed, seed);
  TornOutcome c = TornCrash(dir_.File("c"), seed, seed + 1);
  EXPECT_TRUE(a.content == b.content) << "same seed, different torn outcome";
  EXPECT_EQ(a.kept, b.kept);
  EXPECT_EQ(a.dropped, b.dropped);
  EXPECT_FALSE(a.content == c.content) << "different seeds, same torn outcome";
}

TEST_F(FaultCrashTest, TornSectorsOfAnExtendingWrite) {
  const uint64_t seed = test::TestSeed();
  const std::string durable = Pattern(1000, 3);
  const std::string data(8 * kSector, 'N');
  const uint64_t end = durable.size() + data.size();
  for (uint64_t round = 0; round < 8; ++round) {
    SCOPED_TRACE(seed + round);
    const std::string name = "ext" + std::to_string(round);
    FaultInjectionEnv env(Env::Default(), seed + round);
    {
      auto f = Open(&env, name);
      ASSERT_NE(f, nullptr);
      ENV_ASSERT_OK(f->WriteAt(0, durable));
      ENV_ASSERT_OK(f->Sync());
      ENV_ASSERT_OK(f->WriteAt(durable.size(), data));
    }
    ENV_ASSERT_OK(env.Crash(CrashMode::kTornSectors));
    const std::string got = test::ReadFileOrDie(dir_.File(name));
    ASSERT_GE(got.size(), durable.size());
    EXPECT_EQ(got.substr(0, durable.size()), durable);
    // The file ends where the durable content or a surviving sector ends.
    const uint64_t size = got.size();
    EXPECT_TRUE(size == durable.size() || size == end || (size % kSector == 0 && size < end))
        << size;
    if (size > durable.size()) {
      uint64_t last_begin = std::max<uint64_t>(durable.size(), (size - 1) / kSector * kSector);
      EXPECT_NE(got.substr(last_begin), std::string(size - last_begin, '\0'))
          << "the last sector of the file was dropped, yet the file reaches it";
    }
  }
}

}  // namespace
}  // namespace sombra
