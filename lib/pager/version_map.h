// pager/version_map.h: committed page versions that are not yet (or no
// longer) the content of the page file.
//
// For each page, a chain of immutable versions, newest first, each tagged
// with the LSN of the transaction that produced it. A reader with snapshot S
// uses the newest version with LSN <= S; when there is none it reads the
// page file. Lookups are lock-free: two levels of atomically published
// pointer arrays lead to the chain head, and chains are only ever changed by
// prepending a node or by cutting the chain after a node.
//
// Memory safety: a node cut from a chain may still be under a reader's
// eyes. Cut nodes go to the current RetireBin; a reader holds the bin that
// was current when it started, and each bin holds the next one, so a node
// is freed only once every reader that started before it was cut is gone.
//
// Thread safety: Find/Head from any thread at any time; everything else is
// serialised by the caller (the pager's version mutex).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <vector>

#include "env/page_buffer.h"

namespace sombra::pager {

struct PageVersion {
  PageVersion(uint64_t lsn_in, PageBuffer data_in) : lsn(lsn_in), data(std::move(data_in)) {}
  const uint64_t lsn;
  PageBuffer data;  // page_size bytes, never changed once published
  std::atomic<PageVersion*> older{nullptr};
  // True for the one version whose bytes the page file holds (written by a
  // checkpoint that completed). At most one per chain; none when the file
  // holds content older than every version, or content that is not known
  // (a checkpoint is writing the page, or failed). Serialised by the caller.
  bool in_file = false;
};

// Nodes cut from chains, freed when no reader can still see them.
class RetireBin {
 public:
  RetireBin() = default;
  ~RetireBin();
  RetireBin(const RetireBin&) = delete;
  RetireBin& operator=(const RetireBin&) = delete;

  void Add(PageVersion* v) { nodes_.push_back(v); }
  bool empty() const { return nodes_.empty(); }
  void set_next(std::shared_ptr<RetireBin> next) { next_ = std::move(next); }

 private:
  std::vector<PageVersion*> nodes_;
  std::shared_ptr<RetireBin> next_;
};

class VersionMap {
 public:
  VersionMap();
  ~VersionMap();
  VersionMap(const VersionMap&) = delete;
  VersionMap& operator=(const VersionMap&) = delete;

  // The newest version of the page with lsn <= snapshot, or null.
  const PageVersion* Find(uint32_t page_no, uint64_t snapshot) const;
  const PageVersion* Head(uint32_t page_no) const;

  // --- serialised by the caller ---
  // Makes `v` the newest version of the page (takes ownership).
  void Push(uint32_t page_no, std::unique_ptr<PageVersion> v);
  // The oldest version of the page, or null.
  const PageVersion* Oldest(uint32_t page_no) const;
  // The version whose bytes the page file holds (in_file), or null.
  PageVersion* InFile(uint32_t page_no) const;
  // Marks `v` (a version of the page) as the file's content, clearing the
  // mark of any other version of the page; null clears it.
  void SetInFile(uint32_t page_no, PageVersion* v);

  // Called before a suffix drop with the version the file is said to hold;
  // a debug check that the page file really holds it (may be empty).
  using SuffixCheck = std::function<void(uint32_t page_no, const PageVersion& file_version)>;

  // Drops the versions no reader needs, moving them to `bin`. A version is
  // needed when it is newer than every snapshot in `snapshots` (not yet
  // published), is the newest version at or below one of them, or is the
  // version the file holds (InFile). The file's version and every older one
  // are dropped together (the *suffix drop*: readers then read the file)
  // only when `file_may_stand_in` (no map region still held by a reader has
  // a private copy of the page) and every snapshot is at or above its LSN.
  // REQUIRES: `snapshots` ascending and non-empty. Returns the number of
  // versions dropped.
  size_t Prune(uint32_t page_no, const std::vector<uint64_t>& snapshots, bool file_may_stand_in,
               RetireBin* bin, const SuffixCheck& check = {});
  // Drops every version of the page, moving them to `bin` (a page past a
  // shrunk page count, once no reader reads a state that has it). Returns
  // the number of versions dropped.
  size_t DropPage(uint32_t page_no, RetireBin* bin);
  // Pages with at least one version, ascending.
  const std::set<uint32_t>& pages() const { return pages_; }
  size_t version_count() const { return version_count_; }

 private:
  static constexpr int kLeafBits = 12;
  static constexpr int kMidBits = 10;
  static constexpr int kTopBits = 32 - kLeafBits - kMidBits;
  using Leaf = std::array<std::atomic<PageVersion*>, 1 << kLeafBits>;
  using Mid = std::array<std::atomic<Leaf*>, 1 << kMidBits>;

  std::atomic<PageVersion*>* Slot(uint32_t page_no) const;
  std::atomic<PageVersion*>* SlotOrCreate(uint32_t page_no);

  std::array<std::atomic<Mid*>, 1 << kTopBits> top_{};
  std::set<uint32_t> pages_;
  size_t version_count_ = 0;
  std::vector<PageVersion*> chain_scratch_;  // Prune's
  std::vector<uint8_t> needed_scratch_;      // Prune's
};

}  // namespace sombra::pager
