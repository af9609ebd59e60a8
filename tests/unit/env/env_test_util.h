// Helpers shared by the env tests (tests/unit/env only).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "env/env.h"
#include "sombra/status.h"
#include "util/result.h"

// Asserts that `expr` (a Status or a Result<T>) is OK, printing the status.
#define ENV_ASSERT_OK(expr)                                                                \
  do {                                                                                     \
    const auto& env_assert_ok_ = (expr);                                                   \
    const ::sombra::Status& env_assert_st_ = ::sombra::internal::StatusOf(env_assert_ok_); \
    ASSERT_TRUE(env_assert_st_.ok()) << env_assert_st_.ToString();                         \
  } while (0)

#define ENV_EXPECT_OK(expr)                                                                \
  do {                                                                                     \
    const auto& env_expect_ok_ = (expr);                                                   \
    const ::sombra::Status& env_expect_st_ = ::sombra::internal::StatusOf(env_expect_ok_); \
    EXPECT_TRUE(env_expect_st_.ok()) << env_expect_st_.ToString();                         \
  } while (0)

// `lhs` = value of the Result<T> `expr`; fails the test (and returns) if not OK.
#define ENV_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ENV_ASSERT_OK_AND_ASSIGN_IMPL_(SOMBRA_CONCAT_(env_aoa_, __LINE__), lhs, expr)
#define ENV_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();    \
  lhs = std::move(tmp).value()

namespace sombra {

// Reads the whole file through `file`.
inline std::string ReadAll(File* file) {
  Result<uint64_t> size = file->Size();
  if (!size.ok()) {
    ADD_FAILURE() << size.status().ToString();
    return {};
  }
  std::string out(*size, '\0');
  Status s = file->ReadExactly(0, out.size(), out.data());
  if (!s.ok()) ADD_FAILURE() << s.ToString();
  return out;
}

// `n` pseudo-random bytes.
inline std::string RandomBytes(std::mt19937_64* rng, size_t n) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>((*rng)() & 0xFF);
  return out;
}

// A deterministic pattern that differs between nearby offsets and tags.
inline std::string Pattern(size_t n, uint8_t tag) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>((i * 131 + tag * 7 + (i >> 9)) & 0xFF);
  return out;
}

}  // namespace sombra
