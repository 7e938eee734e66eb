#include "server/convert.h"

#include <array>

namespace cairn::server {
namespace {

constexpr char kJsonContentType[] = "application/json";  // the only JSON content type
constexpr char kBinaryContentType[] = "application/octet-stream";

uint64_t BigEndian64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void PutBigEndian64(uint64_t v, uint8_t* p) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
}

}  // namespace

grpc::StatusCode StatusCodeOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return grpc::StatusCode::OK;
    case ErrorCode::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case ErrorCode::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case ErrorCode::kWrongExpectedRevision:
    case ErrorCode::kIdempotencyConflict:
    case ErrorCode::kStreamDeleted:
    case ErrorCode::kReadOnly:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kSubjectErased:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case ErrorCode::kCorruption:
      return grpc::StatusCode::DATA_LOSS;
    case ErrorCode::kIOError:
    case ErrorCode::kReentrantCall:
      return grpc::StatusCode::INTERNAL;
    case ErrorCode::kNoSpace:
    case ErrorCode::kResourceExhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case ErrorCode::kLocked:
    case ErrorCode::kUnavailable:
    case ErrorCode::kClosed:
    case ErrorCode::kBusy:
      return grpc::StatusCode::UNAVAILABLE;
    case ErrorCode::kCancelled:
      return grpc::StatusCode::CANCELLED;
    case ErrorCode::kDeadlineExceeded:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case ErrorCode::kUnimplemented:
      return grpc::StatusCode::UNIMPLEMENTED;
    case ErrorCode::kUnauthenticated:
      return grpc::StatusCode::UNAUTHENTICATED;
    case ErrorCode::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
  }
  return grpc::StatusCode::UNKNOWN;
}

Result<Uuid> UuidFromWire(const wire::UUID& id, bool present, std::string_view what) {
  if (!present) return Status::InvalidArgument(std::string(what) + " is missing");
  switch (id.value_case()) {
    case wire::UUID::kStructured: {
      std::array<uint8_t, 16> bytes{};
      PutBigEndian64(static_cast<uint64_t>(id.structured().most_significant_bits()), &bytes[0]);
      PutBigEndian64(static_cast<uint64_t>(id.structured().least_significant_bits()), &bytes[8]);
      return Uuid(bytes);
    }
    case wire::UUID::kString: {
      auto parsed = Uuid::Parse(id.string());
      if (!parsed) {
        return Status::InvalidArgument(std::string(what) + " '" + id.string() + "' is not a UUID");
      }
      return *parsed;
    }
    default:
      return Status::InvalidArgument(std::string(what) + " holds neither form of a UUID");
  }
}

void UuidToWire(const Uuid& id, bool structured, wire::UUID* out) {
  if (structured) {
    auto* s = out->mutable_structured();
    s->set_most_significant_bits(static_cast<int64_t>(BigEndian64(&id.bytes()[0])));
    s->set_least_significant_bits(static_cast<int64_t>(BigEndian64(&id.bytes()[8])));
  } else {
    out->set_string(id.ToString());
  }
}

Result<std::string> StreamFromWire(const wire::StreamIdentifier& id, bool present) {
  if (!present || id.stream_name().empty()) {
    return Status::InvalidArgument("stream_identifier is missing or empty");
  }
  return id.stream_name();
}

void EventToWire(const EventView& e, bool structured_ids,
                 wire_streams::ReadResp::ReadEvent::RecordedEvent* out) {
  UuidToWire(e.id, structured_ids, out->mutable_id());
  out->mutable_stream_identifier()->set_stream_name(std::string(e.stream));
  out->set_stream_revision(e.revision.value());
  out->set_prepare_position(e.position.value());
  out->set_commit_position(e.position.value());
  auto& md = *out->mutable_metadata();
  md["type"] = std::string(e.type);
  md["content-type"] = e.content_type == ContentType::kJson ? kJsonContentType : kBinaryContentType;
  md["created"] = std::to_string(e.created_ns / 100);
  out->set_custom_metadata(std::string(e.metadata));
  out->set_data(std::string(e.data));
}

int64_t ExpectedVersionNumber(ExpectedRevision expected) {
  switch (expected.kind()) {
    case ExpectedRevision::Kind::kExact:
      return static_cast<int64_t>(expected.revision().value());
    case ExpectedRevision::Kind::kNoStream:
      return -1;
    case ExpectedRevision::Kind::kAny:
      return -2;
    case ExpectedRevision::Kind::kStreamExists:
      return -4;
  }
  return -2;
}

grpc::Status ErrorToGrpc(const Status& s, const ErrorContext& c, grpc::ServerContextBase* ctx) {
  const ErrorCode code = s.code();
  if (code == ErrorCode::kStreamDeleted) {
    ctx->AddTrailingMetadata("exception", "stream-deleted");
    ctx->AddTrailingMetadata("stream-name", TrailerValue(c.stream));
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, s.message());
  }
  if (code == ErrorCode::kWrongExpectedRevision || code == ErrorCode::kIdempotencyConflict ||
      (code == ErrorCode::kNotFound && c.delete_call)) {
    std::string actual = "-1";
    if (const RevisionConflict* conflict = s.conflict(); conflict && conflict->actual) {
      actual = std::to_string(*conflict->actual);
    }
    ctx->AddTrailingMetadata("exception", "wrong-expected-version");
    ctx->AddTrailingMetadata("stream-name", TrailerValue(c.stream));
    ctx->AddTrailingMetadata("expected-version", std::to_string(ExpectedVersionNumber(c.expected)));
    ctx->AddTrailingMetadata("actual-version", actual);
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, s.message());
  }
  if (code == ErrorCode::kPermissionDenied) {
    ctx->AddTrailingMetadata("exception", "access-denied");
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, s.message());
  }
  if (code == ErrorCode::kClosed) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is shutting down");
  }
  if (code == ErrorCode::kBusy) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is too busy: " + s.message());
  }
  return grpc::Status(StatusCodeOf(code), s.message());
}

std::string TrailerValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

grpc::Status InvalidArgument(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

}  // namespace cairn::server
