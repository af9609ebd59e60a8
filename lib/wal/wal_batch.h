// wal/wal_batch.h: BatchBuilder, the encoder of one transaction's WAL
// records (docs/format/wal.md, "Records").
//
// A committing transaction adds its page images and deltas, then its commit
// record, and hands data() to WalWriter::Append in one write. The builder
// chains the checksums itself, starting from the seed given to Reset (the
// writer's last_checksum()).
//
//   BatchBuilder batch(page_size, /*compress=*/true);   // once per writer
//   batch.Reset(writer->last_checksum());
//   SOMBRA_RETURN_IF_ERROR(batch.AddPageImage(7, lsn, page));
//   SOMBRA_RETURN_IF_ERROR(batch.AddPageDelta(3, base_lsn, lsn, ranges));
//   SOMBRA_RETURN_IF_ERROR(batch.AddCommit(info));
//   SOMBRA_ASSIGN_OR_RETURN(uint64_t end, writer->Append(batch));
//
// Invariants:
//  1. data() is a sequence of complete records; each record's checksum is
//     seeded with the previous one's, the first with Reset's seed, and
//     last_checksum() is the last record's (Reset's seed when empty).
//  2. Every record since the last commit carries the same LSN (page LSN of
//     an image, new LSN of a delta), a commit is accepted only with that
//     LSN, and a batch's commits have consecutive LSNs; so a batch never
//     holds a transaction the reader rejects under rules T1-T3.
//  3. The buffers grow to the largest batch seen and are reused across
//     Reset: no allocation per transaction in steady state.
//
// A failed Add* (InvalidArgument: a caller bug) leaves the builder as it
// was. Thread safety: none; one builder per writing thread (its own helper
// thread, PrecompressImages, only reads the announced pages and writes
// memory no one else touches until WaitPrecompressed joins it).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sombra/status.h"
#include "wal/wal_format.h"
#include "wal/wal_ops_group.h"

namespace sombra::wal {

// What a batch holds, for the writer's counters.
struct BatchStats {
  uint64_t records = 0;
  uint64_t image_records = 0;
  uint64_t delta_records = 0;
  uint64_t ops_records = 0;    // pages logged as page ops, in ops groups or not
  uint64_t group_records = 0;  // ops groups
  uint64_t copy_ops = 0;       // copies from other pages, in page ops
  uint64_t commit_records = 0;
  uint64_t compressed_bytes_saved = 0;  // page and group bytes not stored thanks to lz4
};

class BatchBuilder {
 public:
  // A reserve growing the batch by more than this faults its room in at
  // once (ReserveForPages).
  static constexpr size_t kPrefaultBytes = size_t{1} << 20;

  // REQUIRES: IsValidPageSize(page_size). With `compress`, a page image is
  // stored lz4-compressed when that is smaller.
  BatchBuilder(uint32_t page_size, bool compress);

  ~BatchBuilder();
  BatchBuilder(const BatchBuilder&) = delete;
  BatchBuilder& operator=(const BatchBuilder&) = delete;

  // Fewer page images than this are compressed on the calling thread only
  // (PrecompressImages).
  static constexpr size_t kParallelImages = 128;

  // Empties the batch; the next record is seeded with prev_checksum.
  void Reset(uint64_t prev_checksum);

  // The whole page (page_size bytes at `page`) as a page image.
  // REQUIRES: page_no >= 2, page_lsn >= 1.
  [[nodiscard]] Status AddPageImage(uint32_t page_no, uint64_t page_lsn, const uint8_t* page);

  // Announces the pages the next AddPageImage calls will be given, in that
  // order, and starts one helper thread compressing the second half of
  // them while this thread goes on (and compresses the first half as
  // AddPageImage meets them): a large transaction's commit compresses on
  // two cores. The records are byte for byte those AddPageImage writes
  // without it. An AddPageImage of a page out of that order ends the plan
  // (from then on every image is compressed inline). Does nothing without
  // compression, for fewer than kParallelImages pages, or when no thread
  // can be started. REQUIRES: the pages keep their bytes and stay
  // allocated until WaitPrecompressed (called by Reset and the destructor)
  // returns.
  void PrecompressImages(std::span<const uint8_t* const> pages);
  // Waits for the helper thread, if one runs; the plan is dropped.
  void WaitPrecompressed();
  // The pages of the plan PrecompressImages made (0: none was made, or it
  // ended; tests).
  size_t planned_images() const { return pre_.size(); }

  // The changed ranges of a page whose LSN was base_lsn; applying them
  // makes its LSN new_lsn. REQUIRES: page_no >= 2, base_lsn < new_lsn,
  // ranges non-empty, sorted, non-overlapping and inside the page.
  [[nodiscard]] Status AddPageDelta(uint32_t page_no, uint64_t base_lsn, uint64_t new_lsn,
                                    std::span<const DeltaRange> ranges);

