// pager/pager.h: the page file.
//
// The page file is an array of fixed-size pages (docs/format/file.md).
// Pages 0 and 1 are the alternating meta pages; every other page is
// allocated from the freelist or by extending the file, and freed back to
// the freelist. Reads are zero-copy views into a read-only memory map of the
// file; writes go through pwrite, never through the map. Sync() makes the
// page writes durable and then publishes a new meta page, so the meta page
// on disk always describes pages that were synced before it.
//
// Until the write-ahead log exists (lib/wal) page writes are not atomic with
// the meta: a crash between Sync() calls may leave a page newer than the
// meta that describes it. The meta pages themselves are always consistent
// (a torn meta write leaves the older meta in force).
//
// Invariants:
//  1. meta().page_count * page_size() <= file size <= map size.
//  2. A page number in [2, page_count) is either on the freelist or owned
//     by exactly one user of the pager.
//  3. Nothing is written through the map; no mapped byte lies past the end
//     of the file (the file only grows while open).
//
// Thread safety: ReadPage/Pin may run concurrently with each other and with
// one writer calling the mutating methods; the mutating methods (Allocate,
// Free, Write, SetRoot, Sync) must be serialised by the caller.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "env/env.h"
#include "env/file_map.h"
#include "pager/format.h"
#include "pager/meta.h"
#include "sombra/options.h"
#include "util/metrics.h"
#include "util/result.h"

namespace sombra::pager {

class Pager {
 public:
  // Opens (or creates, per options) the page file at `path`. Takes the
  // database lock unless options.read_only. `metrics` may be null (the
  // pager then keeps its own registry).
  // Errors: InvalidArgument for a bad page size, a directory or a file that
  // is not a Sombra database; NotFound when missing and !create_if_missing;
  // Busy when another handle holds the lock; Corruption for damaged metas.
  static Result<std::unique_ptr<Pager>> Open(Env* env, const std::string& path,
                                             const Options& options,
                                             MetricsRegistry* metrics = nullptr);
  ~Pager();

  Pager(const Pager&) = delete;
  Pager& operator=(const Pager&) = delete;

  const std::string& path() const { return path_; }
  uint32_t page_size() const { return meta_.page_size; }
  bool read_only() const { return read_only_; }
  // The state that the next Sync() will publish.
  const Meta& meta() const { return meta_; }
  // The meta page slot the current durable meta was read from or written to.
  uint32_t durable_meta_slot() const { return MetaSlotFor(durable_seq_); }

  // The current map; holding it keeps every page pointer read through it
  // valid, even after the file grows.
  std::shared_ptr<const MappedRegion> Pin() const { return map_->current(); }

  // A zero-copy view of page `page_no` in `region`, verified when
  // verify_checksums. Valid while `region` lives.
  Result<const uint8_t*> ReadPage(const MappedRegion& region, uint32_t page_no) const;
  // The same through the pager's current map; valid until the file grows
  // (the next AllocatePage) unless the caller holds Pin().
  Result<const uint8_t*> ReadPage(uint32_t page_no) const;

  // A page for the caller to write: from the freelist, else past the end
  // (growing the file in large steps). Its content is undefined until
  // WritePage.
  Result<uint32_t> AllocatePage();
  // Returns `page_no` to the freelist (writing it as a free page).
  Status FreePage(uint32_t page_no);
  // Stamps the page number and checksum into `page` (page_size() bytes whose
  // header kind and LSN the caller set) and writes it at its place.
  // REQUIRES: 2 <= page_no < meta().page_count; kind is neither meta nor 0.
  Status WritePage(uint32_t page_no, uint8_t* page);
  void SetRoot(uint32_t root) { meta_.root = root; }
  void SetCheckpointLsn(uint64_t lsn) { meta_.checkpoint_lsn = lsn; }

  // fdatasync the page file, write the next meta page, fdatasync again.
  Status Sync();

  MetricsRegistry* metrics() const { return metrics_; }

 private:
  Pager(Env* env, std::string path, const Options& options, MetricsRegistry* metrics);

  Status Create(const Options& options);
  Status Load();
  Status EnsureCapacity(uint64_t page_count);
  Status WriteMeta(const Meta& meta);
  Status CheckWritable(const char* op) const;

  Env* const env_;
  const std::string path_;
  const bool read_only_;
  const bool verify_checksums_;
  std::unique_ptr<MetricsRegistry> owned_metrics_;
  MetricsRegistry* metrics_;
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<File> file_;
  std::unique_ptr<FileMap> map_;
  Meta meta_;
  uint64_t durable_seq_ = 0;
  uint64_t file_size_ = 0;
  std::vector<uint8_t> scratch_;  // one page, for meta and free pages

  Counter* pages_read_;
  Counter* pages_written_;
  Counter* pages_allocated_;
  Counter* pages_freed_;
  Counter* file_grows_;
  Counter* checksum_failures_;
  Counter* pager_syncs_;
};

}  // namespace sombra::pager
