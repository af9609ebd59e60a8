// Tests of FaultInjectionEnv's injected failures (FailNext, CrashAfterOps,
// SetActive) and of its counters.
#include <errno.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "env/fault_injection_env.h"
#include "env_test_util.h"
#include "testutil/temp_dir.h"

namespace sombra {
namespace {

using Op = FaultInjectionEnv::Op;
using CrashMode = FaultInjectionEnv::CrashMode;

class FaultOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("f");
    auto file = env_.OpenFile(path_, OpenMode::kCreate);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    file_ = std::move(file).value();
    ENV_ASSERT_OK(file_->WriteAt(0, "0123456789"));
    ENV_ASSERT_OK(file_->Sync());
  }

  // Expects `s` to be an injected IOError carrying `err`.
  static void ExpectFault(const Status& s, int err) {
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_EQ(s.sys_errno(), err) << s.ToString();
    EXPECT_EQ(s.IsNoSpace(), err == ENOSPC) << s.ToString();
  }

  test::TempDir dir_;
  FaultInjectionEnv env_{Env::Default()};
  std::string path_;
  std::unique_ptr<File> file_;
};

TEST_F(FaultOpsTest, FailNextWriteNoSpaceFailsOnlyThatWrite) {
  const uint64_t ops = env_.mutating_ops();
  env_.FailNext(Op::kWrite, ENOSPC);
  ExpectFault(file_->WriteAt(2, "XYZ"), ENOSPC);
  EXPECT_EQ(test::ReadFileOrDie(path_), "0123456789");  // nothing changed on disk
  EXPECT_EQ(env_.unsynced_bytes(path_), 0u);
  EXPECT_EQ(env_.mutating_ops(), ops);

  ENV_ASSERT_OK(file_->WriteAt(2, "XYZ"));
  ENV_ASSERT_OK(file_->Append("!"));
  EXPECT_EQ(test::ReadFileOrDie(path_), "01XYZ56789!");
  EXPECT_EQ(env_.mutating_ops(), ops + 2);
}

TEST_F(FaultOpsTest, FailNextWriteAlsoFailsAppend) {
  env_.FailNext(Op::kWrite, ENOSPC);
  ExpectFault(file_->Append("tail"), ENOSPC);
  EXPECT_EQ(test::ReadFileOrDie(path_), "0123456789");
  ENV_ASSERT_OK(file_->Append("tail"));
  EXPECT_EQ(test::ReadFileOrDie(path_), "0123456789tail");
}

TEST_F(FaultOpsTest, FailNextWithSkipFailsTheThirdWrite) {
  env_.FailNext(Op::kWrite, EIO, 2);
  ENV_ASSERT_OK(file_->WriteAt(0, "a"));
  ENV_ASSERT_OK(file_->Sync());  // other ops do not consume the skip
  ENV_ASSERT_OK(file_->Truncate(10));
  ENV_ASSERT_OK(file_->WriteAt(1, "b"));
  ExpectFault(file_->WriteAt(2, "c"), EIO);
  EXPECT_EQ(test::ReadFileOrDie(path_), "ab23456789");
  ENV_ASSERT_OK(file_->WriteAt(2, "c"));
  ENV_ASSERT_OK(file_->WriteAt(3, "d"));
  EXPECT_EQ(test::ReadFileOrDie(path_), "abcd456789");
}

TEST_F(FaultOpsTest, FailNextSyncLeavesDataUnsynced) {
  ENV_ASSERT_OK(file_->WriteAt(0, "AAAA"));
  env_.FailNext(Op::kSync, EIO);
  ENV_ASSERT_OK(file_->WriteAt(4, "BB"));  // writes are not affected
  const uint64_t syncs = env_.syncs();
  ExpectFault(file_->Sync(), EIO);
  EXPECT_EQ(env_.syncs(), syncs);
  EXPECT_EQ(env_.unsynced_bytes(path_), 6u);
  file_.reset();
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));  // the failed sync made nothing durable
  EXPECT_EQ(test::ReadFileOrDie(path_), "0123456789");

  ENV_ASSERT_OK_AND_ASSIGN(file_, env_.OpenFile(path_, OpenMode::kReadWrite));
  ENV_ASSERT_OK(file_->WriteAt(0, "AAAA"));
  ENV_ASSERT_OK(file_->Sync());
  EXPECT_EQ(env_.syncs(), syncs + 1);
  file_.reset();
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  EXPECT_EQ(test::ReadFileOrDie(path_), "AAAA456789");
}

TEST_F(FaultOpsTest, FailNextTruncateNoSpace) {
  env_.FailNext(Op::kTruncate, ENOSPC);
  ExpectFault(file_->Truncate(8192), ENOSPC);
  ENV_ASSERT_OK_AND_ASSIGN(uint64_t size, file_->Size());
  EXPECT_EQ(size, 10u);
  EXPECT_EQ(test::ReadFileOrDie(path_), "0123456789");
  ENV_ASSERT_OK(file_->Truncate(8192));
  ENV_ASSERT_OK_AND_ASSIGN(size, file_->Size());
  EXPECT_EQ(size, 8192u);
}

