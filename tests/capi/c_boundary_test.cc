// The boundary of the C API (lib/capi/c_status.cc, compiled into this
// test): a Status becomes a code and an error, and every exception a body
// throws (std::bad_alloc included) is caught and turned into a code, never
// let through to C. The exported functions all run their bodies through
// this Guard; libsombra.so gives no way to make the C++ layers throw.
#include <gtest/gtest.h>

#include <cerrno>
#include <new>
#include <stdexcept>
#include <string>

#include "capi/c_handles.h"

namespace sombra::capi {
namespace {

class Err {
 public:
  ~Err() { sombra_error_free(e_); }
  sombra_error** out() { return &e_; }
  sombra_error* get() const { return e_; }

 private:
  sombra_error* e_ = nullptr;
};

TEST(CapiBoundaryTest, BadAllocBecomesNoMemory) {
  Err e;
  const sombra_status s = Guard(e.out(), []() -> Status { throw std::bad_alloc(); });
  EXPECT_EQ(s, SOMBRA_NO_MEMORY);
  EXPECT_EQ(sombra_error_code(e.get()), SOMBRA_NO_MEMORY);
  EXPECT_STREQ(sombra_error_message(e.get()),
               "out of memory (std::bad_alloc in the Sombra library)");
}

TEST(CapiBoundaryTest, OtherExceptionsBecomeInternalError) {
  Err e;
  EXPECT_EQ(Guard(e.out(), []() -> Status { throw std::runtime_error("boom"); }),
            SOMBRA_INTERNAL_ERROR);
  EXPECT_STREQ(sombra_error_message(e.get()),
               "unexpected C++ exception in the Sombra library: boom");
  EXPECT_EQ(Guard(e.out(), []() -> Status { throw 42; }), SOMBRA_INTERNAL_ERROR);
  EXPECT_STREQ(sombra_error_message(e.get()), "unexpected exception in the Sombra library");
  // A what() longer than the message buffer is cut, not overrun.
  const std::string longer(1000, 'w');
  EXPECT_EQ(Guard(e.out(), [&]() -> Status { throw std::runtime_error(longer); }),
            SOMBRA_INTERNAL_ERROR);
  EXPECT_LT(std::string(sombra_error_message(e.get())).size(), 256u);
}

TEST(CapiBoundaryTest, StatusCodesMessagesAndErrno) {
  Err e;
  EXPECT_EQ(Guard(e.out(), [] { return Status::IOError("disk full", ENOSPC); }), SOMBRA_IO_ERROR);
  EXPECT_STREQ(sombra_error_message(e.get()), "disk full");
  EXPECT_EQ(sombra_error_sys_errno(e.get()), ENOSPC);
  EXPECT_EQ(sombra_error_is_no_space(e.get()), 1);
  EXPECT_EQ(Guard(e.out(), [] { return Status::IOError("eio", EIO); }), SOMBRA_IO_ERROR);
  EXPECT_EQ(sombra_error_is_no_space(e.get()), 0);
  EXPECT_EQ(Guard(e.out(), [] { return Status::Corruption("c"); }), SOMBRA_CORRUPTION);
  EXPECT_EQ(Guard(e.out(), [] { return Status::NotSupported("n"); }), SOMBRA_NOT_SUPPORTED);
  EXPECT_EQ(Guard(e.out(), [] { return Status::Busy("b"); }), SOMBRA_BUSY);
  EXPECT_EQ(Guard(e.out(), [] { return Status::NotFound("n"); }), SOMBRA_NOT_FOUND);
  EXPECT_EQ(Guard(e.out(), [] { return Status::InvalidArgument("i"); }), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(sombra_error_code(e.get()), SOMBRA_INVALID_ARGUMENT);
  EXPECT_EQ(Guard(e.out(), [] { return Status::OK(); }), SOMBRA_OK);
  EXPECT_EQ(e.get(), nullptr);
}

TEST(CapiBoundaryTest, NoErrorOutParameter) {
  EXPECT_EQ(Guard(nullptr, []() -> Status { throw std::bad_alloc(); }), SOMBRA_NO_MEMORY);
  EXPECT_EQ(Guard(nullptr, [] { return Status::Busy("b"); }), SOMBRA_BUSY);
  EXPECT_EQ(Fail(nullptr, SOMBRA_BUFFER_TOO_SMALL, "m"), SOMBRA_BUFFER_TOO_SMALL);
}

TEST(CapiBoundaryTest, EmptyMessageAndBinaryMessage) {
  Err e;
  EXPECT_EQ(Fail(e.out(), SOMBRA_CORRUPTION, ""), SOMBRA_CORRUPTION);
  EXPECT_STREQ(sombra_error_message(e.get()), "");
  EXPECT_EQ(Fail(e.out(), SOMBRA_CORRUPTION, std::string_view("a\0b", 3)), SOMBRA_CORRUPTION);
  EXPECT_EQ(std::string(sombra_error_message(e.get()), 3), std::string("a\0b", 3));
}

}  // namespace
}  // namespace sombra::capi
