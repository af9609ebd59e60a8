// cli_run.h: run the sombra binary (or a shell pipeline using it) and
// capture its output and exit status.
#pragma once

#include <string>
#include <vector>

namespace sombra::cli::test {

struct RunResult {
  int code = -1;  // exit status, or 128 + signal number
  std::string out;
  std::string err;
};

// The path of the sombra binary under test.
std::string SombraBinary();

// `s` single-quoted for /bin/sh.
std::string ShellQuote(const std::string& s);

// "'<binary>' 'arg1' 'arg2' ..." for use inside a shell script.
std::string SombraCommand(const std::vector<std::string>& args);

// Runs `/bin/sh -c script` in `dir` with stdin from /dev/null unless the
// script redirects it, capturing stdout and stderr (to files in `dir`).
RunResult RunShell(const std::string& dir, const std::string& script);

// Runs sombra with `args` in `dir`; stdin from the file `stdin_path` when
// given, else /dev/null.
RunResult RunSombra(const std::string& dir, const std::vector<std::string>& args,
                    const std::string& stdin_path = "");

// Number of '\n' characters in `s`.
size_t CountLines(const std::string& s);

}  // namespace sombra::cli::test
