// pager/beside_writer.h: telling a race with a writer in another process
// from damage, for reads that happen outside a registered snapshot.
//
// A read-only handle registers its snapshot in `<path>-shm` and the
// writer's checkpoints respect it (docs/design/readers.md), so what is read
// through a snapshot never changes. What is read before or beside one can
// race with the writer: the meta pages, which each checkpoint rewrites
// with one pwrite (a read can see it torn), and the log, which a clean
// close truncates and a checkpoint restarts under a reading done outside
// the pager (sombra-inspect's `wal`). RetryBesideWriter tells such a race
// from damage: a failure stands only once it repeats, the same, over two
// attempts during which no writer held the database and neither file
// changed. The meta pages are read so by ReadSettledMetas
// (pager/settled_meta.h), which DB::Verify and sombra-inspect use.
//
// POSIX: the writer's mark is an OFD lock (docs/format/shm.md, "Locks")
// and a file's stamp is stat(2); like the reader table itself, this does
// not go through Env (which has neither).
//
// Thread safety: the functions keep no state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace sombra::pager {

// Attempts before a failure beside a writer is reported as it is (about a
// second with the pauses of RetryBesideWriter).
constexpr int kBesideWriterAttempts = 200;

// True when a handle of any process holds the database's writer mark: a
// writer has it open now. Opens `<db_path>-shm` read-only and only tests
// the lock: creates, changes and locks nothing (closing the descriptor
// drops no lock of another open file description).
bool WriterHoldsMark(const std::string& db_path);

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
FileStamp StampOf(const std::string& path);

// The page file and its log.
struct DbStamp {
  FileStamp file;
  FileStamp log;
  bool operator==(const DbStamp&) const = default;
};
DbStamp StampDb(const std::string& db_path);

// Runs `attempt` until it returns "" (done), or a failure stands:
// attempt's non-empty result (a description of the failure, the same for
// the same failure) returned twice in a row by quiet attempts: neither the
// page file nor its log changed during them and, when `writer_counts`, no
// writer held the database (pass false when only a write of the page file
// can cause the failure). Gives up after kBesideWriterAttempts, the last
// failure standing. After an attempt that was not quiet it pauses (1 ms,
// 5 ms after the tenth) to let the writer go on; a quiet one is confirmed
// at once, so a damaged database at rest costs one more attempt and no
// wait.
void RetryBesideWriter(const std::string& db_path, const std::function<std::string()>& attempt,
                       bool writer_counts = true);

}  // namespace sombra::pager
