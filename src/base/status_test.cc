#include <gtest/gtest.h>

#include <cerrno>

#include "cairn/status.h"
#include "cairn/types.h"

namespace cairn {
namespace {

TEST(StatusTest, OkIsDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kOk);
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, WrongExpectedRevisionCarriesBoth) {
  Status s = Status::WrongExpectedRevision({"acc-1", "5", 1});
  EXPECT_EQ(s.code(), ErrorCode::kWrongExpectedRevision);
  ASSERT_NE(s.conflict(), nullptr);
  EXPECT_EQ(s.conflict()->expected, "5");
  EXPECT_EQ(*s.conflict()->actual, 1u);
  EXPECT_EQ(s.ToString(), "wrong_expected_revision: stream 'acc-1' expected 5, found revision 1");
  Status none = Status::WrongExpectedRevision({"x", "exists", std::nullopt});
  EXPECT_EQ(none.message(), "stream 'x' expected exists, found no stream");
}

TEST(StatusTest, ErrnoMapping) {
  EXPECT_EQ(Status::FromErrno(ENOSPC, "write", "/d/f").code(), ErrorCode::kNoSpace);
  EXPECT_EQ(Status::FromErrno(EIO, "fdatasync", "/d/f").code(), ErrorCode::kIOError);
  EXPECT_EQ(Status::FromErrno(EIO, "fdatasync", "/d/f").message(),
            "fdatasync '/d/f': Input/output error");
}

TEST(ResultTest, ValueAndError) {
  Result<int> r = 7;
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 7);
  Result<int> e = Status::NotFound("nope");
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code(), ErrorCode::kNotFound);
}

TEST(TypesTest, ExpectedRevisionParse) {
  EXPECT_EQ(*ExpectedRevision::Parse("any"), ExpectedRevision::Any());
  EXPECT_EQ(*ExpectedRevision::Parse("no-stream"), ExpectedRevision::NoStream());
  EXPECT_EQ(*ExpectedRevision::Parse("exists"), ExpectedRevision::StreamExists());
  EXPECT_EQ(*ExpectedRevision::Parse("42"), ExpectedRevision::Exact(StreamRevision(42)));
  EXPECT_EQ(ExpectedRevision::Parse("-1").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ExpectedRevision::Parse("4x").error().code(), ErrorCode::kInvalidArgument);
}

TEST(TypesTest, UuidRoundTrip) {
  auto u = Uuid::Parse("123E4567-e89b-12d3-a456-426614174000");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->ToString(), "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(Uuid::Parse("123e4567e89b12d3a456426614174000").error().code(),
            ErrorCode::kInvalidArgument);
  Uuid r = Uuid::Random();
  EXPECT_EQ(r.bytes()[6] >> 4, 4);
  EXPECT_NE(r, Uuid::Random());
}

}  // namespace
}  // namespace cairn
