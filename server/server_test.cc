// The server over a real store and real loopback sockets, driven by gRPC's
// own C++ client with our .proto files: what each call answers, in band
// and in its status and trailers (docs/format/kurrentdb-v1.md).
#include "server/server.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "cluster_service.h"
#include "serverfeatures.grpc.pb.h"
#include "src/base/testing.h"
#include "streams.grpc.pb.h"

namespace cairn::server {
namespace {

namespace ws = ::event_store::client::streams;
namespace wf = ::event_store::client::server_features;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenStore(dir_.Sub("db"));
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    ServerOptions o;
    o.port = 0;
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
      "event_store.client.server_features.serverfeatures/getsupportedmethods",
      "event_store.client.gossip.gossip/read",
  };
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace cairn::server
