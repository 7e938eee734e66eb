// The mapping layer alone: ids, events, and one test per row of the error
// table (docs/format/kurrentdb-v1.md, "Mapping from Cairn error codes").
#include "server/convert.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn::server {
namespace {

// Maps through a context of no call: the codes and messages only (the
// trailers are checked on real calls, server_test.cc).
struct TrailerSink {
  grpc::Status Map(const Status& s, const ErrorContext& c = {}) { return ErrorToGrpc(s, c, &ctx); }
  grpc::ServerContext ctx;
};

TEST(ConvertTest, AStructuredUuidIsTheTwoBigEndianHalves) {
  // The spec's worked example.
  auto id = Uuid::Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
  ASSERT_TRUE(id);
  wire::UUID w;
  UuidToWire(*id, /*structured=*/true, &w);
  EXPECT_EQ(w.structured().most_significant_bits(), 1121305442246149791LL);
  EXPECT_EQ(w.structured().least_significant_bits(), -6816918738128300786LL);
  auto back = UuidFromWire(w, true, "id");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *id);
  UuidToWire(*id, /*structured=*/false, &w);
  EXPECT_EQ(w.string(), "0f8fad5b-d9cb-469f-a165-70867728950e");
  back = UuidFromWire(w, true, "id");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *id);
}

TEST(ConvertTest, AMissingOrMalformedUuidNamesTheField) {
  wire::UUID w;
  auto r = UuidFromWire(w, /*present=*/false, "event id");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "event id is missing");
  r = UuidFromWire(w, /*present=*/true, "event id");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "event id holds neither form of a UUID");
  w.set_string("not-a-uuid");
  r = UuidFromWire(w, true, "event id");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "event id 'not-a-uuid' is not a UUID");
}

TEST(ConvertTest, AProposedEventNeedsTypeAndContentType) {
  wire_streams::AppendReq::ProposedMessage m;
  m.mutable_id()->set_string("0f8fad5b-d9cb-469f-a165-70867728950e");
  m.set_data("{\"a\":1}");
  m.set_custom_metadata("meta");
  (*m.mutable_metadata())["type"] = "Booked";
  bool missing = false;
  auto e = EventFromWire(m, &missing);
  ASSERT_FALSE(e);
  EXPECT_TRUE(missing);
  EXPECT_EQ(e.error().code(), ErrorCode::kInvalidArgument);
  (*m.mutable_metadata())["content-type"] = "application/json";
  e = EventFromWire(m, &missing);
  ASSERT_TRUE(e) << e.error().ToString();
  EXPECT_FALSE(missing);
  EXPECT_EQ(e->type, "Booked");
  EXPECT_EQ(e->content_type, ContentType::kJson);
  EXPECT_EQ(e->data, "{\"a\":1}");
  EXPECT_EQ(e->metadata, "meta");
  EXPECT_EQ(e->id->ToString(), "0f8fad5b-d9cb-469f-a165-70867728950e");
  (*m.mutable_metadata())["content-type"] = "application/octet-stream";
  e = EventFromWire(m, &missing);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->content_type, ContentType::kBinary);
}

TEST(ConvertTest, ARecordedEventCarriesTypeContentTypeAndCreatedTicks) {
  EventView v;
  v.stream = "order-1";
  v.revision = StreamRevision(4);
  v.position = Position(77);
  v.id = *Uuid::Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
  v.type = "Placed";
  v.content_type = ContentType::kBinary;
  v.data = "\x01\x02";
  v.metadata = "m";
  v.created_ns = 1704067200000000000LL;  // 2024-01-01T00:00:00Z
  wire_streams::ReadResp::ReadEvent::RecordedEvent out;
  EventToWire(v, /*structured_ids=*/false, &out);
  EXPECT_EQ(out.id().string(), "0f8fad5b-d9cb-469f-a165-70867728950e");
  EXPECT_EQ(out.stream_identifier().stream_name(), "order-1");
  EXPECT_EQ(out.stream_revision(), 4u);
  EXPECT_EQ(out.commit_position(), 77u);
  EXPECT_EQ(out.prepare_position(), 77u);
  EXPECT_EQ(out.metadata().size(), 3u);
  EXPECT_EQ(out.metadata().at("type"), "Placed");
  EXPECT_EQ(out.metadata().at("content-type"), "application/octet-stream");
  EXPECT_EQ(out.metadata().at("created"), "17040672000000000");
  EXPECT_EQ(out.data(), "\x01\x02");
  EXPECT_EQ(out.custom_metadata(), "m");
}

