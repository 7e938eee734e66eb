// The server over a real store and real loopback sockets, driven by gRPC's
// own C++ client with our .proto files: what each call answers, in band
// and in its status and trailers (docs/format/kurrentdb-v1.md).
#include "server/server.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cluster_service.h"
#include "operations.grpc.pb.h"
#include "serverfeatures.grpc.pb.h"
#include "shared.pb.h"
#include "src/base/testing.h"
#include "streams.grpc.pb.h"

namespace cairn::server {
namespace {

namespace ws = ::event_store::client::streams;
namespace wf = ::event_store::client::server_features;
namespace wo = ::event_store::client::operations;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(ServerOptions{}); }

  void StartServer(ServerOptions o) {
    auto store = OpenStore(dir_.Sub("db"));
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    o.port = 0;
    o.http_port = 0;
    o.insecure = true;
    log_file_ = std::tmpfile();
    log_ = std::make_unique<JsonLog>(log_file_);
    auto server = Server::Start(store_.get(), o, log_.get());
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    streams_ = ws::Streams::NewStub(channel_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::milliseconds(100));
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
    }
    if (log_file_) std::fclose(log_file_);
  }

  // Appends `types` (JSON events with data {"n":i}) to `stream` through
  // Append; returns the call's status and fills *resp.
  grpc::Status Append(
      const std::string& stream, const std::vector<std::string>& types, ws::AppendResp* resp,
      std::function<void(ws::AppendReq::Options*)> expect = [](ws::AppendReq::Options* o) {
        o->mutable_any();
      }) {
    grpc::ClientContext ctx;
    auto writer = streams_->Append(&ctx, resp);
    ws::AppendReq req;
    req.mutable_options()->mutable_stream_identifier()->set_stream_name(stream);
    expect(req.mutable_options());
    EXPECT_TRUE(writer->Write(req));
    for (size_t i = 0; i < types.size(); ++i) {
      ws::AppendReq ev;
      auto* m = ev.mutable_proposed_message();
      m->mutable_id()->set_string(Uuid::Random().ToString());
      (*m->mutable_metadata())["type"] = types[i];
      (*m->mutable_metadata())["content-type"] = "application/json";
      m->set_data("{\"n\":" + std::to_string(i) + "}");
      EXPECT_TRUE(writer->Write(ev));
    }
    writer->WritesDone();
    return writer->Finish();
  }

  struct ReadResult {
    grpc::Status status;
    std::vector<ws::ReadResp> messages;
    std::multimap<std::string, std::string> trailers;
  };
  ReadResult Read(const ws::ReadReq& req) {
    grpc::ClientContext ctx;
    auto reader = streams_->Read(&ctx, req);
    ReadResult r;
    ws::ReadResp msg;
    while (reader->Read(&msg)) r.messages.push_back(msg);
    r.status = reader->Finish();
    for (const auto& [k, v] : ctx.GetServerTrailingMetadata()) {
      r.trailers.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
    }
    return r;
  }
  static ws::ReadReq StreamRead(const std::string& stream, bool forwards, uint64_t count) {
    ws::ReadReq req;
    auto* o = req.mutable_options();
    o->mutable_stream()->mutable_stream_identifier()->set_stream_name(stream);
    if (forwards) {
      o->mutable_stream()->mutable_start();
    } else {
      o->mutable_stream()->mutable_end();
      o->set_read_direction(ws::ReadReq::Options::Backwards);
    }
    o->set_count(count);
    o->mutable_no_filter();
    o->mutable_uuid_option()->mutable_string();
    return req;
  }

  static ws::ReadReq Subscription(const std::string& stream) {
    ws::ReadReq req;
    auto* o = req.mutable_options();
    if (stream.empty()) {
      o->mutable_all()->mutable_start();
    } else {
      o->mutable_stream()->mutable_stream_identifier()->set_stream_name(stream);
      o->mutable_stream()->mutable_start();
    }
    o->mutable_subscription();
    o->mutable_no_filter();
    o->mutable_uuid_option()->mutable_string();
    return req;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::FILE* log_file_ = nullptr;
  std::unique_ptr<JsonLog> log_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ws::Streams::Stub> streams_;
};

