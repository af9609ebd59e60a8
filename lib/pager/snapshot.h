// pager/snapshot.h: a read-only view of one published commit.
//
// Read() returns the page as of the snapshot's LSN: the newest version at
// or below it, else the page file through the map the snapshot pinned when
// it began. No lock, no syscall and no copy. Pointers stay valid, with
// unchanged bytes, for the snapshot's lifetime: a checkpoint that
// overwrites a page this snapshot may still read from the file first
// preserves the page in the snapshot's map (docs/design/checkpoint.md); a
// writer in another process never rewrites a page at all while this
// snapshot may read it from the file (docs/design/readers.md).
//
// Thread safety: one thread at a time; any number of snapshots at once.
#pragma once

#include <cstdint>
#include <memory>

#include "env/env.h"
#include "pager/pager.h"
#include "pager/version_map.h"
#include "util/result.h"

namespace sombra::pager {

class Snapshot {
 public:
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  uint64_t lsn() const { return state_.lsn; }
  const TreeState& state() const { return state_; }
  uint32_t page_size() const { return pager_->page_size(); }

  // Page `page_no` as of lsn(). InvalidArgument past the page count;
  // Corruption when the file's page fails verification.
  Result<const uint8_t*> Read(uint32_t page_no) const;

 private:
  friend class Pager;
  Snapshot(Pager* pager, const TreeState& state, std::shared_ptr<const VersionMap> versions,
           std::shared_ptr<const MappedRegion> region, std::shared_ptr<RetireBin> bin)
      : pager_(pager),
        state_(state),
        versions_(std::move(versions)),
        region_(std::move(region)),
        bin_(std::move(bin)) {}

  Pager* const pager_;
  const TreeState state_;
  // The version map this snapshot began on (a read-only handle starts a
  // new one when the writer restarts the log).
  const std::shared_ptr<const VersionMap> versions_;
  const std::shared_ptr<const MappedRegion> region_;
  std::shared_ptr<RetireBin> bin_;  // keeps versions we may stand on alive
};

}  // namespace sombra::pager
