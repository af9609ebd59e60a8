// cli/progress.h: the progress line `sombra load` draws on a terminal.
//
// With a known input size:
//   [##########----------]  50%  500000 records  12.0 MiB  250000 rec/s  ETA 0:02
// without (a pipe):
//   500000 records  12.0 MiB  250000 rec/s
// The line is redrawn in place ("\r" + text + erase to end of line) at most
// ten times a second, and ends with a newline. A disabled Progress writes
// nothing at all (stderr is not a terminal).
//
// Thread safety: belongs to one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace sombra::cli {

// What a progress line counts: "records" and "rec/s" (load), "pages" and
// "pages/s" (backup).
struct ProgressUnit {
  const char* noun = "records";
  const char* rate = "rec/s";
};

// The text of one progress line. total_bytes < 0: unknown.
std::string FormatProgress(uint64_t records, uint64_t bytes, int64_t total_bytes,
                           double elapsed_seconds, ProgressUnit unit = {});

class Progress {
 public:
  Progress(std::ostream& out, bool enabled, int64_t total_bytes, ProgressUnit unit = {});

  // Redraws when the last redraw is old enough.
  void Update(uint64_t records, uint64_t bytes);
  // Draws the final state and ends the line.
  void Finish(uint64_t records, uint64_t bytes);

 private:
  void Draw(uint64_t records, uint64_t bytes);

  std::ostream& out_;
  const bool enabled_;
  const int64_t total_bytes_;
  const ProgressUnit unit_;
  const std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool drawn_ = false;
};

}  // namespace sombra::cli