TEST_F(ServerTest, AnAppendIsReadBackBothWays) {
  ws::AppendResp resp;
  ASSERT_TRUE(Append("order-1", {"Placed", "Paid", "Shipped"}, &resp).ok());
  ASSERT_TRUE(resp.has_success());
  EXPECT_EQ(resp.success().current_revision(), 2u);
  ASSERT_TRUE(resp.success().has_position());

  auto r = Read(StreamRead("order-1", /*forwards=*/true, 100));
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.messages.size(), 3u);
  const char* types[] = {"Placed", "Paid", "Shipped"};
  for (size_t i = 0; i < 3; ++i) {
    const auto& e = r.messages[i].event().event();
    EXPECT_EQ(e.stream_identifier().stream_name(), "order-1");
    EXPECT_EQ(e.stream_revision(), i);
    EXPECT_EQ(e.metadata().at("type"), types[i]);
    EXPECT_EQ(e.data(), "{\"n\":" + std::to_string(i) + "}");
  }
  // The append's position is its last event's.
  EXPECT_EQ(r.messages[2].event().event().commit_position(),
            resp.success().position().commit_position());

  r = Read(StreamRead("order-1", /*forwards=*/false, 2));
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].event().event().stream_revision(), 2u);
  EXPECT_EQ(r.messages[1].event().event().stream_revision(), 1u);
}

TEST_F(ServerTest, ACompatibleStreamReadEndsWithTheLastStreamPosition) {
  ws::AppendResp resp;
  ASSERT_TRUE(Append("s", {"A", "B"}, &resp).ok());
  auto req = StreamRead("s", true, 1);
  req.mutable_options()->mutable_control_option()->set_compatibility(1);
  auto r = Read(req);
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].event().event().stream_revision(), 0u);
  ASSERT_EQ(r.messages[1].content_case(), ws::ReadResp::kLastStreamPosition);
  EXPECT_EQ(r.messages[1].last_stream_position(), 1u);
}

TEST_F(ServerTest, AFailedExpectationIsAnsweredInBandWithBothFieldSets) {
  ws::AppendResp resp;
  ASSERT_TRUE(Append("s", {"A"}, &resp).ok());
  ws::AppendResp failed;
  auto status =
      Append("s", {"B"}, &failed, [](ws::AppendReq::Options* o) { o->mutable_no_stream(); });
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(failed.has_wrong_expected_version());
  const auto& w = failed.wrong_expected_version();
  EXPECT_EQ(w.current_revision(), 0u);
  EXPECT_EQ(w.current_revision_20_6_0(), 0u);
  EXPECT_TRUE(w.has_expected_no_stream());
  EXPECT_EQ(w.expected_revision_20_6_0(), UINT64_MAX);

  status = Append("s", {"B"}, &failed, [](ws::AppendReq::Options* o) { o->set_revision(5); });
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(failed.wrong_expected_version().expected_revision(), 5u);
  EXPECT_EQ(failed.wrong_expected_version().current_revision(), 0u);

  status = Append("missing", {"B"}, &failed,
                  [](ws::AppendReq::Options* o) { o->mutable_stream_exists(); });
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(failed.wrong_expected_version().has_current_no_stream());
  EXPECT_TRUE(failed.wrong_expected_version().has_expected_stream_exists());

  auto r = Read(StreamRead("s", true, 100));
  ASSERT_EQ(r.messages.size(), 1u);  // nothing of the failed appends
}

TEST_F(ServerTest, AMissingStreamIsStreamNotFoundInBand) {
  auto r = Read(StreamRead("nobody", true, 10));
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].stream_not_found().stream_identifier().stream_name(), "nobody");
}

TEST_F(ServerTest, ATombstonedStreamFailsReadsWithStreamDeletedTrailers) {
  ws::AppendResp resp;
  ASSERT_TRUE(Append("gone", {"A"}, &resp).ok());
  grpc::ClientContext ctx;
  ws::TombstoneReq req;
  req.mutable_options()->mutable_stream_identifier()->set_stream_name("gone");
  req.mutable_options()->mutable_any();
  ws::TombstoneResp tresp;
  ASSERT_TRUE(streams_->Tombstone(&ctx, req, &tresp).ok());
  EXPECT_TRUE(tresp.has_position());

  auto r = Read(StreamRead("gone", true, 10));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(r.trailers.find("exception")->second, "stream-deleted");
  EXPECT_EQ(r.trailers.find("stream-name")->second, "gone");
  EXPECT_TRUE(r.messages.empty());
}

