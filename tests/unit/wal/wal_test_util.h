// Helpers shared by the WAL tests (tests/unit/wal only).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "env/env.h"
#include "env/env_wrapper.h"
#include "testutil/patch_file.h"
#include "testutil/seed.h"
#include "testutil/temp_dir.h"
#include "util/coding.h"
#include "wal/wal_batch.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"

// Asserts that `expr` (a Status or a Result<T>) is OK, printing the status.
#define WAL_ASSERT_OK(expr)                                                                \
  do {                                                                                     \
    const auto& wal_assert_ok_ = (expr);                                                   \
    const ::sombra::Status& wal_assert_st_ = ::sombra::internal::StatusOf(wal_assert_ok_); \
    ASSERT_TRUE(wal_assert_st_.ok()) << wal_assert_st_.ToString();                         \
  } while (0)

// `lhs` = value of the Result<T> `expr`; fails the test (and returns) if not OK.
#define WAL_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  WAL_ASSERT_OK_AND_ASSIGN_IMPL_(SOMBRA_CONCAT_(wal_aoa_, __LINE__), lhs, expr)
#define WAL_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();    \
  lhs = std::move(tmp).value()

namespace sombra::wal::test {

constexpr uint32_t kPageSize = 4096;
constexpr uint64_t kDbSalt = 0x5EED5A17DB000001ull;

// A page that lz4 compresses well (`compressible`) or not at all.
inline std::string TestPage(uint32_t tag, bool compressible, uint32_t page_size = kPageSize) {
  std::string page(page_size, '\0');
  if (compressible) {
    for (size_t i = 0; i < page.size(); ++i) page[i] = static_cast<char>((i / 64 + tag) & 0x7F);
  } else {
    std::mt19937_64 rng(tag * 7919 + 1);
    for (char& c : page) c = static_cast<char>(rng());
  }
  return page;
}

inline const uint8_t* U8(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

inline std::string HeaderBytes(const WalHeader& h) {
  std::string out(kWalHeaderSize, '\0');
  EncodeWalHeader(h, reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

inline WalHeader TestHeader(uint64_t salt, uint64_t start_lsn = 1, uint64_t generation = 1) {
  WalHeader h;
  h.page_size = kPageSize;
  h.salt = salt;
  h.generation = generation;
  h.db_salt = kDbSalt;
  h.start_lsn = start_lsn;
  return h;
}

// Adds one transaction of LSN `lsn` to *b: `images` page images (half
// compressible), `deltas` deltas of 1-3 ranges, then its commit.
inline void AddTxn(BatchBuilder* b, uint64_t lsn, int images, int deltas, uint64_t durable_lsn,
                   std::mt19937_64* rng) {
  for (int i = 0; i < images; ++i) {
    const std::string page = TestPage(static_cast<uint32_t>((*rng)()), i % 2 == 0);
    ASSERT_TRUE(b->AddPageImage(10 + i, lsn, U8(page)).ok());
  }
  for (int i = 0; i < deltas; ++i) {
    std::string bytes(300, '\0');
    for (char& c : bytes) c = static_cast<char>((*rng)());
    std::vector<DeltaRange> ranges;
    const int n = 1 + static_cast<int>((*rng)() % 3);
    for (int r = 0; r < n; ++r) {
      ranges.push_back(DeltaRange{static_cast<uint32_t>(r * 1000 + (*rng)() % 500),
                                  std::string_view(bytes).substr(r * 100, 1 + (*rng)() % 99)});
    }
    ASSERT_TRUE(b->AddPageDelta(20 + i, lsn - 1, lsn, ranges).ok());
  }
  CommitInfo c;
  c.txn_id = lsn * 10;
  c.lsn = lsn;
  c.root = 3;
  c.page_count = 100;
  c.durable_lsn = durable_lsn;
  ASSERT_TRUE(b->AddCommit(c).ok());
}

// A record as seen by a scan.
struct SeenRecord {
  RecordType type;
  uint64_t offset;
  uint64_t size;
  uint64_t lsn;  // page LSN, new LSN or commit LSN
};

struct Scan {
  Status open_status;
  std::vector<SeenRecord> records;
  StopReason stop = StopReason::kNone;
  uint64_t stop_offset = 0;
  uint64_t stop_index = 0;
  std::string stop_detail;
  uint64_t stop_txn_lsn = 0;
  uint64_t committed_end = 0;
  std::vector<uint64_t> commit_lsns;
  WalReader::ProbeResult probe;
};

// A read-only in-memory File (fast scans of many small logs).
class StringFile final : public File {
 public:
  explicit StringFile(std::string data) : data_(std::move(data)) {}
  const std::string& path() const override { return path_; }
  Status ReadAt(uint64_t offset, size_t n, char* dst, size_t* bytes_read) override {
    *bytes_read = 0;
    if (offset >= data_.size()) return Status::OK();
    *bytes_read = std::min<size_t>(n, data_.size() - offset);
    std::memcpy(dst, data_.data() + offset, *bytes_read);
    return Status::OK();
  }
  Status WriteAt(uint64_t, std::string_view) override { return Status::IOError("read-only"); }
  Status Append(std::string_view) override { return Status::IOError("read-only"); }
  Status Sync() override { return Status::IOError("read-only"); }
  Status Truncate(uint64_t) override { return Status::IOError("read-only"); }
  Result<uint64_t> Size() override { return static_cast<uint64_t>(data_.size()); }

 private:
  const std::string path_ = "<memory>";
  const std::string data_;
};

// Reads the log in `file` to its stop, then probes past the stop.
inline Scan ScanFile(File* file) {
  Scan scan;
  WalReader reader(file);
  scan.open_status = reader.Open();
  if (!scan.open_status.ok()) return scan;
  Record rec;
  while (reader.Next(&rec)) {
    scan.records.push_back(SeenRecord{rec.type, rec.offset, rec.size(), TxnLsnOf(rec)});
    if (rec.type == RecordType::kCommit) scan.commit_lsns.push_back(rec.commit.lsn);
  }
  scan.stop = reader.stop_reason();
  scan.stop_offset = reader.stop_offset();
  scan.stop_index = reader.stop_record_index();
  scan.stop_detail = reader.stop_detail();
  scan.stop_txn_lsn = reader.stop_txn_lsn();
  scan.committed_end = reader.committed_end_offset();
  auto probe = reader.ProbePastStop();
  EXPECT_TRUE(probe.ok()) << probe.status().ToString();
  if (probe.ok()) scan.probe = *probe;
  return scan;
}

// Reads the log at `path` to its stop, then probes past the stop.
inline Scan ScanLog(const std::string& path) {
  auto file = Env::Default()->OpenFile(path, OpenMode::kReadOnly);
  if (!file.ok()) {
    Scan scan;
    scan.open_status = file.status();
    return scan;
  }
  return ScanFile(file->get());
}

// Reads the log made of `bytes` (in memory).
inline Scan ScanBytes(std::string bytes) {
  StringFile file(std::move(bytes));
  return ScanFile(&file);
}

using ::sombra::test::PatchFile;

// An Env whose files take `delay` in every Sync, so that concurrent
// committers pile up behind a group fdatasync.
class SlowSyncEnv final : public EnvWrapper {
 public:
  SlowSyncEnv(Env* base, std::chrono::microseconds delay) : EnvWrapper(base), delay_(delay) {}

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    SOMBRA_ASSIGN_OR_RETURN(auto file, base()->OpenFile(path, mode));
    return std::unique_ptr<File>(new SlowFile(std::move(file), delay_));
  }

 private:
  class SlowFile final : public FileWrapper {
   public:
    SlowFile(std::unique_ptr<File> base, std::chrono::microseconds delay)
        : FileWrapper(std::move(base)), delay_(delay) {}
    Status Sync() override {
      std::this_thread::sleep_for(delay_);
      return FileWrapper::Sync();
    }

   private:
    std::chrono::microseconds delay_;
  };

  const std::chrono::microseconds delay_;
};

}  // namespace sombra::wal::test