TEST(ConvertTest, ExpectedVersionsUseKurrentDbsNumbers) {
  EXPECT_EQ(ExpectedVersionNumber(ExpectedRevision::Exact(StreamRevision(7))), 7);
  EXPECT_EQ(ExpectedVersionNumber(ExpectedRevision::NoStream()), -1);
  EXPECT_EQ(ExpectedVersionNumber(ExpectedRevision::Any()), -2);
  EXPECT_EQ(ExpectedVersionNumber(ExpectedRevision::StreamExists()), -4);
}

// One row per ErrorCode: the gRPC status code outside the in-band cases.
TEST(ConvertTest, EveryErrorCodeHasItsStatusCode) {
  const std::pair<ErrorCode, grpc::StatusCode> rows[] = {
      {ErrorCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {ErrorCode::kNotFound, grpc::StatusCode::NOT_FOUND},
      {ErrorCode::kWrongExpectedRevision, grpc::StatusCode::FAILED_PRECONDITION},
      {ErrorCode::kStreamDeleted, grpc::StatusCode::FAILED_PRECONDITION},
      {ErrorCode::kIdempotencyConflict, grpc::StatusCode::FAILED_PRECONDITION},
      {ErrorCode::kCorruption, grpc::StatusCode::DATA_LOSS},
      {ErrorCode::kIOError, grpc::StatusCode::INTERNAL},
      {ErrorCode::kNoSpace, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {ErrorCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {ErrorCode::kLocked, grpc::StatusCode::UNAVAILABLE},
      {ErrorCode::kReadOnly, grpc::StatusCode::FAILED_PRECONDITION},
      {ErrorCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
      {ErrorCode::kCancelled, grpc::StatusCode::CANCELLED},
      {ErrorCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {ErrorCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
      {ErrorCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
      {ErrorCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
      {ErrorCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED},
      {ErrorCode::kClosed, grpc::StatusCode::UNAVAILABLE},
      {ErrorCode::kBusy, grpc::StatusCode::UNAVAILABLE},
      {ErrorCode::kReentrantCall, grpc::StatusCode::INTERNAL},
      {ErrorCode::kSubjectErased, grpc::StatusCode::FAILED_PRECONDITION},
  };
  ASSERT_EQ(std::size(rows), static_cast<size_t>(kErrorCodeCount - 1));
  for (const auto& [code, want] : rows) {
    TrailerSink sink;
    grpc::Status got = sink.Map(Status(code, "x"));
    EXPECT_EQ(got.error_code(), want) << ErrorCodeName(code);
  }
}

// Regression: a stream name with non-ASCII bytes in a trailer made gRPC
// abort the server (found by ServerFuzzTest).
TEST(ConvertTest, TrailerValuesArePrintableAsciiWithEverythingElsePercentEncoded) {
  EXPECT_EQ(TrailerValue("orders-1"), "orders-1");
  EXPECT_EQ(TrailerValue("caf\xc3\xa9 50%"), "caf%C3%A9 50%25");
  EXPECT_EQ(TrailerValue(std::string("a\0b\n", 4)), "a%00b%0A");
  TrailerSink sink;
  grpc::Status s = sink.Map(Status(ErrorCode::kStreamDeleted, "gone"), {.stream = "\xff"});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST(ConvertTest, ClosedAndBusySayWhyInTheirMessage) {
  TrailerSink sink;
  EXPECT_EQ(sink.Map(Status(ErrorCode::kClosed, "store is closed")).error_message(),
            "server is shutting down");
  EXPECT_EQ(sink.Map(Status(ErrorCode::kBusy, "a scavenge is running")).error_message(),
            "server is too busy: a scavenge is running");
}

}  // namespace
}  // namespace cairn::server