// Regression (ServerFuzzTest): a non-ASCII stream name in a trailer made
// gRPC abort the server; it is percent-encoded there now.
TEST_F(ServerTest, AStreamNameThatIsNotAsciiIsPercentEncodedInTrailers) {
  grpc::ClientContext ctx;
  ws::DeleteReq req;
  req.mutable_options()->mutable_stream_identifier()->set_stream_name("caf\xc3\xa9-1");
  req.mutable_options()->mutable_any();
  ws::DeleteResp resp;
  grpc::Status s = streams_->Delete(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  std::map<std::string, std::string> t;
  for (const auto& [k, v] : ctx.GetServerTrailingMetadata()) {
    t[std::string(k.data(), k.size())] = std::string(v.data(), v.size());
  }
  EXPECT_EQ(t["stream-name"], "caf%C3%A9-1");
  ws::AppendResp aresp;
  EXPECT_TRUE(Append("after", {"A"}, &aresp).ok());  // the server goes on
}

TEST_F(ServerTest, DeletingAStreamThatNeverExistedIsAWrongExpectedVersion) {
  grpc::ClientContext ctx;
  ws::DeleteReq req;
  req.mutable_options()->mutable_stream_identifier()->set_stream_name("never");
  req.mutable_options()->mutable_any();
  ws::DeleteResp resp;
  grpc::Status s = streams_->Delete(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  std::map<std::string, std::string> t;
  for (const auto& [k, v] : ctx.GetServerTrailingMetadata()) {
    t[std::string(k.data(), k.size())] = std::string(v.data(), v.size());
  }
  EXPECT_EQ(t["exception"], "wrong-expected-version");
  EXPECT_EQ(t["stream-name"], "never");
  EXPECT_EQ(t["expected-version"], "-2");
  EXPECT_EQ(t["actual-version"], "-1");
}

TEST_F(ServerTest, ASoftDeletedStreamReadsAsNotFound) {
  ws::AppendResp resp;
  ASSERT_TRUE(Append("soft", {"A", "B"}, &resp).ok());
  grpc::ClientContext ctx;
  ws::DeleteReq req;
  req.mutable_options()->mutable_stream_identifier()->set_stream_name("soft");
  req.mutable_options()->set_revision(1);
  ws::DeleteResp dresp;
  ASSERT_TRUE(streams_->Delete(&ctx, req, &dresp).ok());
  auto r = Read(StreamRead("soft", true, 10));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_TRUE(r.messages[0].has_stream_not_found());
}

TEST_F(ServerTest, AnEventWithoutTypeIsRefusedWithTheRequiredProperties) {
  grpc::ClientContext ctx;
  ws::AppendResp resp;
  auto writer = streams_->Append(&ctx, &resp);
  ws::AppendReq req;
  req.mutable_options()->mutable_stream_identifier()->set_stream_name("s");
  req.mutable_options()->mutable_any();
  writer->Write(req);
  ws::AppendReq ev;
  ev.mutable_proposed_message()->mutable_id()->set_string(Uuid::Random().ToString());
  writer->Write(ev);
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::map<std::string, std::string> t;
  for (const auto& [k, v] : ctx.GetServerTrailingMetadata()) {
    t[std::string(k.data(), k.size())] = std::string(v.data(), v.size());
  }
  EXPECT_EQ(t["exception"], "missing-required-metadata-property");
  EXPECT_EQ(t["required-metadata-properties"], "type,content-type");
}

TEST_F(ServerTest, AnAppendWithoutOptionsIsAnInvalidArgument) {
  grpc::ClientContext ctx;
  ws::AppendResp resp;
  auto writer = streams_->Append(&ctx, &resp);
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "the append ended before its options message");
}

TEST_F(ServerTest, AnAppendTheClientCancelsWritesNothing) {
  {
    grpc::ClientContext ctx;
    ws::AppendResp resp;
    auto writer = streams_->Append(&ctx, &resp);
    ws::AppendReq req;
    req.mutable_options()->mutable_stream_identifier()->set_stream_name("cut");
    req.mutable_options()->mutable_any();
    ASSERT_TRUE(writer->Write(req));
    ws::AppendReq ev;
    auto* m = ev.mutable_proposed_message();
    m->mutable_id()->set_string(Uuid::Random().ToString());
    (*m->mutable_metadata())["type"] = "A";
    (*m->mutable_metadata())["content-type"] = "application/json";
    m->set_data("{}");
    ASSERT_TRUE(writer->Write(ev));
    ctx.TryCancel();
    EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // A later call on the same connection sees no trace of it.
  auto r = Read(StreamRead("cut", true, 10));
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_TRUE(r.messages[0].has_stream_not_found());
}

TEST_F(ServerTest, AllReadsFilterByEventTypePrefix) {
  ws::AppendResp resp;
  ASSERT_TRUE(Append("a-1", {"Keep", "Drop", "KeepToo"}, &resp).ok());
  ws::ReadReq req;
  auto* o = req.mutable_options();
  o->mutable_all()->mutable_start();
  o->set_count(100);
  o->mutable_uuid_option()->mutable_structured();
  auto* f = o->mutable_filter();
  f->mutable_event_type()->add_prefix("Keep");
  f->mutable_count();
  auto r = Read(req);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].event().event().metadata().at("type"), "Keep");
  EXPECT_EQ(r.messages[1].event().event().metadata().at("type"), "KeepToo");
  EXPECT_TRUE(r.messages[0].event().event().id().has_structured());

  // An empty prefix list passes nothing (KurrentDB's rule).
  f->mutable_event_type()->clear_prefix();
  r = Read(req);
  ASSERT_TRUE(r.status.ok());
  EXPECT_TRUE(r.messages.empty());
}

