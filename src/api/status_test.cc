#include "cairn/status.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

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

TEST(StatusTest, EveryCodeHasItsOwnStableName) {
  // The names are the JSON and wire spelling: fixed once published.
  const std::vector<std::string> want = {"ok",
                                         "invalid_argument",
                                         "not_found",
                                         "wrong_expected_revision",
                                         "stream_deleted",
                                         "idempotency_conflict",
                                         "corruption",
                                         "io_error",
                                         "no_space",
                                         "resource_exhausted",
                                         "locked",
                                         "read_only",
                                         "failed_precondition",
                                         "cancelled",
                                         "unavailable",
                                         "deadline_exceeded",
                                         "unimplemented",
                                         "unauthenticated",
                                         "permission_denied",
                                         "closed",
                                         "busy",
                                         "reentrant_call",
                                         "subject_erased"};
  ASSERT_EQ(want.size(), static_cast<size_t>(kErrorCodeCount));
  for (int c = 0; c < kErrorCodeCount; ++c) {
    EXPECT_EQ(ErrorCodeName(static_cast<ErrorCode>(c)), want[static_cast<size_t>(c)]) << c;
  }
  EXPECT_STREQ(ErrorCodeName(static_cast<ErrorCode>(kErrorCodeCount)), "unknown");
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

TEST(TypesTest, RandomUuidsAreVersionFourAndDistinctAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kEach = 50000;
  std::vector<std::vector<Uuid>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&got, t] {
      for (int i = 0; i < kEach; ++i) got[t].push_back(Uuid::Random());
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> seen;
  for (const auto& v : got) {
    for (const Uuid& u : v) {
      const std::string text = u.ToString();
      EXPECT_EQ(text[14], '4') << text;  // version
      EXPECT_TRUE(text[19] == '8' || text[19] == '9' || text[19] == 'a' || text[19] == 'b')
          << text;  // RFC 4122 variant
      seen.insert(text);
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kEach));
}

// A forked child must not hand out the ids its parent hands out next (it
// inherits the parent's generator state unless it re-seeds).
TEST(TypesTest, AForkedChildDoesNotRepeatTheParentsIds) {
  (void)Uuid::Random();  // the parent's generator is seeded
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Uuid u = Uuid::Random();
    ssize_t w = ::write(fds[1], u.bytes().data(), 16);
    ::_exit(w == 16 ? 0 : 1);
  }
  ::close(fds[1]);
  std::array<uint8_t, 16> child{};
  ASSERT_EQ(::read(fds[0], child.data(), 16), 16);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  Uuid parent = Uuid::Random();
  EXPECT_NE(std::memcmp(parent.bytes().data(), child.data(), 16), 0)
      << "the child generated the parent's next id " << parent.ToString();
}

}  // namespace
}  // namespace cairn
