#include "cli_run.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>

#include "testutil/temp_dir.h"

extern char** environ;

namespace sombra::cli::test {

std::string SombraBinary() { return SOMBRA_CLI_BINARY; }

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

std::string SombraCommand(const std::vector<std::string>& args) {
  std::string cmd = ShellQuote(SombraBinary());
  for (const std::string& a : args) cmd += " " + ShellQuote(a);
  return cmd;
}

RunResult RunShell(const std::string& dir, const std::string& script) {
  static std::atomic<int> counter{0};
  const std::string tag = std::to_string(counter++);
  const std::string out_path = dir + "/.run" + tag + ".out";
  const std::string err_path = dir + "/.run" + tag + ".err";
  const std::string full = "cd " + ShellQuote(dir) + " && { " + script + "\n} >" +
                           ShellQuote(out_path) + " 2>" + ShellQuote(err_path);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  const char* argv[] = {"/bin/sh", "-c", full.c_str(), nullptr};
  pid_t pid = 0;
  RunResult r;
  const int rc = posix_spawn(&pid, "/bin/sh", &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn /bin/sh failed: " << rc;
    return r;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      ADD_FAILURE() << "waitpid failed";
      return r;
    }
  }
  if (WIFEXITED(status)) {
    r.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.code = 128 + WTERMSIG(status);
  }
  r.out = sombra::test::ReadFileOrDie(out_path);
  r.err = sombra::test::ReadFileOrDie(err_path);
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  return r;
}

RunResult RunSombra(const std::string& dir, const std::vector<std::string>& args,
                    const std::string& stdin_path) {
  std::string script = SombraCommand(args);
  if (!stdin_path.empty()) script += " <" + ShellQuote(stdin_path);
  return RunShell(dir, script);
}

size_t CountLines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

}  // namespace sombra::cli::test
