// pager/page_file.h: the page file itself, below the Pager.
//
// The page file is an array of fixed-size pages (docs/format/file.md).
// Pages 0 and 1 are the alternating meta pages. PageFile reads pages as
// zero-copy views into a read-only map of the file, writes sealed page
// images with pwrite (never through the map), grows the file in large steps
// and publishes meta pages. It knows nothing of transactions: the Pager
// decides what is written when (pages only at checkpoint, after their WAL
// records are durable).
//
// Invariants:
//  1. durable_meta().page_count * page_size() <= file size == map size.
//  2. Nothing is written through the map; no mapped byte that a reader may
//     read lies past the end of the file. The file grows while open, and
//     shrinks (TrimToPageCount) only to the durable meta's page count when
//     no reader anywhere reads a state with more pages (the Pager's
//     checkpoint, docs/operations.md "Compaction"): a map may then reach
//     past the end, over pages nobody reads, until the file grows again.
//  3. A meta page is written only after an fdatasync of the pages it
//     describes, and is followed by an fdatasync.
//
// Thread safety: ReadPage and Pin may run concurrently with everything;
// the other methods are serialised by the caller (the Pager).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "env/env.h"
#include "env/file_map.h"
#include "pager/format.h"
#include "pager/meta.h"
#include "pager/verified_pages.h"
#include "sombra/options.h"
#include "util/metrics.h"
#include "util/result.h"

namespace sombra::pager {

class PageFile {
 public:
  // Opens (or creates, per options) the page file at `path`. Takes the
  // database lock unless options.read_only, waiting up to
  // options.busy_timeout_ms for it.
  // Errors: InvalidArgument for a bad page size, a directory or a file that
  // is not a Sombra database; NotFound when missing and !create_if_missing;
  // Busy when another handle holds the lock (still, after the wait);
  // Corruption for damaged metas.
  static Result<std::unique_ptr<PageFile>> Open(Env* env, const std::string& path,
                                                const Options& options, MetricsRegistry* metrics);
  ~PageFile();

  PageFile(const PageFile&) = delete;
  PageFile& operator=(const PageFile&) = delete;

  Env* env() const { return env_; }
  const std::string& path() const { return path_; }
  uint32_t page_size() const { return page_size_; }
  uint64_t salt() const { return salt_; }
  bool read_only() const { return read_only_; }
  // The meta page in force on disk.
  const Meta& durable_meta() const { return meta_; }
  uint32_t durable_meta_slot() const { return MetaSlotFor(meta_.checkpoint_seq); }
  // Why the other meta page (not the one in force) was found invalid at
  // open; OK when it was valid.
  const Status& other_meta_status() const { return other_meta_status_; }
  uint64_t file_size() const { return file_size_; }
  // Page slots the file has room for without growing.
  uint64_t capacity_pages() const { return file_size_ / meta_.page_size; }

  // The current map; holding it keeps every page pointer read through it
  // valid, even after the file grows.
  std::shared_ptr<const MappedRegion> Pin() const { return map_->current(); }
  // Every region still held by someone (the current one included).
  std::vector<std::shared_ptr<const MappedRegion>> LiveRegions() const {
    return map_->LiveRegions();
  }
  // Replaces the current region by a fresh map of the file (new readers do
  // not see pages preserved in older regions).
  // Writable handles only; the new map covers the file as it is now.
  Status RefreshMap() { return map_->Refresh(file_size_); }

  // A zero-copy view of page `page_no` in `region`, verified when
  // verify_checksums: a writable handle verifies a page on its first read
  // and again after it rewrites the page (VerifiedPages); a read-only
  // handle, whose file another process may rewrite, on every read.
  // Valid while `region` lives.
  Result<const uint8_t*> ReadPage(const MappedRegion& region, uint32_t page_no) const;
  // Copies page `page_no`'s bytes as the file holds them into `out`
  // (page_size bytes; a page past the end of the file reads as zeros),
  // unverified, whether or not the map covers it (a read-only handle maps
  // only the pages its meta counts).
  Status ReadUnmapped(uint64_t page_no, uint8_t* out) const;

