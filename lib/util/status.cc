#include "sombra/status.h"

#include <cerrno>

namespace sombra {

bool Status::IsNoSpace() const {
  return code_ == Code::kIOError && (errno_ == ENOSPC || errno_ == EDQUOT);
}

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      name = "NotFound";
      break;
    case Code::kCorruption:
      name = "Corruption";
      break;
    case Code::kNotSupported:
      name = "NotSupported";
      break;
    case Code::kInvalidArgument:
      name = "InvalidArgument";
      break;
    case Code::kIOError:
      name = "IOError";
      break;
    case Code::kBusy:
      name = "Busy";
      break;
  }
  std::string out(name);
  if (!msg_.empty()) {
    out += ": ";
    out += msg_;
  }
  return out;
}

Status Status::WithContext(std::string_view prefix) const {
  if (ok()) return *this;
  Status s = *this;
  std::string msg(prefix);
  msg += ": ";
  msg += msg_;
  s.msg_ = std::move(msg);
  return s;
}

}  // namespace sombra
