// fuzz/fuzz_util.h: what the libFuzzer targets share (docs/fuzzing.md).
//
// Inputs that stand for two files (a page file and its log) are split by
// their first 4 bytes: a little-endian length of the page file part,
// clamped to what follows; the rest is the log (absent when empty).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace sombra::fuzz {

// Aborts with a message: the target's invariant does not hold.
[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what.c_str());
  std::abort();
}

struct FilePair {
  std::string_view db;
  std::string_view wal;
};

inline FilePair Split(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.size() < 4) return FilePair{in, {}};
  uint32_t n = uint32_t(uint8_t(in[0])) | uint32_t(uint8_t(in[1])) << 8 |
               uint32_t(uint8_t(in[2])) << 16 | uint32_t(uint8_t(in[3])) << 24;
  in.remove_prefix(4);
  if (n > in.size()) n = static_cast<uint32_t>(in.size());
  return FilePair{in.substr(0, n), in.substr(n)};
}

// A directory of this process's own, below $SOMBRA_FUZZ_SCRATCH (set by
// scripts/fuzz.sh), else /dev/shm when there is one (the targets write
// their files on every run), else /tmp.
inline const std::string& ScratchDir() {
  static const std::string dir = [] {
    const char* env = std::getenv("SOMBRA_FUZZ_SCRATCH");
    std::string base = env != nullptr && *env != '\0'  ? std::string(env)
                       : access("/dev/shm", W_OK) == 0 ? std::string("/dev/shm")
                                                       : std::string("/tmp");
    std::string d = base + "/sombra-fuzz-" + std::to_string(getpid());
    std::string cmd = "mkdir -p '" + d + "'";
    if (std::system(cmd.c_str()) != 0) Fail("cannot make " + d);
    return d;
  }();
  return dir;
}

// Writes `bytes` to `path` (replacing it); removes it when `present` is false.
inline void WriteFile(const std::string& path, std::string_view bytes, bool present = true) {
  unlink(path.c_str());
  if (!present) return;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) Fail("cannot write " + path);
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
    Fail("short write to " + path);
  }
  std::fclose(f);
}

// Lays out the pair as PATH and PATH-wal (no log file when the log part is
// empty) and removes what an earlier run left beside them.
inline std::string LayOut(const FilePair& files) {
  const std::string path = ScratchDir() + "/db";
  for (const char* suffix : {"-lock", "-wal.salvaged", "-shm"}) unlink((path + suffix).c_str());
  WriteFile(path, files.db);
  WriteFile(path + "-wal", files.wal, !files.wal.empty());
  return path;
}

}  // namespace sombra::fuzz
