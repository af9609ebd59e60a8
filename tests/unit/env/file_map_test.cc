// Tests of FileMap: a read-only map of a growing file whose old regions stay
// valid for the readers that hold them.
#include "env/file_map.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "env_test_util.h"
#include "testutil/temp_dir.h"

namespace sombra {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;

// The byte at `offset` of the test file: a function of the offset only, so
// any region of any size can be checked.
char ByteAt(uint64_t offset) { return static_cast<char>((offset * 2654435761u) >> 13); }

std::string Bytes(uint64_t begin, uint64_t end) {
  std::string out(end - begin, '\0');
  for (uint64_t i = begin; i < end; ++i) out[i - begin] = ByteAt(i);
  return out;
}

// True when `region` holds ByteAt(i) for every i < region->size().
bool HoldsExpectedBytes(const MappedRegion& region) {
  std::string expected = Bytes(0, region.size());
  return std::memcmp(region.data(), expected.data(), expected.size()) == 0;
}

class FileMapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("db");
    auto file = env_->OpenFile(path_, OpenMode::kCreate);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    file_ = std::move(file).value();
  }

  // Extends the file to `size` with Truncate, then fills the new bytes.
  void Extend(uint64_t old_size, uint64_t size) {
    ENV_ASSERT_OK(file_->Truncate(size));
    ENV_ASSERT_OK(file_->WriteAt(old_size, Bytes(old_size, size)));
  }

  Env* const env_ = Env::Default();
  test::TempDir dir_;
  std::string path_;
  std::unique_ptr<File> file_;
};

TEST_F(FileMapTest, OpenMapsPrefix) {
  ASSERT_NO_FATAL_FAILURE(Extend(0, 8 * kKiB));
  ENV_ASSERT_OK_AND_ASSIGN(auto map, FileMap::Open(env_, path_, 4 * kKiB));
  EXPECT_EQ(map->size(), 4 * kKiB);
  auto region = map->current();
  ASSERT_EQ(region->size(), 4 * kKiB);
  EXPECT_TRUE(HoldsExpectedBytes(*region));

  auto too_big = FileMap::Open(env_, path_, 8 * kKiB + 1);
  EXPECT_TRUE(too_big.status().IsInvalidArgument()) << too_big.status().ToString();
}

TEST_F(FileMapTest, HeldRegionsSurviveGrowth) {
  ASSERT_NO_FATAL_FAILURE(Extend(0, 4 * kKiB));
  ENV_ASSERT_OK_AND_ASSIGN(auto map, FileMap::Open(env_, path_, 4 * kKiB));
  std::vector<std::shared_ptr<const MappedRegion>> readers = {map->current()};

  uint64_t size = 4 * kKiB;
  for (uint64_t new_size : {8 * kKiB, 64 * kKiB, 1 * kMiB, 3 * kMiB + 4 * kKiB, 8 * kMiB}) {
    SCOPED_TRACE(new_size);
    ASSERT_NO_FATAL_FAILURE(Extend(size, new_size));
    ENV_ASSERT_OK(map->Grow(new_size));
    EXPECT_EQ(map->size(), new_size);
    auto region = map->current();
    ASSERT_EQ(region->size(), new_size);
    // The new region sees the bytes just written with pwrite.
    EXPECT_TRUE(HoldsExpectedBytes(*region));
    EXPECT_EQ(region->data()[new_size - 1], static_cast<uint8_t>(ByteAt(new_size - 1)));
    readers.push_back(region);
    size = new_size;
    // Every region still held keeps its size and its bytes.
    for (const auto& held : readers) EXPECT_TRUE(HoldsExpectedBytes(*held)) << held->size();
  }
  EXPECT_EQ(readers.front()->size(), 4 * kKiB);

  // Regions outlive the map itself.
  map.reset();
  for (const auto& held : readers) EXPECT_TRUE(HoldsExpectedBytes(*held)) << held->size();
}

TEST_F(FileMapTest, RegionSeesLaterWritesToMappedBytes) {
  ASSERT_NO_FATAL_FAILURE(Extend(0, 8 * kKiB));
  ENV_ASSERT_OK_AND_ASSIGN(auto map, FileMap::Open(env_, path_, 8 * kKiB));
  auto region = map->current();
  ENV_ASSERT_OK(file_->WriteAt(5000, "fresh"));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(region->data()) + 5000, 5), "fresh");
}

TEST_F(FileMapTest, GrowSmallerIsInvalidArgument) {
  ASSERT_NO_FATAL_FAILURE(Extend(0, 8 * kKiB));
  ENV_ASSERT_OK_AND_ASSIGN(auto map, FileMap::Open(env_, path_, 8 * kKiB));
  auto before = map->current();
  Status s = map->Grow(4 * kKiB);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(map->size(), 8 * kKiB);
  EXPECT_EQ(map->current(), before);
  // Growing to the same size keeps the same region.
  ENV_ASSERT_OK(map->Grow(8 * kKiB));
  EXPECT_EQ(map->current(), before);
}

TEST_F(FileMapTest, GrowBeyondFileFailsAndKeepsRegion) {
  ASSERT_NO_FATAL_FAILURE(Extend(0, 8 * kKiB));
  ENV_ASSERT_OK_AND_ASSIGN(auto map, FileMap::Open(env_, path_, 4 * kKiB));
  auto before = map->current();
  Status s = map->Grow(8 * kKiB + 1);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(map->size(), 4 * kKiB);
  EXPECT_EQ(map->current(), before);
  EXPECT_TRUE(HoldsExpectedBytes(*map->current()));
}

TEST_F(FileMapTest, ConcurrentReadersWhileGrowing) {
  ASSERT_NO_FATAL_FAILURE(Extend(0, 4 * kKiB));
  ENV_ASSERT_OK_AND_ASSIGN(auto map, FileMap::Open(env_, path_, 4 * kKiB));
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        auto region = map->current();
        uint64_t last = region->size() - 1;
        if (region->data()[last] != static_cast<uint8_t>(ByteAt(last)) ||
            region->data()[0] != static_cast<uint8_t>(ByteAt(0))) {
          bad.fetch_add(1);
        }
      }
    });
  }
  uint64_t size = 4 * kKiB;
  for (int i = 0; i < 64; ++i) {
    uint64_t new_size = size + 16 * kKiB;
    Extend(size, new_size);
    Status s = map->Grow(new_size);
    EXPECT_TRUE(s.ok()) << s.ToString();
    size = new_size;
  }
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(map->size(), size);
  EXPECT_TRUE(HoldsExpectedBytes(*map->current()));
}

}  // namespace
}  // namespace sombra
