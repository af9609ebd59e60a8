// util/result.h: Result<T>, a value or the Status that explains its absence,
// and the two propagation macros every layer uses.
#pragma once

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>

#include "sombra/status.h"

namespace sombra {

// Invariants:
//  1. Exactly one of {value, non-OK status} is present.
//  2. A Result is never constructed from an OK Status without a value.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : value_(value) {}             // NOLINT: implicit by design
  Result(T&& value) : value_(std::move(value)) {}       // NOLINT
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok() && "Result built from an OK Status without a value");
    if (status_.ok()) status_ = Status::InvalidArgument("Result built from OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

namespace internal {
inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace sombra

#define SOMBRA_CONCAT_INNER_(a, b) a##b
#define SOMBRA_CONCAT_(a, b) SOMBRA_CONCAT_INNER_(a, b)

// Returns the Status of `expr` (a Status or a Result<T>) from the enclosing
// function when it is not OK.
#define SOMBRA_RETURN_IF_ERROR(expr)                     \
  do {                                                   \
    const auto& sombra_rie_ = (expr);                    \
    if (!::sombra::internal::StatusOf(sombra_rie_).ok()) \
      return ::sombra::internal::StatusOf(sombra_rie_);  \
  } while (0)

// `lhs` = the value of the Result<T> `expr`, or return its Status.
#define SOMBRA_ASSIGN_OR_RETURN(lhs, expr) \
  SOMBRA_ASSIGN_OR_RETURN_IMPL_(SOMBRA_CONCAT_(sombra_aor_, __LINE__), lhs, expr)
#define SOMBRA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
