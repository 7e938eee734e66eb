#include "cairn/status.h"

#include <cerrno>
#include <cstring>

namespace cairn {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kWrongExpectedRevision:
      return "wrong_expected_revision";
    case ErrorCode::kStreamDeleted:
      return "stream_deleted";
    case ErrorCode::kIdempotencyConflict:
      return "idempotency_conflict";
    case ErrorCode::kCorruption:
      return "corruption";
    case ErrorCode::kIOError:
      return "io_error";
    case ErrorCode::kNoSpace:
      return "no_space";
    case ErrorCode::kResourceExhausted:
      return "resource_exhausted";
    case ErrorCode::kLocked:
      return "locked";
    case ErrorCode::kReadOnly:
      return "read_only";
    case ErrorCode::kFailedPrecondition:
      return "failed_precondition";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case ErrorCode::kUnimplemented:
      return "unimplemented";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kClosed:
      return "closed";
    case ErrorCode::kBusy:
      return "busy";
    case ErrorCode::kReentrantCall:
      return "reentrant_call";
    case ErrorCode::kSubjectErased:
      return "subject_erased";
  }
  return "unknown";
}

Status::Status(ErrorCode code, std::string message) {
  if (code != ErrorCode::kOk) {
    rep_ = std::make_shared<const Rep>(Rep{code, std::move(message), std::nullopt});
  }
}

Status Status::WrongExpectedRevision(RevisionConflict conflict) {
  std::string msg =
      "stream '" + conflict.stream + "' expected " + conflict.expected + ", found " +
      (conflict.actual ? "revision " + std::to_string(*conflict.actual) : std::string("no stream"));
  Status s;
  s.rep_ = std::make_shared<const Rep>(
      Rep{ErrorCode::kWrongExpectedRevision, std::move(msg), std::move(conflict)});
  return s;
}

Status Status::FromErrno(int err, std::string_view op, std::string_view path) {
  std::string msg = std::string(op) + " '" + std::string(path) + "': " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status(ErrorCode::kNoSpace, std::move(msg));
  if (err == ENOENT) return Status(ErrorCode::kNotFound, std::move(msg));
  return Status(ErrorCode::kIOError, std::move(msg));
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return rep_ ? rep_->message : kEmpty;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(ErrorCodeName(rep_->code)) + ": " + rep_->message;
}

}  // namespace cairn
