// sombra/version.h: the library's version and the on-disk formats this
// build writes. The version equals CMakeLists.txt's project VERSION (a
// test compares them); `sombra --version`, `sombra-inspect --version` and
// `compare-bench --version` print VersionLine.
#pragma once

#include <string>

namespace sombra {

inline constexpr int kVersionMajor = 0;
inline constexpr int kVersionMinor = 9;
inline constexpr int kVersionPatch = 0;
inline constexpr const char kVersion[] = "0.9.0";
// The page file format this build reads and writes (docs/format/file.md).
inline constexpr int kPageFileFormat = 5;
// The newest write-ahead log format it writes (docs/format/wal.md); it
// reads formats 1 to this one.
inline constexpr int kLogFormat = 13;

// "<tool> 0.9.0 (page file format 5, log format 13)".
inline std::string VersionLine(const std::string& tool) {
  return tool + " " + kVersion + " (page file format " + std::to_string(kPageFileFormat) +
         ", log format " + std::to_string(kLogFormat) + ")";
}

}  // namespace sombra
