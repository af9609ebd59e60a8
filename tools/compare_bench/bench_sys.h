// compare_bench/bench_sys.h: the machine-facing helpers of compare-bench: directory
// sizes, peak memory, and the fdatasync floor.
//
// Thread safety: none needed; called from the driver thread.
#pragma once

#include <cstdint>
#include <string>

#include "sombra/status.h"

namespace sombra::bench {

// Sum of st_size of every regular file under `dir` (0 when it is missing).
uint64_t DirBytes(const std::string& dir);

// Removes `dir` with its contents and creates it empty.
Status MakeFreshDir(const std::string& dir);
void RemoveDir(const std::string& dir);

// Peak resident memory, process-wide. Start() resets the kernel's high-water
// mark (VmHWM) to the current RSS by writing "5" to /proc/self/clear_refs
// when allowed, and remembers VmRSS; GrowthBytes() is VmHWM - that RSS, or,
// when the reset was refused, the VmRSS growth at the time of the call.
class PeakMemory {
 public:
  void Start();
  int64_t GrowthBytes() const;
  // True when the high-water mark could be reset (a true peak is reported).
  bool exact() const { return exact_; }

 private:
  bool exact_ = false;
  int64_t start_rss_ = 0;
};

// A line of /proc/self/status ("VmHWM", "VmRSS") in bytes, or -1.
int64_t ProcStatusBytes(const char* field);

// The latency of one durable overwrite on this disk: `samples` overwrites of
// one 4 KiB block of a preallocated 1 MiB file in `dir`, each followed by
// fdatasync, the floor any durable commit pays. The mean is the figure to
// hold an engine's us/commit (total time / commits, also a mean) against;
// the median leaves out the disk's slow flushes, which every engine's run
// also meets.
inline constexpr int kSyncFloorSamples = 500;
struct SyncFloor {
  double mean_us = 0;
  double median_us = 0;
};
Status MeasureSyncFloor(const std::string& dir, int samples, SyncFloor* floor);

}  // namespace sombra::bench
