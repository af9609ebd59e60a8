// inspect/live.h: reading a database a writer in another process has open,
// for sombra-inspect and the read commands of sombra (header-only; both
// tools include it). docs/tools.md and docs/cli.md, "Live databases".
//
// A read-only handle registers its snapshot in `<path>-shm` and the
// writer's checkpoints respect it (docs/design/readers.md), so what is read
// through a snapshot never changes. What is read before or beside one can
// race with the writer: the log, which a clean close truncates and a
// checkpoint restarts under the reading (a short read, a torn header), and
// the meta pages, which each checkpoint rewrites. RetryBesideWriter tells
// such a race from damage: a failure stands only once it repeats, the
// same, over two attempts during which no writer held the database and
// neither file changed; ReadSettledMetas reads the meta pages so.
//
// Thread safety: the functions keep no state.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "env/env.h"
#include "env/reader_table.h"
#include "pager/format.h"
#include "pager/meta.h"
#include "pager/pager.h"
#include "util/result.h"

namespace sombra::live {

// Attempts before a failure beside a writer is reported as it is (about a
// second with the pauses below).
constexpr int kAttempts = 200;

// True when a handle of any process holds the database's writer mark
// (docs/format/shm.md, "Locks"): a writer has it open now. Opens
// `<db_path>-shm` read-only and only tests the lock: creates, changes and
// locks nothing (closing the descriptor drops no lock of another open file
// description).
inline bool WriterHoldsMark(const std::string& db_path) {
  const int fd = ::open((db_path + "-shm").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // no table: no handle has the database open
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(kShmWriterLockByte);
  fl.l_len = 1;
  const bool held = ::fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

// A writer had the database at `db_path` open while `pager` (may be null)
// read it: the pager saw one at open or when it caught up with the log,
// or one holds the writer's mark now.
inline bool SawWriter(const pager::Pager* pager, const std::string& db_path) {
  if (pager != nullptr && pager->saw_live_writer()) return true;
  const ReaderTable* table = pager != nullptr ? pager->reader_table() : nullptr;
  return table != nullptr ? table->WriterAlive() : WriterHoldsMark(db_path);
}

// Failures of a read-only open that a writer elsewhere can cause (its log
// restarted or truncated, a meta page rewritten under the reading): worth
// another attempt, see RetryBesideWriter.
inline bool Transient(const Status& s) { return s.IsIOError() || s.IsCorruption() || s.IsBusy(); }

// What a write changes in a file: its inode (a log replaced by a rename),
// size, and modification and change times.
struct FileStamp {
  bool exists = false;
  uint64_t ino = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

inline FileStamp StampOf(const std::string& path) {
  FileStamp s;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return s;
  s.exists = true;
  s.ino = static_cast<uint64_t>(st.st_ino);
  s.size = static_cast<int64_t>(st.st_size);
  s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  s.ctime_ns = int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
  return s;
}

// The page file and its log.
struct DbStamp {
  FileStamp file;
  FileStamp log;
  bool operator==(const DbStamp&) const = default;
};

inline DbStamp StampDb(const std::string& db_path) {
  return DbStamp{StampOf(db_path), StampOf(db_path + "-wal")};
}

// Runs `attempt` (a callable returning std::string) until it returns ""
// (done), or a failure stands: attempt's non-empty result (a description
// of the failure, the same for the same failure) returned twice in a row
// by quiet attempts: neither the page file nor its log changed during
// them and, when `writer_counts`, no writer held the database (pass false
// when only a write of the page file can cause the failure). Gives up
// after kAttempts, the last failure standing. After an attempt that was
// not quiet it pauses (1 ms, 5 ms after the tenth) to let the writer go
// on; a quiet one is confirmed at once, so a damaged database at rest
// costs one more attempt and no wait.
template <typename Attempt>
void RetryBesideWriter(const std::string& db_path, Attempt&& attempt, bool writer_counts = true) {
  std::string last;  // the previous quiet attempt's failure
  for (int n = 1;; ++n) {
    const DbStamp before = StampDb(db_path);
    std::string failure = attempt();
    if (failure.empty() || n >= kAttempts) return;
    const bool quiet = StampDb(db_path) == before && !(writer_counts && WriterHoldsMark(db_path));
    if (quiet && failure == last) return;
    last = quiet ? std::move(failure) : std::string();
    if (!quiet) std::this_thread::sleep_for(std::chrono::milliseconds(n < 10 ? 1 : 5));
  }
}

using MetaPages = std::vector<uint8_t>[2];

// pager::ReadNewestMeta of the page file `file` at `db_path`, whose pages
// are `page_size` bytes, beside a writer whose checkpoint may be writing a
// meta page (one pwrite: a read racing with it may see it torn): both
// pages are read before and after the choice and read again until they
// did not change in between and either both are valid or one is invalid
// the same way twice with the page file unchanged (damage). *pages (when
// not null) gets the two pages the choice was made from (fewer bytes when
// the file is shorter).
inline Result<pager::MetaChoice> ReadSettledMetas(File* file, const std::string& db_path,
                                                  uint32_t page_size, MetaPages* pages = nullptr) {
  auto read_both = [&](MetaPages& out) {
    for (uint32_t slot : {pager::kMetaPageA, pager::kMetaPageB}) {
      out[slot].assign(page_size, 0);
      size_t got = 0;
      if (!file->ReadAt(uint64_t{slot} * page_size, page_size,
                        reinterpret_cast<char*>(out[slot].data()), &got)
               .ok()) {
        got = 0;
      }
      out[slot].resize(got);
    }
  };
  Result<pager::MetaChoice> choice = Status::Corruption("meta pages of " + db_path + " not read");
  MetaPages before, after;
  int changed = 0;
  RetryBesideWriter(
      db_path,
      [&]() -> std::string {
        read_both(before);
        choice = pager::ReadNewestMeta(file);
        read_both(after);
        if (before[0] != after[0] || before[1] != after[1]) {
          return "changed under the reading " + std::to_string(++changed);  // never repeats
        }
        if (!choice.ok()) return choice.status().ToString();
        if (choice->slot_status[0].ok() && choice->slot_status[1].ok()) return "";
        return choice->slot_status[0].ToString() + "; " + choice->slot_status[1].ToString() + "; " +
               std::string(after[0].begin(), after[0].end()) +
               std::string(after[1].begin(), after[1].end());
      },
      /*writer_counts=*/false);
  if (pages != nullptr) {
    (*pages)[0] = std::move(after[0]);
    (*pages)[1] = std::move(after[1]);
  }
  return choice;
}

}  // namespace sombra::live
