// testutil/patch_file.h: overwriting bytes of a file in place, for tests
// that damage a database, a log or a page on purpose.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace sombra::test {

// Overwrites bytes at `offset` of the file at `path` (a fatal test failure
// when the file cannot be opened or written).
inline void PatchFile(const std::string& path, uint64_t offset, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "r+b");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(std::fseek(f, static_cast<long>(offset), SEEK_SET), 0);
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
}

}  // namespace sombra::test
