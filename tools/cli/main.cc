// sombra: the command-line tool; see cli/cli.h and docs/cli.md.
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  int64_t in_size = -1;
  struct stat st;
  if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
    in_size = static_cast<int64_t>(st.st_size);
  }
  const bool err_is_tty = isatty(STDERR_FILENO) == 1;
  const int code = sombra::cli::RunCli(args, std::cin, std::cout, std::cerr, err_is_tty, in_size);
  std::cout.flush();
  return code;
}
