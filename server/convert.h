#pragma once
// Conversions between KurrentDB's v1 wire messages and Cairn's public types
// (docs/format/kurrentdb-v1.md), and Cairn errors as the v1 protocol
// encodes them: a gRPC status plus `exception` trailers ("Errors" and
// "Mapping from Cairn error codes" there). Pure functions: no store, no I/O.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/status.h"
#include "cairn/types.h"
#include "shared.pb.h"
#include "streams.pb.h"

namespace cairn::server {

namespace wire = ::event_store::client;
namespace wire_streams = ::event_store::client::streams;

// An id in either wire form. kInvalidArgument naming `what` when the field
// is absent, holds neither form, or the text is not a UUID.
Result<Uuid> UuidFromWire(const wire::UUID& id, bool present, std::string_view what);
// `structured`: the two signed 64-bit halves; otherwise the 8-4-4-4-12 text.
void UuidToWire(const Uuid& id, bool structured, wire::UUID* out);

// A stream name from its identifier: kInvalidArgument when absent or empty.
Result<std::string> StreamFromWire(const wire::StreamIdentifier& id, bool present);

// An event of an Append or BatchAppend (two message types with the same
// fields). kInvalidArgument (with `missing` set) when `type` or
// `content-type` is missing from its metadata; `content-type` exactly
// "application/json" is JSON, anything else binary.
template <typename Proposed>
Result<EventData> EventFromWire(const Proposed& m, bool* missing) {
  *missing = false;
  EventData e;
  CAIRN_ASSIGN_OR_RETURN(e.id, UuidFromWire(m.id(), m.has_id(), "event id"));
  const auto& md = m.metadata();
  auto type = md.find("type");
  auto content_type = md.find("content-type");
  if (type == md.end() || content_type == md.end()) {
    *missing = true;
    return Status::InvalidArgument(
        "an event's metadata lacks a required property (type, content-type)");
  }
  e.type = type->second;
  e.content_type =
      content_type->second == "application/json" ? ContentType::kJson : ContentType::kBinary;
  e.data = m.data();
  e.metadata = m.custom_metadata();
  return e;
}

// The gRPC status code of a Cairn error ("Mapping from Cairn error codes").
grpc::StatusCode StatusCodeOf(ErrorCode code);

// The expectation of an Append, Delete or Tombstone options message.
// kInvalidArgument when its oneof is unset.
template <typename Options>
Result<ExpectedRevision> ExpectedFromWire(const Options& o) {
  switch (o.expected_stream_revision_case()) {
    case Options::kRevision:
      return ExpectedRevision::Exact(StreamRevision(o.revision()));
    case Options::kNoStream:
      return ExpectedRevision::NoStream();
    case Options::kAny:
      return ExpectedRevision::Any();
    case Options::kStreamExists:
      return ExpectedRevision::StreamExists();
    default:
      return Status::InvalidArgument("expected_stream_revision is not set");
  }
}

// A stored event as a read sends it. Metadata: `type`, `content-type`
// (application/json or application/octet-stream), `created` (100 ns ticks
// since the Unix epoch, decimal).
void EventToWire(const EventView& e, bool structured_ids,
                 wire_streams::ReadResp::ReadEvent::RecordedEvent* out);

// The value of `expected-version` / KurrentDB's numeric expectations:
// the revision, -1 no stream, -2 any, -4 stream exists.
int64_t ExpectedVersionNumber(ExpectedRevision expected);

// What a failed call's trailers may need to say beyond the error itself.
struct ErrorContext {
  std::string stream;  // the stream the call named, if any
  ExpectedRevision expected = ExpectedRevision::Any();
  bool delete_call = false;  // Delete: kNotFound is a failed expectation
};

// The gRPC status (and trailers, added to `ctx`) for a Cairn error outside
// the in-band cases, per docs/format/kurrentdb-v1.md:
//   stream_deleted -> FAILED_PRECONDITION exception=stream-deleted, stream-name;
//   wrong_expected_revision (Delete/Tombstone) and kNotFound of a Delete ->
//     FAILED_PRECONDITION exception=wrong-expected-version with
//     stream-name, expected-version, actual-version;
//   permission_denied -> PERMISSION_DENIED exception=access-denied;
//   closed / busy / locked / unavailable -> UNAVAILABLE; corruption ->
//   DATA_LOSS; io_error / reentrant_call -> INTERNAL; the rest by name.
grpc::Status ErrorToGrpc(const Status& s, const ErrorContext& c, grpc::ServerContextBase* ctx);

// A trailer value gRPC accepts: metadata values must be printable ASCII
// (0x20-0x7E), and any other byte makes gRPC abort the process. Names a
// client chose (a stream or login name in UTF-8, or any bytes) keep their
// printable ASCII; every other byte, and '%', becomes %XX (upper-case
// hex), as percent-encoding does.
std::string TrailerValue(std::string_view value);

// INVALID_ARGUMENT with `message` (no trailer).
grpc::Status InvalidArgument(std::string message);

}  // namespace cairn::server
