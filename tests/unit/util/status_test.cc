// Tests of sombra::Status, Result<T> and the propagation macros.
#include "sombra/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>
#include <utility>

#include "util/result.h"

namespace sombra {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kOk);
  EXPECT_EQ(s.sys_errno(), 0);
  EXPECT_TRUE(s.message().empty());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(Status::OK().ok());
}

TEST(StatusTest, CodesAndPredicates) {
  struct Case {
    Status status;
    Status::Code code;
    const char* name;
  };
  const Case cases[] = {
      {Status::NotFound("m"), Status::Code::kNotFound, "NotFound"},
      {Status::Corruption("m"), Status::Code::kCorruption, "Corruption"},
      {Status::NotSupported("m"), Status::Code::kNotSupported, "NotSupported"},
      {Status::InvalidArgument("m"), Status::Code::kInvalidArgument, "InvalidArgument"},
      {Status::IOError("m"), Status::Code::kIOError, "IOError"},
      {Status::Busy("m"), Status::Code::kBusy, "Busy"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(c.status.ok());
    EXPECT_EQ(c.status.code(), c.code);
    EXPECT_EQ(c.status.message(), "m");
    EXPECT_EQ(c.status.ToString(), std::string(c.name) + ": m");
    EXPECT_EQ(c.status.IsNotFound(), c.code == Status::Code::kNotFound);
    EXPECT_EQ(c.status.IsCorruption(), c.code == Status::Code::kCorruption);
    EXPECT_EQ(c.status.IsNotSupported(), c.code == Status::Code::kNotSupported);
    EXPECT_EQ(c.status.IsInvalidArgument(), c.code == Status::Code::kInvalidArgument);
    EXPECT_EQ(c.status.IsIOError(), c.code == Status::Code::kIOError);
    EXPECT_EQ(c.status.IsBusy(), c.code == Status::Code::kBusy);
    EXPECT_FALSE(c.status.IsNoSpace());
  }
}

TEST(StatusTest, ToStringFormat) {
  EXPECT_EQ(Status::Corruption("msg").ToString(), "Corruption: msg");
  EXPECT_EQ(Status::OK().ToString(), "OK");
  EXPECT_EQ(Status::NotFound("key k").ToString(), "NotFound: key k");
}

TEST(StatusTest, WithContext) {
  Status s = Status::Corruption("checksum mismatch").WithContext("page 17");
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "page 17: checksum mismatch");
  EXPECT_EQ(s.ToString(), "Corruption: page 17: checksum mismatch");

  Status io = Status::IOError("write", ENOSPC).WithContext("/tmp/db");
  EXPECT_EQ(io.sys_errno(), ENOSPC);
  EXPECT_TRUE(io.IsNoSpace());

  Status ok = Status::OK().WithContext("ignored");
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.ToString(), "OK");
}

TEST(StatusTest, IsNoSpace) {
  EXPECT_TRUE(Status::IOError("write", ENOSPC).IsNoSpace());
  EXPECT_TRUE(Status::IOError("write", EDQUOT).IsNoSpace());
  EXPECT_EQ(Status::IOError("write", ENOSPC).sys_errno(), ENOSPC);
  EXPECT_FALSE(Status::IOError("write", EIO).IsNoSpace());
  EXPECT_FALSE(Status::IOError("write").IsNoSpace());
  EXPECT_FALSE(Status::OK().IsNoSpace());
  EXPECT_FALSE(Status::Corruption("full").IsNoSpace());
}

TEST(ResultTest, WithValue) {
  Result<int> r = 42;
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.status().ok());
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  *r = 7;
  EXPECT_EQ(r.value(), 7);

  Result<std::string> s(std::string("hello"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->size(), 5u);
  std::string moved = std::move(s).value();
  EXPECT_EQ(moved, "hello");
}

TEST(ResultTest, MoveOnlyValue) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(5));
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
}

TEST(ResultTest, WithError) {
  Result<int> r = Status::NotFound("no such key");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_EQ(r.status().ToString(), "NotFound: no such key");
}

Status Fails() { return Status::Busy("locked"); }
Status Succeeds() { return Status::OK(); }
Result<int> ResultFails() { return Status::Corruption("bad"); }
Result<int> ResultSucceeds() { return 11; }

Status ReturnIfErrorStatus(bool fail, int* reached) {
  SOMBRA_RETURN_IF_ERROR(Succeeds());
  *reached = 1;
  SOMBRA_RETURN_IF_ERROR(fail ? Fails() : Succeeds());
  *reached = 2;
  return Status::OK();
}

Status ReturnIfErrorResult(bool fail, int* reached) {
  SOMBRA_RETURN_IF_ERROR(ResultSucceeds());
  *reached = 1;
  SOMBRA_RETURN_IF_ERROR(fail ? ResultFails() : ResultSucceeds());
  *reached = 2;
  return Status::OK();
}

// The macro also works in a function that returns a Result.
Result<int> ReturnIfErrorInResult(bool fail) {
  SOMBRA_RETURN_IF_ERROR(fail ? Fails() : Succeeds());
  return 3;
}

TEST(MacroTest, ReturnIfErrorOnStatus) {
  int reached = 0;
  EXPECT_TRUE(ReturnIfErrorStatus(false, &reached).ok());
  EXPECT_EQ(reached, 2);
  reached = 0;
  Status s = ReturnIfErrorStatus(true, &reached);
  EXPECT_TRUE(s.IsBusy());
  EXPECT_EQ(s.message(), "locked");
  EXPECT_EQ(reached, 1);
}

TEST(MacroTest, ReturnIfErrorOnResult) {
  int reached = 0;
  EXPECT_TRUE(ReturnIfErrorResult(false, &reached).ok());
  EXPECT_EQ(reached, 2);
  reached = 0;
  Status s = ReturnIfErrorResult(true, &reached);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "bad");
  EXPECT_EQ(reached, 1);

  Result<int> r = ReturnIfErrorInResult(true);
  EXPECT_TRUE(r.status().IsBusy());
  ASSERT_TRUE(ReturnIfErrorInResult(false).ok());
  EXPECT_EQ(*ReturnIfErrorInResult(false), 3);
}

Result<int> AssignOrReturn(bool fail, int* reached) {
  SOMBRA_ASSIGN_OR_RETURN(int a, ResultSucceeds());
  *reached = 1;
  int b = 0;
  SOMBRA_ASSIGN_OR_RETURN(b, fail ? ResultFails() : ResultSucceeds());
  *reached = 2;
  return a + b;
}

Status AssignOrReturnMoveOnly(std::unique_ptr<int>* out) {
  SOMBRA_ASSIGN_OR_RETURN(*out, Result<std::unique_ptr<int>>(std::make_unique<int>(9)));
  return Status::OK();
}

TEST(MacroTest, AssignOrReturnSuccess) {
  int reached = 0;
  Result<int> r = AssignOrReturn(false, &reached);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 22);
  EXPECT_EQ(reached, 2);

  std::unique_ptr<int> p;
  ASSERT_TRUE(AssignOrReturnMoveOnly(&p).ok());
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 9);
}

TEST(MacroTest, AssignOrReturnFailure) {
  int reached = 0;
  Result<int> r = AssignOrReturn(true, &reached);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_EQ(r.status().message(), "bad");
  EXPECT_EQ(reached, 1);
}

}  // namespace
}  // namespace sombra
