// Fuzz target: sombra-inspect (inspect::RunInspect, in process) on an
// arbitrary page file and log (fuzz_util.h: the input holds both), every
// command, text and JSON.
//
// Invariant: no crash, sanitizer report or hang; the exit code is 0, 1 or
// 2; an exit code of 2 comes with exactly one "sombra-inspect: " line on
// stderr; the files are never changed.
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "inspect/inspect.h"

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sombra::fuzz::Fail;
  const sombra::fuzz::FilePair files = sombra::fuzz::Split(data, size);
  const std::string path = sombra::fuzz::LayOut(files);
  const std::vector<std::vector<std::string>> commands = {{"meta"},
                                                          {"page", "0"},
                                                          {"page", "1"},
                                                          {"page", "2", "--hex"},
                                                          {"tree", "--verbose"},
                                                          {"tree", "--tree", "x"},
                                                          {"catalog"},
                                                          {"freelist"},
                                                          {"stats"},
                                                          {"verify"},
                                                          {"wal"}};
  for (const auto& command : commands) {
    for (bool json : {false, true}) {
      std::vector<std::string> args = {path};
      args.insert(args.end(), command.begin(), command.end());
      if (json) args.push_back("--json");
      std::ostringstream out, err;
      const int rc = sombra::inspect::RunInspect(args, out, err);
      if (rc < 0 || rc > 2) Fail("exit code " + std::to_string(rc));
      if (rc == 2 && err.str().rfind("sombra-inspect: ", 0) != 0) {
        Fail("exit 2 without an error line: " + err.str());
      }
    }
  }
  if (ReadAll(path) != files.db) Fail("sombra-inspect changed the page file");
  if (!files.wal.empty() && ReadAll(path + "-wal") != files.wal) {
    Fail("sombra-inspect changed the log");
  }
  return 0;
}
