#include "cli/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sombra::cli {

namespace {

constexpr int kBarWidth = 20;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

std::string Mebibytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

std::string Duration(double seconds) {
  const auto total = static_cast<uint64_t>(std::max(0.0, std::round(seconds)));
  char buf[32];
  if (total >= 3600) {
    std::snprintf(buf, sizeof(buf), "%llu:%02llu:%02llu",
                  static_cast<unsigned long long>(total / 3600),
                  static_cast<unsigned long long>(total / 60 % 60),
                  static_cast<unsigned long long>(total % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%llu:%02llu", static_cast<unsigned long long>(total / 60),
                  static_cast<unsigned long long>(total % 60));
  }
  return buf;
}

}  // namespace

std::string FormatProgress(uint64_t records, uint64_t bytes, int64_t total_bytes,
                           double elapsed_seconds, ProgressUnit unit) {
  std::string line;
  const bool known = total_bytes > 0;
  double fraction = 0;
  if (known) {
    fraction = std::min(1.0, static_cast<double>(bytes) / static_cast<double>(total_bytes));
    const int filled = static_cast<int>(fraction * kBarWidth);
    line += "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '-') + "] ";
    char pct[8];
    std::snprintf(pct, sizeof(pct), "%3d%%", static_cast<int>(fraction * 100));
    line += pct;
    line += "  ";
  }
  line += std::to_string(records) + " " + unit.noun + "  " + Mebibytes(bytes);
  if (elapsed_seconds > 0) {
    const double rate = static_cast<double>(records) / elapsed_seconds;
    line += "  " + std::to_string(static_cast<uint64_t>(rate)) + " " + unit.rate;
    if (known && fraction > 0 && fraction < 1) {
      line += "  ETA " + Duration(elapsed_seconds * (1 - fraction) / fraction);
    } else if (known && fraction >= 1) {
      line += "  " + Duration(elapsed_seconds);
    }
  }
  return line;
}

Progress::Progress(std::ostream& out, bool enabled, int64_t total_bytes, ProgressUnit unit)
    : out_(out),
      enabled_(enabled),
      total_bytes_(total_bytes),
      unit_(unit),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void Progress::Draw(uint64_t records, uint64_t bytes) {
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  out_ << '\r' << FormatProgress(records, bytes, total_bytes_, elapsed, unit_) << "\033[K";
  out_.flush();
  drawn_ = true;
}

void Progress::Update(uint64_t records, uint64_t bytes) {
  if (!enabled_) return;
  if (drawn_ && std::chrono::steady_clock::now() - last_draw_ < kRedrawInterval) return;
  Draw(records, bytes);
}

void Progress::Finish(uint64_t records, uint64_t bytes) {
  if (!enabled_) return;
  Draw(records, bytes);
  out_ << '\n';
  out_.flush();
}

}  // namespace sombra::cli