TEST_F(FaultOpsTest, CrashAfterOpsAllowsExactlyN) {
  const uint64_t ops = env_.mutating_ops();
  env_.CrashAfterOps(3);
  ENV_ASSERT_OK(file_->WriteAt(0, "A"));
  ENV_ASSERT_OK(file_->Sync());
  ENV_ASSERT_OK(file_->Truncate(8));
  EXPECT_TRUE(env_.active());
  ExpectFault(file_->WriteAt(1, "B"), EIO);
  EXPECT_FALSE(env_.active());
  ExpectFault(file_->Append("C"), EIO);
  ExpectFault(file_->Truncate(2), EIO);
  ExpectFault(file_->Sync(), EIO);
  ExpectFault(env_.SyncDir(dir_.path()), EIO);
  EXPECT_EQ(env_.mutating_ops(), ops + 3);
  EXPECT_EQ(test::ReadFileOrDie(path_), "A1234567");  // later calls changed nothing
  EXPECT_EQ(ReadAll(file_.get()), "A1234567");        // reads still work

  env_.SetActive(true);
  ENV_ASSERT_OK(file_->WriteAt(1, "B"));
  ENV_ASSERT_OK(file_->Sync());
  EXPECT_EQ(test::ReadFileOrDie(path_), "AB234567");
}

TEST_F(FaultOpsTest, CrashAfterZeroOpsFailsTheNextOp) {
  env_.CrashAfterOps(0);
  ExpectFault(file_->WriteAt(0, "X"), EIO);
  EXPECT_EQ(test::ReadFileOrDie(path_), "0123456789");
}

TEST_F(FaultOpsTest, CrashAfterOpsThenCrashKeepsSyncedState) {
  ENV_ASSERT_OK(file_->WriteAt(0, "S"));
  ENV_ASSERT_OK(file_->Sync());
  env_.CrashAfterOps(1);
  ENV_ASSERT_OK(file_->WriteAt(1, "U"));
  ExpectFault(file_->Sync(), EIO);  // the process "dies" before this sync
  file_.reset();
  ENV_ASSERT_OK(env_.Crash(CrashMode::kDropUnsynced));
  env_.SetActive(true);
  EXPECT_EQ(test::ReadFileOrDie(path_), "S123456789");
  ENV_ASSERT_OK_AND_ASSIGN(file_, env_.OpenFile(path_, OpenMode::kReadWrite));
  ENV_ASSERT_OK(file_->WriteAt(1, "V"));
  EXPECT_EQ(ReadAll(file_.get()), "SV23456789");
}

TEST_F(FaultOpsTest, InactiveEnvFailsMutationsUntilReactivated) {
  env_.SetActive(false);
  EXPECT_FALSE(env_.active());
  ExpectFault(file_->WriteAt(0, "X"), EIO);
  ExpectFault(file_->Truncate(0), EIO);
  ExpectFault(file_->Sync(), EIO);
  EXPECT_EQ(test::ReadFileOrDie(path_), "0123456789");
  env_.SetActive(true);
  ENV_ASSERT_OK(file_->WriteAt(0, "X"));
  EXPECT_EQ(test::ReadFileOrDie(path_), "X123456789");
}

TEST_F(FaultOpsTest, CountersTrackOps) {
  FaultInjectionEnv env(Env::Default());
  const std::string a = dir_.File("a");
  const std::string b = dir_.File("b");
  EXPECT_EQ(env.mutating_ops(), 0u);
  EXPECT_EQ(env.syncs(), 0u);
  EXPECT_EQ(env.unsynced_bytes(a), 0u);  // not tracked yet
  ENV_ASSERT_OK_AND_ASSIGN(auto fa, env.OpenFile(a, OpenMode::kCreate));
  ENV_ASSERT_OK_AND_ASSIGN(auto fb, env.OpenFile(b, OpenMode::kCreate));
  EXPECT_EQ(env.mutating_ops(), 0u);  // opening mutates nothing

  ENV_ASSERT_OK(fa->WriteAt(0, std::string(100, 'a')));
  ENV_ASSERT_OK(fa->Append(std::string(50, 'a')));
  ENV_ASSERT_OK(fb->WriteAt(0, std::string(10, 'b')));
  EXPECT_EQ(env.mutating_ops(), 3u);
  EXPECT_EQ(env.unsynced_bytes(a), 150u);
  EXPECT_EQ(env.unsynced_bytes(b), 10u);

  ENV_ASSERT_OK(fa->Sync());
  EXPECT_EQ(env.syncs(), 1u);
  EXPECT_EQ(env.unsynced_bytes(a), 0u);
  EXPECT_EQ(env.unsynced_bytes(b), 10u);  // a sync of one file leaves the other
  ENV_ASSERT_OK(fa->Truncate(20));
  ENV_ASSERT_OK(env.SyncDir(dir_.path()));
  EXPECT_EQ(env.mutating_ops(), 6u);
  EXPECT_EQ(env.syncs(), 2u);

  env.FailNext(Op::kWrite, EIO);
  EXPECT_FALSE(fa->WriteAt(0, "x").ok());
  EXPECT_EQ(env.mutating_ops(), 6u);  // failed calls are not counted
  EXPECT_EQ(env.unsynced_bytes(a), 0u);

  env.MarkAllSynced();
  EXPECT_EQ(env.unsynced_bytes(b), 0u);
  EXPECT_EQ(env.syncs(), 2u);
}

}  // namespace
}  // namespace sombra
