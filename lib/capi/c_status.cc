// capi/c_status.cc: sombra_status names, sombra_error, sombra_free and the
// boundary that turns a Status or an exception into a code and an error.
//
// An error is one malloc'd block (the struct, then its message), so making
// one never throws; when even that fails the caller gets a static
// out-of-memory error, which sombra_error_free leaves alone.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "capi/c_handles.h"

// The codes below 100 are sombra::Status::Code's (c.h).
static_assert(SOMBRA_OK == static_cast<int>(sombra::Status::Code::kOk));
static_assert(SOMBRA_NOT_FOUND == static_cast<int>(sombra::Status::Code::kNotFound));
static_assert(SOMBRA_CORRUPTION == static_cast<int>(sombra::Status::Code::kCorruption));
static_assert(SOMBRA_NOT_SUPPORTED == static_cast<int>(sombra::Status::Code::kNotSupported));
static_assert(SOMBRA_INVALID_ARGUMENT == static_cast<int>(sombra::Status::Code::kInvalidArgument));
static_assert(SOMBRA_IO_ERROR == static_cast<int>(sombra::Status::Code::kIOError));
static_assert(SOMBRA_BUSY == static_cast<int>(sombra::Status::Code::kBusy));

namespace sombra::capi {
namespace {

sombra_error kNoMemoryError = {SOMBRA_NO_MEMORY, 0, "out of memory (in the Sombra C API)"};

sombra_error* NewError(sombra_status code, std::string_view message, int sys_errno) noexcept {
  void* block = std::malloc(sizeof(sombra_error) + message.size() + 1);
  if (block == nullptr) return &kNoMemoryError;
  auto* e = static_cast<sombra_error*>(block);
  char* text = static_cast<char*>(block) + sizeof(sombra_error);
  if (!message.empty()) std::memcpy(text, message.data(), message.size());
  text[message.size()] = '\0';
  e->code = code;
  e->sys_errno = sys_errno;
  e->message = text;
  return e;
}

void Clear(sombra_error** err) noexcept {
  if (err == nullptr) return;
  sombra_error_free(*err);
  *err = nullptr;
}

sombra_status CodeOf(Status::Code code) {
  // The enum values are equal by design (c.h); listed so that a new C++
  // code breaks the build here rather than arrive as an unknown number.
  switch (code) {
    case Status::Code::kOk:
      return SOMBRA_OK;
    case Status::Code::kNotFound:
      return SOMBRA_NOT_FOUND;
    case Status::Code::kCorruption:
      return SOMBRA_CORRUPTION;
    case Status::Code::kNotSupported:
      return SOMBRA_NOT_SUPPORTED;
    case Status::Code::kInvalidArgument:
      return SOMBRA_INVALID_ARGUMENT;
    case Status::Code::kIOError:
      return SOMBRA_IO_ERROR;
    case Status::Code::kBusy:
      return SOMBRA_BUSY;
  }
  return SOMBRA_INTERNAL_ERROR;
}

}  // namespace

sombra_status Fail(sombra_error** err, sombra_status code, std::string_view message,
                   int sys_errno) noexcept {
  if (err != nullptr) {
    sombra_error_free(*err);
    *err = NewError(code, message, sys_errno);
  }
  return code;
}

sombra_status Report(sombra_error** err, const Status& s) noexcept {
  if (s.ok()) {
    Clear(err);
    return SOMBRA_OK;
  }
  return Fail(err, CodeOf(s.code()), s.message(), s.sys_errno());
}

sombra_status ReportException(sombra_error** err) noexcept {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return Fail(err, SOMBRA_NO_MEMORY, "out of memory (std::bad_alloc in the Sombra library)");
  } catch (const std::exception& e) {
    char message[256];
    std::snprintf(message, sizeof(message), "unexpected C++ exception in the Sombra library: %s",
                  e.what());
    return Fail(err, SOMBRA_INTERNAL_ERROR, message);
  } catch (...) {
    return Fail(err, SOMBRA_INTERNAL_ERROR, "unexpected exception in the Sombra library");
  }
}

Status CheckHandle(const void* handle, const char* what) {
  if (handle != nullptr) return Status::OK();
  return Status::InvalidArgument(std::string(what) + " is NULL");
}

Status CheckBytes(const void* data, size_t size, const char* what) {
  if (data != nullptr || size == 0) return Status::OK();
  return Status::InvalidArgument(std::string(what) + " is NULL with a length of " +
                                 std::to_string(size));
}

Status CheckNotWriter(const sombra_db* db, const char* what) {
  if (db->writer.load() != std::this_thread::get_id()) return Status::OK();
  return Status::Busy(std::string(what) + " on " + db->db->path() +
                      ": this thread holds the database's open write transaction, and " + what +
                      " would wait for it");
}

}  // namespace sombra::capi

extern "C" {

const char* sombra_status_name(sombra_status code) {
  switch (code) {
    case SOMBRA_OK:
      return "OK";
    case SOMBRA_NOT_FOUND:
      return "NotFound";
    case SOMBRA_CORRUPTION:
      return "Corruption";
    case SOMBRA_NOT_SUPPORTED:
      return "NotSupported";
    case SOMBRA_INVALID_ARGUMENT:
      return "InvalidArgument";
    case SOMBRA_IO_ERROR:
      return "IOError";
    case SOMBRA_BUSY:
      return "Busy";
    case SOMBRA_BUFFER_TOO_SMALL:
      return "BufferTooSmall";
    case SOMBRA_NO_MEMORY:
      return "NoMemory";
    case SOMBRA_INTERNAL_ERROR:
      return "InternalError";
  }
  return "Unknown";
}

sombra_status sombra_error_code(const sombra_error* err) {
  return err == nullptr ? SOMBRA_OK : err->code;
}

const char* sombra_error_message(const sombra_error* err) {
  return err == nullptr ? "" : err->message;
}

int sombra_error_sys_errno(const sombra_error* err) { return err == nullptr ? 0 : err->sys_errno; }

int sombra_error_is_no_space(const sombra_error* err) {
  return err != nullptr && err->code == SOMBRA_IO_ERROR &&
         (err->sys_errno == ENOSPC || err->sys_errno == EDQUOT);
}

void sombra_error_free(sombra_error* err) {
  if (err != &sombra::capi::kNoMemoryError) std::free(err);
}

void sombra_free(void* ptr) { std::free(ptr); }

}  // extern "C"
