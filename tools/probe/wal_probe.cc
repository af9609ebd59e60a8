// sombra-wal-probe: measurements the durability issue asks for, printed for
// the notes and docs (never asserted in tests).
//
//   sombra-wal-probe fsync DIR [N]      4 KiB append+fdatasync vs overwrite+fdatasync
//   sombra-wal-probe delta DIR          log bytes of a one-record change of an imaged page
//   sombra-wal-probe group DIR [T] [N]  commits per fsync with T threads x N commits
//   sombra-wal-probe recovery DIR [MiB] recovery time for a log of that size
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "env/env.h"
#include "pager/pager.h"
#include "pager/pager_txn.h"

using sombra::Env;
using sombra::Options;
using sombra::Status;
namespace pager = sombra::pager;
using Clock = std::chrono::steady_clock;

namespace {

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "sombra-wal-probe: %s\n", what.c_str());
  std::exit(2);
}

void Check(const Status& s) {
  if (!s.ok()) Die(s.ToString());
}

void Fsync(const std::string& dir, int n) {
  std::vector<char> block(4096, 'x');
  for (int mode = 0; mode < 2; ++mode) {
    std::string path = dir + "/fsync-probe";
    unlink(path.c_str());
    int fd = open(path.c_str(), O_RDWR | O_CREAT, 0644);
    if (fd < 0) Die("open " + path);
    if (mode == 1) {  // preallocate by writing, then overwrite
      for (int i = 0; i < n; ++i) (void)!pwrite(fd, block.data(), block.size(), i * 4096L);
      fdatasync(fd);
    }
    std::vector<double> t;
    for (int i = 0; i < n; ++i) {
      auto start = Clock::now();
      (void)!pwrite(fd, block.data(), block.size(), i * 4096L);
      fdatasync(fd);
      t.push_back(Micros(Clock::now() - start));
    }
    close(fd);
    unlink(path.c_str());
    std::printf("%-34s median %8.1f us  (n=%d)\n",
                mode == 0 ? "4 KiB append + fdatasync:" : "4 KiB overwrite + fdatasync:", Median(t),
                n);
  }
}

std::unique_ptr<pager::Pager> OpenDb(const std::string& path, Options o = Options()) {
  auto p = pager::Pager::Open(Env::Default(), path, o);
  if (!p.ok()) Die(p.status().ToString());
  return std::move(p).value();
}

void Delta(const std::string& dir) {
  std::string path = dir + "/delta.db";
  unlink(path.c_str());
  auto db = OpenDb(path);
  uint32_t page_no;
  {
    auto txn = db->BeginWrite();
    uint8_t* page;
    page_no = *(*txn)->Allocate(pager::PageKind::kRaw, &page);
    std::memset(page + 24, 'a', 4000);
    Check((*txn)->Commit());
  }
  const uint64_t before = db->wal_bytes();
  auto txn = db->BeginWrite();
  uint8_t* page = *(*txn)->Write(page_no);
  std::memcpy(page + 1000, "key00042val00042", 16);  // one 16-byte record
  (*txn)->NoteWrite(page_no, 1000, 16);
  Check((*txn)->Commit());
  std::printf("log bytes for a 16-byte change of an imaged 4 KiB page: %llu\n",
              static_cast<unsigned long long>(db->wal_bytes() - before));
}

void Group(const std::string& dir, int threads, int n) {
  std::string path = dir + "/group.db";
  unlink(path.c_str());
  auto db = OpenDb(path);
  std::vector<uint32_t> pages(threads);
  {
    auto txn = db->BeginWrite();
    for (int i = 0; i < threads; ++i) {
      uint8_t* page;
      pages[i] = *(*txn)->Allocate(pager::PageKind::kRaw, &page);
    }
    Check((*txn)->Commit());
  }
  auto* m = db->metrics();
  const uint64_t fsyncs0 = m->Value("fsyncs"), commits0 = m->Value("commits");
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < n; ++i) {
        auto txn = db->BeginWrite();
        uint8_t* page = *(*txn)->Write(pages[t]);
        std::memcpy(page + 100, &i, sizeof(i));
        (*txn)->NoteWrite(pages[t], 100, sizeof(i));
        Check((*txn)->Commit());
      }
    });
  }
  for (auto& w : workers) w.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const uint64_t fsyncs = m->Value("fsyncs") - fsyncs0, commits = m->Value("commits") - commits0;
  std::printf(
      "%d threads x %d durable commits: %llu commits, %llu fsyncs, %.2f commits/fsync, "
      "%.0f commits/s\n",
      threads, n, static_cast<unsigned long long>(commits), static_cast<unsigned long long>(fsyncs),
      fsyncs ? double(commits) / double(fsyncs) : 0.0, commits / secs);
}

void Recovery(const std::string& dir, int mib) {
  std::string path = dir + "/recovery.db";
  for (const char* suffix : {"", "-wal", "-lock"}) unlink((path + suffix).c_str());
  pid_t pid = fork();
  if (pid == 0) {  // build a log of `mib` MiB, then die without closing
    Options o;
    o.wal_checkpoint_bytes = uint64_t{1} << 40;
    o.durability = sombra::Durability::kOff;
    auto db = OpenDb(path, o);
    std::vector<uint32_t> pages;
    uint64_t i = 0;
    while (db->wal_bytes() < uint64_t(mib) << 20) {
      auto txn = db->BeginWrite();
      if (pages.size() < 2000) {
        uint8_t* page;
        pages.push_back(*(*txn)->Allocate(pager::PageKind::kRaw, &page));
        for (int b = 24; b < 4096; b += 8) std::memcpy(page + b, &i, 8);
      }
      for (int k = 0; k < 8; ++k) {
        uint32_t p = pages[(i * 7 + k * 131) % pages.size()];
        uint8_t* page = *(*txn)->Write(p);
        uint32_t off = 24 + (i * 40 + k * 8) % 4000;
        std::memcpy(page + off, &i, 8);
        (*txn)->NoteWrite(p, off, 8);
      }
      Check((*txn)->Commit());
      ++i;
    }
    std::printf("built a %llu-byte log with %llu transactions\n",
                static_cast<unsigned long long>(db->wal_bytes()),
                static_cast<unsigned long long>(i));
    std::fflush(stdout);
    _exit(0);  // no clean close: the log stays
  }
  int status = 0;
  waitpid(pid, &status, 0);
  auto start = Clock::now();
  auto db = OpenDb(path);
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  const auto& r = db->recovery();
  std::printf("recovery: %llu transactions, %llu records replayed, checkpointed, in %.0f ms\n",
              static_cast<unsigned long long>(r.transactions_replayed),
              static_cast<unsigned long long>(r.records_replayed), ms);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: sombra-wal-probe fsync|delta|group|recovery DIR [args]\n");
    return 2;
  }
  std::string cmd = argv[1], dir = argv[2];
  auto arg = [&](int i, int def) { return argc > i ? std::atoi(argv[i]) : def; };
  if (cmd == "fsync") {
    Fsync(dir, arg(3, 200));
  } else if (cmd == "delta") {
    Delta(dir);
  } else if (cmd == "group") {
    Group(dir, 1, arg(4, 200));
    Group(dir, arg(3, 8), arg(4, 200));
  } else if (cmd == "recovery") {
    Recovery(dir, arg(3, 64));
  } else {
    Die("unknown command " + cmd);
  }
  return 0;
}