TEST_F(ServerTest, AReadWithoutUuidOptionIsAnInvalidArgument) {
  auto req = StreamRead("s", true, 1);
  req.mutable_options()->clear_uuid_option();
  auto r = Read(req);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(r.status.error_message(), "uuid_option is missing");
}

TEST_F(ServerTest, AStreamSubscriptionConfirmsThenSendsHistoryCaughtUpAndLiveEvents) {
  ws::AppendResp resp;
  ASSERT_TRUE(Append("sub-1", {"A", "B"}, &resp).ok());
  grpc::ClientContext ctx;
  auto reader = streams_->Read(&ctx, Subscription("sub-1"));
  ws::ReadResp m;
  ASSERT_TRUE(reader->Read(&m));
  ASSERT_TRUE(m.has_confirmation());
  EXPECT_EQ(m.confirmation().subscription_id().size(), 36u);
  for (uint64_t rev = 0; rev < 2; ++rev) {
    ASSERT_TRUE(reader->Read(&m));
    ASSERT_TRUE(m.has_event()) << m.DebugString();
    EXPECT_EQ(m.event().event().stream_revision(), rev);
  }
  ASSERT_TRUE(reader->Read(&m));
  ASSERT_TRUE(m.has_caught_up()) << m.DebugString();
  EXPECT_EQ(m.caught_up().stream_revision(), 1);
  EXPECT_FALSE(m.caught_up().has_position());
  ASSERT_TRUE(Append("sub-1", {"C"}, &resp).ok());
  ASSERT_TRUE(reader->Read(&m));
  ASSERT_TRUE(m.has_event()) << m.DebugString();
  EXPECT_EQ(m.event().event().stream_revision(), 2u);
  EXPECT_EQ(m.event().event().metadata().at("type"), "C");
  ctx.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(ServerTest, ASubscriptionToATombstonedStreamFailsBeforeItsConfirmation) {
  ws::AppendResp resp;
  ASSERT_TRUE(Append("dead", {"A"}, &resp).ok());
  grpc::ClientContext tctx;
  ws::TombstoneReq treq;
  treq.mutable_options()->mutable_stream_identifier()->set_stream_name("dead");
  treq.mutable_options()->mutable_any();
  ws::TombstoneResp tresp;
  ASSERT_TRUE(streams_->Tombstone(&tctx, treq, &tresp).ok());
  auto r = Read(Subscription("dead"));
  EXPECT_TRUE(r.messages.empty());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(r.trailers.find("exception")->second, "stream-deleted");
  EXPECT_EQ(r.trailers.find("stream-name")->second, "dead");
}

TEST_F(ServerTest, AFilteredAllSubscriptionCheckpointsEveryMultiplierTimesWindowEvents) {
  // 384 matching events, multiplier 2 x window 32: a checkpoint after every
  // 64 events (6), and one at the end of history before caught_up.
  std::vector<std::string> types(384, "Tick");
  ws::AppendResp resp;
  ASSERT_TRUE(Append("clock", types, &resp).ok());
  auto req = Subscription("");
  auto* f = req.mutable_options()->mutable_filter();
  f->mutable_event_type()->add_prefix("Tick");
  f->mutable_count();
  f->set_checkpointintervalmultiplier(2);
  grpc::ClientContext ctx;
  auto reader = streams_->Read(&ctx, req);
  ws::ReadResp m;
  ASSERT_TRUE(reader->Read(&m));
  ASSERT_TRUE(m.has_confirmation());
  std::vector<uint64_t> checkpoints;
  std::vector<uint64_t> event_positions;
  while (reader->Read(&m) && !m.has_caught_up()) {
    if (m.has_event()) event_positions.push_back(m.event().event().commit_position());
    if (m.has_checkpoint()) {
      EXPECT_EQ(m.checkpoint().commit_position(), m.checkpoint().prepare_position());
      checkpoints.push_back(m.checkpoint().commit_position());
    }
  }
  ASSERT_TRUE(m.has_caught_up());
  ASSERT_EQ(event_positions.size(), 384u);
  ASSERT_EQ(checkpoints.size(), 7u);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(checkpoints[i], event_positions[64 * i + 63]);
  EXPECT_EQ(checkpoints[6], resp.success().position().commit_position());
  EXPECT_EQ(m.caught_up().position().commit_position(), checkpoints[6]);
  ctx.TryCancel();
  (void)reader->Finish();
}

TEST_F(ServerTest, ASlowSubscriberFallsBehindAndResumesWithNoGapOrDuplicate) {
  TearDown();
  ServerOptions o;
  o.subscription_queue_messages = 16;
  o.subscription_queue_bytes = 1 << 20;
  StartServer(o);
  // Enough bytes to fill the transport's windows while nobody reads.
  const std::string big(2000, 'x');
  grpc::ClientContext ctx;
  auto reader = streams_->Read(&ctx, Subscription("firehose"));
  ws::ReadResp m;
  ASSERT_TRUE(reader->Read(&m));
  ASSERT_TRUE(m.has_confirmation());
  ASSERT_TRUE(reader->Read(&m));
  ASSERT_TRUE(m.has_caught_up());
  constexpr int kAppends = 40;
  constexpr int kPerAppend = 100;
  for (int i = 0; i < kAppends; ++i) {
    grpc::ClientContext actx;
    ws::AppendResp resp;
    auto writer = streams_->Append(&actx, &resp);
    ws::AppendReq req;
    req.mutable_options()->mutable_stream_identifier()->set_stream_name("firehose");
    req.mutable_options()->mutable_any();
    ASSERT_TRUE(writer->Write(req));
    for (int k = 0; k < kPerAppend; ++k) {
      ws::AppendReq ev;
      auto* p = ev.mutable_proposed_message();
      p->mutable_id()->set_string(Uuid::Random().ToString());
      (*p->mutable_metadata())["type"] = "Big";
      (*p->mutable_metadata())["content-type"] = "application/octet-stream";
      p->set_data(big);
      ASSERT_TRUE(writer->Write(ev));
    }
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
  }
  uint64_t next = 0;
  int fell_behind = 0, caught_up = 0;
  while (next < kAppends * kPerAppend && reader->Read(&m)) {
    if (m.has_event()) {
      ASSERT_EQ(m.event().event().stream_revision(), next);  // no gap, no duplicate
      ++next;
    } else if (m.has_fell_behind()) {
      ++fell_behind;
      // Queued after every event the client has read by now.
      EXPECT_EQ(m.fell_behind().stream_revision(), static_cast<int64_t>(next) - 1);
    } else if (m.has_caught_up()) {
      ++caught_up;
    }
  }
  EXPECT_EQ(next, static_cast<uint64_t>(kAppends * kPerAppend));
  EXPECT_GE(fell_behind, 1);
  if (caught_up < fell_behind) {  // the last pass over history ends caught up
    ASSERT_TRUE(reader->Read(&m));
    EXPECT_TRUE(m.has_caught_up()) << m.DebugString();
    ++caught_up;
  }
  EXPECT_EQ(caught_up, fell_behind);
  ctx.TryCancel();
  (void)reader->Finish();
}

TEST_F(ServerTest, StoppingTheServerEndsSubscriptionsAsUnavailable) {
  grpc::ClientContext ctx;
  auto reader = streams_->Read(&ctx, Subscription(""));
  ws::ReadResp m;
  ASSERT_TRUE(reader->Read(&m));
  ASSERT_TRUE(m.has_confirmation());
  ASSERT_TRUE(reader->Read(&m));
  ASSERT_TRUE(m.has_caught_up());
  server_->Shutdown(std::chrono::seconds(5));
  EXPECT_FALSE(reader->Read(&m));
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(s.error_message(), "server is shutting down");
}

// A BatchAppend chunk: `n` JSON events of type `type`.
ws::BatchAppendReq Chunk(const Uuid& correlation, const std::string& stream, int n, bool final,
                         bool with_options = true) {
  ws::BatchAppendReq req;
  req.mutable_correlation_id()->set_string(correlation.ToString());
  if (with_options) {
    req.mutable_options()->mutable_stream_identifier()->set_stream_name(stream);
    req.mutable_options()->mutable_any();
  }
  for (int i = 0; i < n; ++i) {
    auto* m = req.add_proposed_messages();
    m->mutable_id()->set_string(Uuid::Random().ToString());
    (*m->mutable_metadata())["type"] = "E";
    (*m->mutable_metadata())["content-type"] = "application/json";
    m->set_data("{}");
  }
  req.set_is_final(final);
  return req;
}

// Sends `chunks` over one BatchAppend call, half-closes, and returns the
// answers by correlation id (text form) and the call's status.
std::pair<std::map<std::string, ws::BatchAppendResp>, grpc::Status> Batch(
    ws::Streams::Stub* stub, const std::vector<ws::BatchAppendReq>& chunks) {
  grpc::ClientContext ctx;
  auto call = stub->BatchAppend(&ctx);
  for (const auto& c : chunks) EXPECT_TRUE(call->Write(c));
  call->WritesDone();
  std::map<std::string, ws::BatchAppendResp> answers;
  ws::BatchAppendResp r;
  while (call->Read(&r)) {
    const std::string id = r.correlation_id().string();
    EXPECT_EQ(answers.count(id), 0u) << "answered twice: " << id;
    answers[id] = r;
  }
  return {answers, call->Finish()};
}

TEST_F(ServerTest, BatchAppendAnswersEachAppendByItsCorrelationId) {
  const Uuid a = Uuid::Random(), b = Uuid::Random();
  auto [answers, status] =
      Batch(streams_.get(), {Chunk(a, "batch-a", 2, false), Chunk(b, "batch-b", 1, true),
                             Chunk(a, "", 3, true, /*with_options=*/false)});
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(answers.size(), 2u);
  const auto& ra = answers[a.ToString()];
  ASSERT_TRUE(ra.has_success()) << ra.DebugString();
  EXPECT_EQ(ra.success().current_revision(), 4u);  // 2 + 3 events over two chunks
  EXPECT_EQ(ra.stream_identifier().stream_name(), "batch-a");
  const auto& rb = answers[b.ToString()];
  ASSERT_TRUE(rb.has_success());
  EXPECT_EQ(rb.success().current_revision(), 0u);
  auto r = Read(StreamRead("batch-a", true, 100));
  EXPECT_EQ(r.messages.size(), 5u);
  // The append's position is its last event's.
  EXPECT_EQ(r.messages[4].event().event().commit_position(),
            ra.success().position().commit_position());
}

TEST_F(ServerTest, BatchAppendReportsAFailedExpectationAsAlreadyExistsWithItsDetail) {
  ws::AppendResp resp;
  ASSERT_TRUE(Append("batch-w", {"A", "B"}, &resp).ok());
  const Uuid a = Uuid::Random();
  auto chunk = Chunk(a, "batch-w", 1, true);
  chunk.mutable_options()->set_stream_position(7);
  auto [answers, status] = Batch(streams_.get(), {chunk});
  ASSERT_TRUE(status.ok());
  const auto& r = answers[a.ToString()];
  ASSERT_TRUE(r.has_error()) << r.DebugString();
  EXPECT_EQ(r.error().code(), static_cast<int>(grpc::StatusCode::ALREADY_EXISTS));
  EXPECT_EQ(r.error().details().type_url(),
            "type.googleapis.com/event_store.client.WrongExpectedVersion");
  ::event_store::client::WrongExpectedVersion w;
  ASSERT_TRUE(r.error().details().UnpackTo(&w));
  EXPECT_EQ(w.current_stream_revision(), 1u);
  EXPECT_EQ(w.expected_stream_position(), 7u);
}

TEST_F(ServerTest, BatchAppendToATombstonedStreamIsNotFoundWithStreamDeleted) {
  ws::AppendResp resp;
  ASSERT_TRUE(Append("batch-t", {"A"}, &resp).ok());
  grpc::ClientContext tctx;
  ws::TombstoneReq treq;
  treq.mutable_options()->mutable_stream_identifier()->set_stream_name("batch-t");
  treq.mutable_options()->mutable_any();
  ws::TombstoneResp tresp;
  ASSERT_TRUE(streams_->Tombstone(&tctx, treq, &tresp).ok());
  const Uuid a = Uuid::Random();
  auto [answers, status] = Batch(streams_.get(), {Chunk(a, "batch-t", 1, true)});
  ASSERT_TRUE(status.ok());
  const auto& r = answers[a.ToString()];
  EXPECT_EQ(r.error().code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  ::event_store::client::StreamDeleted d;
  ASSERT_TRUE(r.error().details().UnpackTo(&d));
  EXPECT_EQ(d.stream_identifier().stream_name(), "batch-t");
}

TEST_F(ServerTest, BatchAppendWithAPassedDeadlineTimesOutAndWritesNothing) {
  const Uuid a = Uuid::Random();
  auto chunk = Chunk(a, "batch-late", 1, true);
  chunk.mutable_options()->mutable_deadline_21_10_0()->set_seconds(1);  // 1970
  auto [answers, status] = Batch(streams_.get(), {chunk});
  ASSERT_TRUE(status.ok());
  const auto& r = answers[a.ToString()];
  EXPECT_EQ(r.error().code(), static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED));
  EXPECT_EQ(r.error().details().type_url(), "type.googleapis.com/event_store.client.Timeout");
  auto read = Read(StreamRead("batch-late", true, 10));
  ASSERT_EQ(read.messages.size(), 1u);
  EXPECT_TRUE(read.messages[0].has_stream_not_found());
}

TEST_F(ServerTest, BatchAppendAnswersChunksItCannotPlaceAndAppendsLeftUnfinished) {
  const Uuid orphan = Uuid::Random(), unfinished = Uuid::Random();
  auto [answers, status] =
      Batch(streams_.get(), {Chunk(orphan, "", 1, true, /*with_options=*/false),
                             Chunk(unfinished, "batch-u", 1, /*final=*/false)});
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(answers.size(), 2u);
  ::event_store::client::BadRequest bad;
  ASSERT_TRUE(answers[orphan.ToString()].error().details().UnpackTo(&bad));
  EXPECT_EQ(bad.message(),
            "no options for this correlation id (a chunk of an append that already ended, or "
            "whose first chunk lacked them)");
  ASSERT_TRUE(answers[unfinished.ToString()].error().details().UnpackTo(&bad));
  EXPECT_EQ(bad.message(), "the call ended before the append's final chunk");
  auto read = Read(StreamRead("batch-u", true, 10));
  EXPECT_TRUE(read.messages[0].has_stream_not_found());
}

TEST_F(ServerTest, StoppingTheServerEndsAnIdleBatchAppendCallAfterItsAnswers) {
  grpc::ClientContext ctx;
  auto call = streams_->BatchAppend(&ctx);
  const Uuid a = Uuid::Random();
  ASSERT_TRUE(call->Write(Chunk(a, "idle-batch", 1, true)));
  ws::BatchAppendResp r;
  ASSERT_TRUE(call->Read(&r));
  EXPECT_TRUE(r.has_success());
  server_->Shutdown(std::chrono::seconds(30));  // returns once every call is done
  EXPECT_FALSE(call->Read(&r));
  grpc::Status s = call->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(s.error_message(), "server is shutting down");
}

TEST_F(ServerTest, OperationsStartAScavengeNameUnknownOnesAndAskForShutdown) {
  TearDown();
  std::atomic<int> shutdowns{0};
  ServerOptions o;
  o.on_shutdown_request = [&] { ++shutdowns; };
  StartServer(o);
  auto ops = wo::Operations::NewStub(channel_);
  {
    grpc::ClientContext ctx;
    wo::StartScavengeReq req;
    wo::ScavengeResp resp;
    ASSERT_TRUE(ops->StartScavenge(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.scavenge_result(), wo::ScavengeResp::Started);
    EXPECT_EQ(resp.scavenge_id().size(), 36u);
  }
  {
    grpc::ClientContext ctx;
    wo::StopScavengeReq req;
    req.mutable_options()->set_scavenge_id("not-a-scavenge");
    wo::ScavengeResp resp;
    grpc::Status s = ops->StopScavenge(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    std::map<std::string, std::string> t;
    for (const auto& [k, v] : ctx.GetServerTrailingMetadata()) {
      t[std::string(k.data(), k.size())] = std::string(v.data(), v.size());
    }
    EXPECT_EQ(t["exception"], "scavenge-not-found");
    EXPECT_EQ(t["scavenge-id"], "not-a-scavenge");
  }
  {
    grpc::ClientContext ctx;
    ::event_store::client::Empty req, resp;
    ASSERT_TRUE(ops->Shutdown(&ctx, req, &resp).ok());
    EXPECT_EQ(shutdowns.load(), 1);
  }
}

TEST_F(ServerTest, TheHttpSideAnswersHealthInfoGossipAndMetrics) {
  ws::AppendResp resp;
  ASSERT_TRUE(Append("metered", {"A", "B"}, &resp).ok());
  auto read = Read(StreamRead("metered", true, 10));
  ASSERT_EQ(read.messages.size(), 2u);
  ASSERT_GT(server_->http_port(), 0);
  httplib::Client http("127.0.0.1", server_->http_port());
  auto live = http.Get("/health/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 204);
  auto info = http.Get("/info");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->status, 200);
  auto j = nlohmann::json::parse(info->body);
  EXPECT_EQ(j["state"], "leader");
  EXPECT_EQ(j["protocolVersion"], kAdvertisedVersion);
  EXPECT_EQ(j["authentication"]["type"], "insecure");
  auto gossip = http.Get("/gossip");
  ASSERT_TRUE(gossip);
  auto g = nlohmann::json::parse(gossip->body);
  ASSERT_EQ(g["members"].size(), 1u);
  EXPECT_EQ(g["members"][0]["state"], "Leader");
  EXPECT_EQ(g["members"][0]["httpEndPointPort"], server_->port());
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  const std::string& m = metrics->body;
  EXPECT_NE(m.find("\ncairn_appends_total{result=\"ok\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("\ncairn_events_written_total 2\n"), std::string::npos);
  EXPECT_NE(m.find("\ncairn_events_read_total 2\n"), std::string::npos);
  EXPECT_NE(m.find("\ncairn_append_duration_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(m.find("\ncairn_store_events 2\n"), std::string::npos);
  EXPECT_NE(m.find("\ncairn_calls_total{method=\"/event_store.client.streams.Streams/Append\","
                   "code=\"OK\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(http.Get("/nothing-here")->status, 404);
}

TEST_F(ServerTest, SupportedMethodsListExactlyWhatIsServed) {
  auto stub = wf::ServerFeatures::NewStub(channel_);
  grpc::ClientContext ctx;
  ::event_store::client::Empty req;
  wf::SupportedMethods resp;
  ASSERT_TRUE(stub->GetSupportedMethods(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.event_store_server_version(), kAdvertisedVersion);
  std::vector<std::string> got;
  for (const auto& m : resp.methods()) got.push_back(m.service_name() + "/" + m.method_name());
  const std::vector<std::string> want = {
      "event_store.client.streams.streams/read",
      "event_store.client.streams.streams/append",
      "event_store.client.streams.streams/delete",
      "event_store.client.streams.streams/tombstone",
      "event_store.client.streams.streams/batchappend",
      "event_store.client.server_features.serverfeatures/getsupportedmethods",
      "event_store.client.gossip.gossip/read",
      "event_store.client.operations.operations/startscavenge",
      "event_store.client.operations.operations/stopscavenge",
      "event_store.client.operations.operations/shutdown",
      "event_store.client.users.users/create",
      "event_store.client.users.users/update",
      "event_store.client.users.users/delete",
      "event_store.client.users.users/disable",
      "event_store.client.users.users/enable",
      "event_store.client.users.users/details",
      "event_store.client.users.users/changepassword",
      "event_store.client.users.users/resetpassword",
  };
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace cairn::server