  // The edits of a page whose LSN was base_lsn, in the order they were
  // made (wal_page_ops.h); applying them makes its LSN new_lsn. Only in a
  // log of format 4 to 13 (the caller's to know). REQUIRES: page_no >= 2,
  // base_lsn < new_lsn, CheckPageOps(ops) holds (copies allowed in a log
  // of format 12 or 13) and ops fit MaxOpsPayload. In a log of format 10 to 13 the ops join the
  // open ops group (wal_ops_group.h), written as one record before the commit record, or earlier
  // when the next page's ops do not fit it (pages out of increasing order, or a body past
  // kMaxGroupBody) or an image or delta of one of its pages is added: a page's records keep their
  // order.
  [[nodiscard]] Status AddPageOps(uint32_t page_no, uint64_t base_lsn, uint64_t new_lsn,
                                  std::string_view ops);

  // The commit record; record_count is filled in (records since the
  // previous commit or Reset). REQUIRES: CheckCommitInfo holds and the
  // records since the previous commit carry info.lsn.
  // Its payload has the layout of log format log_version() (set_log_version):
  // a catalog root other than 0 needs format 6 or 7 (InvalidArgument
  // otherwise).
  [[nodiscard]] Status AddCommit(const CommitInfo& info);
  // The format of the log the batch goes to (default: the newest).
  void set_log_version(uint32_t version) { log_version_ = version; }
  uint32_t log_version() const { return log_version_; }

  // Makes room for `pages` more records of at most a page image each
  // (header, fixed fields, page) and the commit record, so that a large
  // transaction's batch grows once instead of doubling (and copying) its
  // way there. When that takes a new allocation of more than
  // kPrefaultBytes, its room is faulted in with one call
  // (env/prefault.h) instead of a page fault per 4 KiB as records fill it.
  void ReserveForPages(size_t pages);

  // REQUIRES (data, last_checksum, record_count): no ops group open, as
  // after AddCommit.
  std::string_view data() const { return buf_; }
  bool empty() const { return buf_.empty(); }
  uint64_t last_checksum() const { return last_checksum_; }
  // Records in the batch, commit records included.
  uint64_t record_count() const { return stats_.records; }
  uint64_t image_records() const { return stats_.image_records; }
  uint64_t delta_records() const { return stats_.delta_records; }
  uint64_t ops_records() const { return stats_.ops_records; }
  uint64_t group_records() const { return stats_.group_records; }
  uint64_t compressed_bytes_saved() const { return stats_.compressed_bytes_saved; }
  const BatchStats& stats() const { return stats_; }
  uint32_t page_size() const { return page_size_; }

 private:
  // Checks that a record of LSN `lsn` may join the open transaction.
  Status CheckTxnLsn(uint64_t lsn, const char* what) const;
  // Appends a record header for `payload_size` bytes; returns its offset.
  size_t BeginRecord(RecordType type, uint8_t flags, size_t payload_size);
  // Computes and stores the checksum of the record at `start`.
  void SealRecord(size_t start);
  // Writes the open ops group, if any, as one record.
  void FlushGroup();

  // A page PrecompressImages was given: where its block is in side_ (size
  // 0: it does not compress, the image is stored raw).
  struct PreImage {
    const uint8_t* page;
    size_t offset;
    size_t size;
  };
  // The first entry of pre_ that is the helper's: the second half.
  size_t HelperFirst() const { return pre_.size() / 2; }
  // The helper thread's work: compresses pre_[HelperFirst(), end) into side_.
  void CompressHelperHalf();
  // A page image is stored compressed when its lz4 block (n bytes, 0: it
  // failed) is smaller than the page, on either thread.
  bool StoredCompressed(size_t n) const { return n != 0 && n < page_size_; }
  // The block of `page` when the plan holds it next (*pre then points at
  // it, or stays null when it is this thread's to compress); ends the plan
  // when `page` is not the one it expects.
  void TakePlanned(const uint8_t* page, const PreImage** pre);

  const uint32_t page_size_;
  const bool compress_;
  std::vector<PreImage> pre_;     // the plan, in AddPageImage order
  size_t pre_next_ = 0;           // the entry the next AddPageImage expects
  std::unique_ptr<char[]> side_;  // the helper's blocks
  size_t side_capacity_ = 0;
  std::thread helper_;
  uint32_t log_version_ = kWalNewestFormatVersion;
  std::string buf_;
  std::string lz4_;  // compression scratch
  uint64_t last_checksum_ = 0;
  BatchStats stats_;
  uint32_t txn_records_ = 0;      // records since the last commit
  uint64_t txn_lsn_ = 0;          // their LSN (meaningful when txn_records_ > 0)
  uint64_t last_commit_lsn_ = 0;  // of the batch's last commit, 0 when none
  OpsGroupBuilder group_;         // the open ops group (formats 10 to 13)
  uint64_t group_lsn_ = 0;        // its LSN (meaningful when !group_.empty())
};

// Waits for a builder's helper thread (PrecompressImages) when it goes out
// of scope, so that a caller that returns early, on any path, may free the
// pages it announced.
class PrecompressScope {
 public:
  explicit PrecompressScope(BatchBuilder* b) : b_(b) {}
  ~PrecompressScope() { b_->WaitPrecompressed(); }
  PrecompressScope(const PrecompressScope&) = delete;
  PrecompressScope& operator=(const PrecompressScope&) = delete;

 private:
  BatchBuilder* b_;
};

}  // namespace sombra::wal