  // Grows the file (and the map) so that it holds at least `page_count`
  // pages; in large steps.
  Status EnsureCapacity(uint64_t page_count);
  // Seals a copy of `image` (page_size bytes, header kind and LSN set) as
  // page `page_no` and writes it at its place.
  // REQUIRES: 2 <= page_no; the file has room for it.
  Status WritePage(uint32_t page_no, const uint8_t* image);
  // Shrinks the file to the durable meta's page count (at clean close, and
  // at a checkpoint after the page count went down, when no reader reads a
  // state with more pages).
  Status TrimToPageCount();
  // True when the file holds more room past the durable meta's page count
  // than one growth step would add (the page count went down).
  bool TailWorthTrimming() const;
  // fdatasync of the pages written so far.
  Status SyncData();
  // Writes `next` as the next meta page (sequence = durable + 1) and
  // fdatasyncs; on success it is the durable meta.
  // REQUIRES: SyncData() since the last WritePage.
  Status PublishMeta(Meta next);

  // True when `copy` (a meta page kept elsewhere: the log header's base
  // meta, docs/format/file.md "Meta redundancy") can stand in for the
  // damaged meta page: the other meta page is damaged, the copy's sequence
  // is newer than the durable meta's and lives in the damaged page's slot,
  // and the pages it names are in the file.
  bool CanRestoreMeta(const Meta& copy) const;
  // Rewrites the damaged meta page from `copy` and fdatasyncs; on success
  // the copy is the durable meta and the other meta page is the older one
  // again. InvalidArgument unless CanRestoreMeta(copy).
  Status RestoreMeta(Meta copy);

  // Read-only handles beside a writer in another process
  // (docs/design/readers.md). ReloadMeta reads the meta pages again (the
  // writer checkpointed); Corruption when the database's salt or page size
  // changed. FollowGrowth maps the file as far as it now extends (at
  // least `page_count` pages, or an error) when the map is shorter.
  // REQUIRES: read_only(); serialised with each other.
  Status ReloadMeta();
  Status FollowGrowth(uint64_t page_count);
  // True when the meta page in force in the file now is newer than
  // durable_meta() (a checkpoint published one since it was read).
  bool NewerMetaInFile() const;
  // A read-only handle registered in the reader table: no page it reads
  // from the file changes until it sees the writer restart the log
  // (docs/design/readers.md), so a page is verified on its first read, as
  // on a writable handle, and ForgetVerified() starts over after each
  // restart. Without the table, every read verifies.
  void TrustVerifiedReads() { trust_verified_ = true; }
  void ForgetVerified() { verified_.ClearAll(); }

  MetricsRegistry* metrics() const { return metrics_; }

 private:
  PageFile(Env* env, std::string path, const Options& options, MetricsRegistry* metrics);

  Status Create(const Options& options);
  Status Load();
  Status LoadOnce();
  // Maps the file's file_size_ bytes (writable) or the `needed` bytes its
  // meta counts (read-only).
  Status MapFile(uint64_t needed);
  Status WriteMeta(const Meta& meta);
  Status CheckWritable(const char* op) const;

  Env* const env_;
  const std::string path_;
  const bool read_only_;
  const bool verify_checksums_;
  MetricsRegistry* const metrics_;
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<File> file_;
  std::unique_ptr<FileMap> map_;
  Meta meta_;
  Status other_meta_status_;
  // Fixed at open; read by concurrent readers (meta_ is not).
  uint32_t page_size_ = 0;
  uint64_t salt_ = 0;
  uint64_t file_size_ = 0;
  std::vector<uint8_t> scratch_;    // one page: meta pages and sealed copies
  mutable VerifiedPages verified_;  // written by const ReadPage
  bool trust_verified_ = false;     // read-only: set before the first snapshot

  Counter* pages_read_;  // pages verified on read
  Counter* pages_written_;
  Counter* file_grows_;
  Counter* checksum_failures_;
  Counter* meta_writes_;
};

}  // namespace sombra::pager
