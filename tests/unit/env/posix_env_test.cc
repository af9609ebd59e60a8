// Tests of the POSIX Env: files, directory operations, DirName, MapReadOnly.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "env/env.h"
#include "env_test_util.h"
#include "testutil/temp_dir.h"

namespace sombra {
namespace {

class PosixEnvTest : public ::testing::Test {
 protected:
  std::unique_ptr<File> Create(const std::string& name, const std::string& content) {
    auto file = env_->OpenFile(dir_.File(name), OpenMode::kCreate);
    EXPECT_TRUE(file.ok()) << file.status().ToString();
    if (!file.ok()) return nullptr;
    EXPECT_TRUE((*file)->WriteAt(0, content).ok());
    return std::move(file).value();
  }

  Env* const env_ = Env::Default();
  test::TempDir dir_;
};

TEST_F(PosixEnvTest, CreateAndExclusiveCreate) {
  const std::string path = dir_.File("f");
  EXPECT_FALSE(env_->FileExists(path));
  ENV_ASSERT_OK_AND_ASSIGN(auto file, env_->OpenFile(path, OpenMode::kCreateExclusive));
  EXPECT_EQ(file->path(), path);
  EXPECT_TRUE(env_->FileExists(path));
  ENV_ASSERT_OK_AND_ASSIGN(uint64_t size, file->Size());
  EXPECT_EQ(size, 0u);
  ENV_ASSERT_OK(file->WriteAt(0, "abc"));

  auto again = env_->OpenFile(path, OpenMode::kCreateExclusive);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.status().IsInvalidArgument()) << again.status().ToString();
  EXPECT_NE(again.status().message().find(path), std::string::npos);

  // kCreate on an existing file opens it without truncating.
  ENV_ASSERT_OK_AND_ASSIGN(auto reopened, env_->OpenFile(path, OpenMode::kCreate));
  EXPECT_EQ(ReadAll(reopened.get()), "abc");
}

TEST_F(PosixEnvTest, OpenMissingIsNotFound) {
  const std::string path = dir_.File("missing");
  for (OpenMode mode : {OpenMode::kReadOnly, OpenMode::kReadWrite}) {
    auto file = env_->OpenFile(path, mode);
    ASSERT_FALSE(file.ok());
    EXPECT_TRUE(file.status().IsNotFound()) << file.status().ToString();
  }
  EXPECT_FALSE(env_->FileExists(path));
}

TEST_F(PosixEnvTest, OpenDirectoryReadOnlyIsInvalidArgument) {
  auto file = env_->OpenFile(dir_.path(), OpenMode::kReadOnly);
  ASSERT_FALSE(file.ok());
  EXPECT_TRUE(file.status().IsInvalidArgument()) << file.status().ToString();
}

TEST_F(PosixEnvTest, OpenDirectoryWritableIsInvalidArgument) {
  for (OpenMode mode : {OpenMode::kReadWrite, OpenMode::kCreate}) {
    SCOPED_TRACE(static_cast<int>(mode));
    auto file = env_->OpenFile(dir_.path(), mode);
    ASSERT_FALSE(file.ok());
    EXPECT_TRUE(file.status().IsInvalidArgument()) << file.status().ToString();
  }
}

TEST_F(PosixEnvTest, WriteAtReadAtRoundTrip) {
  auto file = Create("f", "hello");
  ASSERT_NE(file, nullptr);
  ENV_ASSERT_OK(file->WriteAt(10, "world"));  // leaves a hole of zeros
  ENV_ASSERT_OK(file->WriteAt(1, "EL"));      // overwrites in place
  char buf[15];
  size_t got = 0;
  ENV_ASSERT_OK(file->ReadAt(0, sizeof(buf), buf, &got));
  ASSERT_EQ(got, sizeof(buf));
  EXPECT_EQ(std::string(buf, got), std::string("hELlo\0\0\0\0\0world", 15));
  ENV_ASSERT_OK(file->ReadAt(11, 3, buf, &got));
  EXPECT_EQ(std::string(buf, got), "orl");
}

TEST_F(PosixEnvTest, ReadPastEndIsShort) {
  auto file = Create("f", "0123456789");
  ASSERT_NE(file, nullptr);
  char buf[16];
  size_t got = 99;
  ENV_ASSERT_OK(file->ReadAt(6, 10, buf, &got));
  EXPECT_EQ(got, 4u);
  EXPECT_EQ(std::string(buf, got), "6789");
  ENV_ASSERT_OK(file->ReadAt(10, 5, buf, &got));
  EXPECT_EQ(got, 0u);
  ENV_ASSERT_OK(file->ReadAt(1000, 5, buf, &got));
  EXPECT_EQ(got, 0u);
}

TEST_F(PosixEnvTest, ReadExactlyShortReadIsIOError) {
  auto file = Create("f", "0123456789");
  ASSERT_NE(file, nullptr);
  char buf[16];
  ENV_ASSERT_OK(file->ReadExactly(2, 8, buf));
  EXPECT_EQ(std::string(buf, 8), "23456789");
  Status s = file->ReadExactly(6, 10, buf);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find(dir_.File("f")), std::string::npos) << s.ToString();
}

TEST_F(PosixEnvTest, AppendWritesAtEnd) {
  auto file = Create("f", "");
  ASSERT_NE(file, nullptr);
  ENV_ASSERT_OK(file->Append("ab"));
  ENV_ASSERT_OK(file->Append("cd"));
  EXPECT_EQ(ReadAll(file.get()), "abcd");
  ENV_ASSERT_OK(file->WriteAt(8, "x"));
  ENV_ASSERT_OK(file->Append("yz"));
  EXPECT_EQ(ReadAll(file.get()), std::string("abcd\0\0\0\0xyz", 11));
}

