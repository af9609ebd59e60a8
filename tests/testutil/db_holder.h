// testutil/db_holder.h: a child process that holds a database open for
// writing (and so its writer lock) until told to let go, for the tests of
// what another process sees meanwhile.
//
//   DbHolder holder(path);          // forks; returns once the child holds it
//   ... another process is refused or waits ...
//   holder.Release();               // the child closes the database and exits
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "sombra/db.h"

namespace sombra::test {

class DbHolder {
 public:
  // The child opens `path` for writing, puts `key` = "held", reports on a
  // pipe, then waits for Release() (or for the parent to go away).
  explicit DbHolder(const std::string& path, const std::string& key = "holder") {
    int ready[2], release[2];
    if (::pipe(ready) != 0 || ::pipe(release) != 0) {
      ADD_FAILURE() << "pipe failed";
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(release[1]);
      std::unique_ptr<DB> db;
      Options o;
      char status = 'x';
      if (DB::Open(o, path, &db).ok() && db->Put(key, "held").ok()) status = 'k';
      (void)!::write(ready[1], &status, 1);
      char c;
      (void)!::read(release[0], &c, 1);  // EOF when the parent is gone, too
      db.reset();
      ::_exit(status == 'k' ? 0 : 1);
    }
    ::close(ready[1]);
    ::close(release[0]);
    release_fd_ = release[1];
    char status = 0;
    const bool got = ::read(ready[0], &status, 1) == 1;
    ::close(ready[0]);
    EXPECT_TRUE(got && status == 'k') << "the holder could not open " << path;
  }
  DbHolder(const DbHolder&) = delete;
  DbHolder& operator=(const DbHolder&) = delete;
  ~DbHolder() { Release(); }

  // Lets the child close the database and waits for it to exit.
  void Release() {
    if (pid_ <= 0) return;
    const char c = 'r';
    (void)!::write(release_fd_, &c, 1);
    ::close(release_fd_);
    int status = 0;
    EXPECT_EQ(::waitpid(pid_, &status, 0), pid_);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "holder status " << status;
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
};

}  // namespace sombra::test
