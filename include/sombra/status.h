// sombra/status.h: the result of every Sombra operation that can fail.
//
// No exception crosses the public API. A Status is either OK or carries a
// code and a message that says where ("Corruption: page 17 of /tmp/db:
// checksum mismatch (stored 0x.., computed 0x..)").
//
// Thread safety: a Status is a value; distinct objects may be used from
// distinct threads without synchronisation.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace sombra {

class [[nodiscard]] Status {
 public:
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound = 1,
    kCorruption = 2,
    kNotSupported = 3,
    kInvalidArgument = 4,
    kIOError = 5,
    kBusy = 6,
  };

  Status() = default;  // OK

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status NotSupported(std::string_view msg) { return Status(Code::kNotSupported, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  // sys_errno is the errno that caused the failure, or 0.
  static Status IOError(std::string_view msg, int sys_errno = 0) {
    Status s(Code::kIOError, msg);
    s.errno_ = sys_errno;
    return s;
  }
  static Status Busy(std::string_view msg) { return Status(Code::kBusy, msg); }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  // True for an IOError caused by a full disk (ENOSPC or EDQUOT).
  bool IsNoSpace() const;

  Code code() const { return code_; }
  int sys_errno() const { return errno_; }
  const std::string& message() const { return msg_; }

  // "OK", or "<Code>: <message>".
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>"; OK stays OK.
  Status WithContext(std::string_view prefix) const;

 private:
  Status(Code code, std::string_view msg) : code_(code), msg_(msg) {}

  Code code_ = Code::kOk;
  int errno_ = 0;
  std::string msg_;
};

}  // namespace sombra
