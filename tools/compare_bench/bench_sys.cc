// compare_bench/bench_sys.cc: see bench_sys.h.
#include "compare_bench/bench_sys.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

namespace sombra::bench {

namespace fs = std::filesystem;

uint64_t DirBytes(const std::string& dir) {
  std::error_code ec;
  uint64_t total = 0;
  if (!fs::exists(dir, ec)) return 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2)) {
      uintmax_t n = it->file_size(ec2);
      if (!ec2) total += n;
    }
  }
  return total;
}

Status MakeFreshDir(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("create " + dir + ": " + ec.message());
  return Status::OK();
}

void RemoveDir(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
}

int64_t ProcStatusBytes(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  int64_t result = -1;
  size_t n = std::strlen(field);
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      long long kb = 0;
      if (std::sscanf(line + n + 1, "%lld", &kb) == 1) result = kb * 1024;
      break;
    }
  }
  std::fclose(f);
  return result;
}

void PeakMemory::Start() {
  exact_ = false;
  int fd = ::open("/proc/self/clear_refs", O_WRONLY);
  if (fd >= 0) {
    exact_ = ::write(fd, "5", 1) == 1;
    ::close(fd);
  }
  start_rss_ = ProcStatusBytes("VmRSS");
}

int64_t PeakMemory::GrowthBytes() const {
  int64_t now = ProcStatusBytes(exact_ ? "VmHWM" : "VmRSS");
  if (now < 0 || start_rss_ < 0) return -1;
  return std::max<int64_t>(0, now - start_rss_);
}

Status MeasureSyncFloor(const std::string& dir, int samples, SyncFloor* floor) {
  const std::string path = dir + "/sync-floor.tmp";
  constexpr size_t kBlock = 4096;
  constexpr size_t kBlocks = 256;  // 1 MiB
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return Status::IOError("open " + path + ": " + std::strerror(errno), errno);
  std::vector<char> block(kBlock, 'f');
  Status s;
  for (size_t i = 0; i < kBlocks && s.ok(); ++i) {
    if (::pwrite(fd, block.data(), kBlock, static_cast<off_t>(i * kBlock)) !=
        static_cast<ssize_t>(kBlock)) {
      s = Status::IOError("pwrite " + path, errno);
    }
  }
  if (s.ok() && ::fsync(fd) != 0) s = Status::IOError("fsync " + path, errno);
  std::vector<double> us;
  for (int i = 0; i < samples && s.ok(); ++i) {
    block[0] = static_cast<char>(i);
    auto t0 = std::chrono::steady_clock::now();
    off_t off = static_cast<off_t>((static_cast<size_t>(i) % kBlocks) * kBlock);
    if (::pwrite(fd, block.data(), kBlock, off) != static_cast<ssize_t>(kBlock) ||
        ::fdatasync(fd) != 0) {
      s = Status::IOError("pwrite+fdatasync " + path, errno);
      break;
    }
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  ::close(fd);
  ::unlink(path.c_str());
  if (!s.ok()) return s;
  if (us.empty()) return Status::InvalidArgument("sync floor: no samples");
  std::sort(us.begin(), us.end());
  floor->median_us = us[us.size() / 2];
  floor->mean_us = std::accumulate(us.begin(), us.end(), 0.0) / static_cast<double>(us.size());
  return Status::OK();
}

}  // namespace sombra::bench
