#include "cli/output.h"

#include <gtest/gtest.h>

#include "cairn/status.h"

namespace cairn::cli {
namespace {

// The exit statuses are documented (docs/errors.md, README, docs/operations.md):
// every code, the ones added for the server included, has exactly that status.
TEST(ExitStatusTest, EveryCodeHasItsDocumentedExitStatus) {
  const int want[kErrorCodeCount] = {
      0,  // ok
      2,  // invalid_argument
      4,  // not_found
      3,  // wrong_expected_revision
      5,  // stream_deleted
      1,  // idempotency_conflict
      6,  // corruption
      1,  // io_error
      1,  // no_space
      1,  // resource_exhausted
      1,  // locked
      1,  // read_only
      1,  // failed_precondition
      1,  // cancelled
      1,  // unavailable
      1,  // deadline_exceeded
      1,  // unimplemented
      1,  // unauthenticated
      1,  // permission_denied
      1,  // closed
      1,  // busy
      1,  // reentrant_call
      1,  // subject_erased
  };
  for (int c = 0; c < kErrorCodeCount; ++c) {
    EXPECT_EQ(ExitStatusFor(static_cast<ErrorCode>(c)), want[c])
        << ErrorCodeName(static_cast<ErrorCode>(c));
  }
}

}  // namespace
}  // namespace cairn::cli
