#pragma once
// Status and Result<T>: how every fallible Cairn call reports failure.
//
// Errors are values. A Status is either OK or carries one code from a closed
// set (callers branch on the code, never on the message) and a message that
// names what was wrong and where. Result<T> holds a T or a non-OK Status; its
// member names follow std::expected so C++23 code can alias it later.
// Both are immutable values and safe to copy between threads.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cairn {

// The closed set of error codes: one per condition a caller must tell apart,
// so callers branch on codes, never on message text. The server maps them to
// gRPC and HTTP statuses by one table, the CLI to exit statuses
// (docs/errors.md). Never reorder or reuse: values are stable; new codes are
// added at the end.
enum class ErrorCode : uint8_t {
  kOk = 0,
  kInvalidArgument = 1,        // bad input: limits, names, malformed data
  kNotFound = 2,               // stream (or store) does not exist
  kWrongExpectedRevision = 3,  // optimistic concurrency check failed
  kStreamDeleted = 4,          // stream is tombstoned
  kIdempotencyConflict = 5,    // retried append overlaps stored events partly
  kCorruption = 6,             // bytes on disk fail their checksum or grammar
  kIOError = 7,                // the OS refused a read, write or fsync
  kNoSpace = 8,                // the disk is full (ENOSPC / EDQUOT)
  kResourceExhausted = 9,      // a configured bound was reached
  kLocked = 10,                // another process holds the store's write lock
  kReadOnly = 11,              // write attempted on a read-only handle
  kFailedPrecondition = 12,    // the store's state forbids the call until an
                               // operator acts: writes refused after a failed
                               // fsync, a replaced store, an interrupted scavenge
  kCancelled = 13,             // the caller cancelled the operation
  kUnavailable = 14,           // the backend cannot be reached now; retry later
  kDeadlineExceeded = 15,      // the call's deadline passed before it finished
  kUnimplemented = 16,         // this backend does not offer the operation
  kUnauthenticated = 17,       // credentials missing or wrong
  kPermissionDenied = 18,      // the credentials lack the right (an ACL)
  kClosed = 19,                // the store was closed (or is closing)
  kBusy = 20,                  // an exclusive operation (a scavenge) is running or
                               // kept swapping files; retry later
  kReentrantCall = 21,         // called from a callback of the same store (a
                               // visitor, append callback, push handler) that the
                               // call would wait for
  kSubjectErased = 22,         // crypto-shredding: the data subject's key was
                               // erased, its personal data is gone for good
};

// One past the largest code, for tables indexed by code.
inline constexpr int kErrorCodeCount = 23;

// Stable lower_snake name of a code ("wrong_expected_revision"), used in JSON.
const char* ErrorCodeName(ErrorCode code);

// Structured detail of a kWrongExpectedRevision error.
struct RevisionConflict {
  std::string stream;
  std::string expected;            // "any", "no_stream", "exists" or a number
  std::optional<uint64_t> actual;  // last revision found; nullopt: no stream
};

class [[nodiscard]] Status {
 public:
  // OK.
  Status() = default;
  Status(ErrorCode code, std::string message);

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(ErrorCode::kInvalidArgument, std::move(msg));
  }
  static Status NotFound(std::string msg) { return Status(ErrorCode::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) {
    return Status(ErrorCode::kCorruption, std::move(msg));
  }
  static Status IOError(std::string msg) { return Status(ErrorCode::kIOError, std::move(msg)); }
  // Builds the error of a failed expectation; the message names the stream,
  // the expectation and the revision found.
  static Status WrongExpectedRevision(RevisionConflict conflict);
  // Maps an errno from a failed system call to kNoSpace (ENOSPC, EDQUOT),
  // kNotFound (ENOENT) or kIOError (anything else), naming the operation
  // and the file.
  static Status FromErrno(int err, std::string_view op, std::string_view path);

  bool ok() const { return rep_ == nullptr; }
  ErrorCode code() const { return rep_ ? rep_->code : ErrorCode::kOk; }
  const std::string& message() const;
  // Non-null only for kWrongExpectedRevision.
  const RevisionConflict* conflict() const {
    return rep_ && rep_->conflict ? &*rep_->conflict : nullptr;
  }
  // "wrong_expected_revision: stream 'a' expected 3, found 5".
  std::string ToString() const;

 private:
  struct Rep {
    ErrorCode code;
    std::string message;
    std::optional<RevisionConflict> conflict;
  };
  std::shared_ptr<const Rep> rep_;  // null means OK: an OK status is free
};

// Holds a T or an error Status. Mirrors std::expected<T, Status>.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit like expected
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) {
      v_ = Status(ErrorCode::kFailedPrecondition, "Result built from an OK status");
    }
  }

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  // The error; only valid when !has_value().
  const Status& error() const { return std::get<1>(v_); }
  // OK when a value is held, else the error.
  Status status() const { return has_value() ? Status() : error(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cairn

#define CAIRN_CONCAT_INNER_(a, b) a##b
#define CAIRN_CONCAT_(a, b) CAIRN_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function if it is not OK.
#define CAIRN_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::cairn::Status cairn_status_ = (expr);        \
    if (!cairn_status_.ok()) return cairn_status_; \
  } while (0)

// Evaluates `rexpr` (a Result<T>); on error returns it, else moves the value
// into `lhs` (which may be a declaration such as `auto x`).
#define CAIRN_ASSIGN_OR_RETURN(lhs, rexpr) \
  CAIRN_ASSIGN_OR_RETURN_IMPL_(CAIRN_CONCAT_(cairn_result_, __LINE__), lhs, rexpr)
#define CAIRN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  if (!tmp.has_value()) return tmp.error();           \
  lhs = std::move(tmp).value()
