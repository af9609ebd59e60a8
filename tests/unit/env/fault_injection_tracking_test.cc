// Tests that FaultInjectionEnv keeps its per-file tracking consistent across
// RemoveFile and RenameFile.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "env/fault_injection_env.h"
#include "env_test_util.h"
#include "testutil/temp_dir.h"

namespace sombra {
namespace {

using CrashMode = FaultInjectionEnv::CrashMode;

class FaultTrackingTest : public ::testing::Test {
 protected:
  // Creates `name` through the env with `synced` durable and `unsynced`
  // appended after the last sync; returns the still-open file.
  std::unique_ptr<File> MakeFile(const std::string& name, const std::string& synced,
                                 const std::string& unsynced) {
    auto file = env_.OpenFile(dir_.File(name), OpenMode::kCreate);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    if (!file.ok()) return nullptr;
    EXPECT_TRUE((*file)->WriteAt(0, synced).ok());
    EXPECT_TRUE((*file)->Sync().ok());
    EXPECT_TRUE((*file)->Append(unsynced).ok());
    return std::move(file).value();
  }

  test::TempDir dir_;
  FaultInjectionEnv env_{Env::Default()};
};

TEST_F(FaultTrackingTest, RenamedFileLosesUnsyncedWritesUnderNewName) {
  const std::string from = dir_.File("tmp");
  const std::string to = dir_.File("final");
  ASSERT_NE(MakeFile("tmp", "synced", "+unsynced"), nullptr);
  ENV_ASSERT_OK(env_.RenameFile(from, to));
  EXPECT_EQ(env_.unsynced_bytes(from), 0u);
  EXPECT_EQ(env_.unsynced_bytes(to), 9u);
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_FALSE(env_.FileExists(from));  // the crash does not resurrect the old name
  EXPECT_EQ(test::ReadFileOrDie(to), "synced");
}

TEST_F(FaultTrackingTest, RenameOntoTrackedFileReplacesItsTracking) {
  const std::string from = dir_.File("new");
  const std::string to = dir_.File("current");
  ASSERT_NE(MakeFile("current", "old durable", "old pending"), nullptr);
  ASSERT_NE(MakeFile("new", "new durable", "!"), nullptr);
  ENV_ASSERT_OK(env_.RenameFile(from, to));
  EXPECT_EQ(env_.unsynced_bytes(to), 1u);
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_EQ(test::ReadFileOrDie(to), "new durable");
}

TEST_F(FaultTrackingTest, RenameToItselfKeepsTracking) {
  const std::string path = dir_.File("f");
  ASSERT_NE(MakeFile("f", "synced", "+unsynced"), nullptr);
  ENV_ASSERT_OK(env_.RenameFile(path, path));  // a no-op for rename(2)
  EXPECT_EQ(env_.unsynced_bytes(path), 9u);
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_EQ(test::ReadFileOrDie(path), "synced");
}

TEST_F(FaultTrackingTest, RemovedFileIsForgotten) {
  const std::string path = dir_.File("f");
  ASSERT_NE(MakeFile("f", "old synced", "old unsynced"), nullptr);
  ENV_ASSERT_OK(env_.RemoveFile(path));
  EXPECT_EQ(env_.unsynced_bytes(path), 0u);
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));  // does not trip over the gone file
  EXPECT_FALSE(env_.FileExists(path));

  // A new file under the same name starts from scratch: its durable content
  // is empty, not the removed file's.
  {
    ENV_ASSERT_OK_AND_ASSIGN(auto f, env_.OpenFile(path, OpenMode::kCreateExclusive));
    ENV_ASSERT_OK(f->Append("new unsynced"));
  }
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_TRUE(env_.FileExists(path));
  EXPECT_EQ(test::ReadFileOrDie(path), "");
}

TEST_F(FaultTrackingTest, FailedRenameChangesNoTracking) {
  const std::string path = dir_.File("f");
  ASSERT_NE(MakeFile("f", "synced", "+u"), nullptr);
  Status s = env_.RenameFile(dir_.File("missing"), path);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(env_.unsynced_bytes(path), 2u);
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_EQ(test::ReadFileOrDie(path), "synced");
}

// A handle opened before a rename keeps writing the same inode; a Sync
// through it makes its data durable under the new name.
TEST_F(FaultTrackingTest, SyncThroughHandleOpenedBeforeRenameIsDurable) {
  const std::string from = dir_.File("tmp");
  const std::string to = dir_.File("final");
  auto f = MakeFile("tmp", "header", "+body");
  ASSERT_NE(f, nullptr);
  ENV_ASSERT_OK(env_.RenameFile(from, to));
  ENV_ASSERT_OK(f->Sync());
  f.reset();
  EXPECT_EQ(env_.unsynced_bytes(to), 0u);
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_EQ(test::ReadFileOrDie(to), "header+body");
}

// An unsynced write through a handle opened before a rename is dropped by a
// crash under the new name (and the crash does not fail on the old name).
TEST_F(FaultTrackingTest, WriteThroughHandleOpenedBeforeRenameIsTracked) {
  const std::string from = dir_.File("tmp");
  const std::string to = dir_.File("final");
  auto f = MakeFile("tmp", "header", "");
  ASSERT_NE(f, nullptr);
  ENV_ASSERT_OK(env_.RenameFile(from, to));
  ENV_ASSERT_OK(f->Append("+unsynced"));
  f.reset();
  EXPECT_EQ(env_.unsynced_bytes(to), 9u);
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_EQ(test::ReadFileOrDie(to), "header");
  EXPECT_FALSE(env_.FileExists(from));
}

}  // namespace
}  // namespace sombra