TEST_F(PosixEnvTest, TruncateShrinksAndGrowsWithZeros) {
  auto file = Create("f", "abcdef");
  ASSERT_NE(file, nullptr);
  ENV_ASSERT_OK(file->Truncate(4));
  ENV_ASSERT_OK_AND_ASSIGN(uint64_t size, file->Size());
  EXPECT_EQ(size, 4u);
  EXPECT_EQ(ReadAll(file.get()), "abcd");
  ENV_ASSERT_OK(file->Truncate(4096));
  ENV_ASSERT_OK_AND_ASSIGN(size, file->Size());
  EXPECT_EQ(size, 4096u);
  EXPECT_EQ(ReadAll(file.get()), "abcd" + std::string(4092, '\0'));
  ENV_ASSERT_OK_AND_ASSIGN(uint64_t on_disk, env_->GetFileSize(dir_.File("f")));
  EXPECT_EQ(on_disk, 4096u);
  ENV_ASSERT_OK(file->Sync());
}

TEST_F(PosixEnvTest, ReadOnlyFileRejectsMutationsWithIOError) {
  test::WriteFileOrDie(dir_.File("f"), "content");
  ENV_ASSERT_OK_AND_ASSIGN(auto file, env_->OpenFile(dir_.File("f"), OpenMode::kReadOnly));
  EXPECT_EQ(ReadAll(file.get()), "content");
  Status s = file->WriteAt(0, "X");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  s = file->Append("X");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  s = file->Truncate(1);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  s = file->Sync();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ(test::ReadFileOrDie(dir_.File("f")), "content");
}

TEST_F(PosixEnvTest, DirectoryOperations) {
  const std::string a = dir_.File("a");
  const std::string b = dir_.File("b");
  test::WriteFileOrDie(a, "aaaa");
  test::WriteFileOrDie(b, "bb");
  EXPECT_TRUE(env_->FileExists(a));
  EXPECT_TRUE(env_->IsDirectory(dir_.path()));
  EXPECT_FALSE(env_->IsDirectory(a));
  EXPECT_FALSE(env_->IsDirectory(dir_.File("nope")));
  ENV_ASSERT_OK_AND_ASSIGN(uint64_t size, env_->GetFileSize(a));
  EXPECT_EQ(size, 4u);
  auto missing_size = env_->GetFileSize(dir_.File("nope"));
  EXPECT_TRUE(missing_size.status().IsNotFound()) << missing_size.status().ToString();

  // Rename replaces an existing target.
  ENV_ASSERT_OK(env_->RenameFile(a, b));
  EXPECT_FALSE(env_->FileExists(a));
  EXPECT_EQ(test::ReadFileOrDie(b), "aaaa");
  Status s = env_->RenameFile(a, dir_.File("c"));
  EXPECT_TRUE(s.IsIOError()) << s.ToString();

  ENV_ASSERT_OK(env_->RemoveFile(b));
  EXPECT_FALSE(env_->FileExists(b));
  s = env_->RemoveFile(b);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
}

TEST_F(PosixEnvTest, SyncDir) {
  test::WriteFileOrDie(dir_.File("f"), "x");
  ENV_EXPECT_OK(env_->SyncDir(dir_.path()));
  Status s = env_->SyncDir(dir_.File("missing"));
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
}

TEST(DirNameTest, Cases) {
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("/tmp/db"), "/tmp");
  EXPECT_EQ(DirName("/db"), "/");
  EXPECT_EQ(DirName("db"), ".");
  EXPECT_EQ(DirName(""), ".");
}

TEST_F(PosixEnvTest, MapReadOnlyMapsContent) {
  const std::string content = Pattern(10000, 1);
  test::WriteFileOrDie(dir_.File("f"), content);
  ENV_ASSERT_OK_AND_ASSIGN(auto whole, env_->MapReadOnly(dir_.File("f"), content.size()));
  ASSERT_EQ(whole->size(), content.size());
  EXPECT_EQ(std::memcmp(whole->data(), content.data(), content.size()), 0);
  ENV_ASSERT_OK_AND_ASSIGN(auto prefix, env_->MapReadOnly(dir_.File("f"), 100));
  ASSERT_EQ(prefix->size(), 100u);
  EXPECT_EQ(std::memcmp(prefix->data(), content.data(), 100), 0);
  // The view outlives the file's name.
  ENV_ASSERT_OK(env_->RemoveFile(dir_.File("f")));
  EXPECT_EQ(std::memcmp(whole->data(), content.data(), content.size()), 0);
}

TEST_F(PosixEnvTest, MapReadOnlyLargerThanFileIsInvalidArgument) {
  test::WriteFileOrDie(dir_.File("f"), std::string(100, 'x'));
  auto region = env_->MapReadOnly(dir_.File("f"), 101);
  ASSERT_FALSE(region.ok());
  EXPECT_TRUE(region.status().IsInvalidArgument()) << region.status().ToString();
  auto missing = env_->MapReadOnly(dir_.File("missing"), 1);
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
}

TEST_F(PosixEnvTest, MapReadOnlySizeZeroIsEmpty) {
  test::WriteFileOrDie(dir_.File("empty"), "");
  test::WriteFileOrDie(dir_.File("full"), "abc");
  for (const char* name : {"empty", "full"}) {
    ENV_ASSERT_OK_AND_ASSIGN(auto region, env_->MapReadOnly(dir_.File(name), 0));
    EXPECT_EQ(region->size(), 0u) << name;
  }
}

}  // namespace
}  // namespace sombra
