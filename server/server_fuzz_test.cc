// A bounded fuzz run of every request handler of the Streams service over
// a real server on loopback: valid requests mutated byte by byte (and
// random bytes) that still parse as the request message are sent as calls;
// each must end with a clear status (never UNKNOWN, INTERNAL or DATA_LOSS,
// an INVALID_ARGUMENT always with a message), and the server must go on
// serving: after the run a plain append and read work and nothing already
// stored was lost. Iterations: CAIRN_FUZZ_ITERATIONS (default 1500); the
// seed is printed and CAIRN_SEED replays it.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "server/server.h"
#include "src/base/testing.h"
#include "streams.grpc.pb.h"

namespace cairn::server {
namespace {

namespace ws = ::event_store::client::streams;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

// Flips, drops, inserts or duplicates bytes of `bytes`.
std::string Mutate(std::string bytes, std::mt19937_64& rng) {
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits; ++i) {
    const size_t at = bytes.empty() ? 0 : rng() % bytes.size();
    switch (rng() % 4) {
      case 0:
        if (!bytes.empty()) bytes[at] = static_cast<char>(rng());
        break;
      case 1:
        if (!bytes.empty()) bytes.erase(at, 1 + rng() % 4);
        break;
      case 2:
        bytes.insert(at, 1, static_cast<char>(rng()));
        break;
      default:
        bytes.insert(at, bytes.substr(at, rng() % 8));
        break;
    }
  }
  return bytes;
}

std::string RandomBytes(std::mt19937_64& rng) {
  std::string s(rng() % 64, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// A message of type M from a mutated seed, or random bytes, if it parses.
// (Most byte edits of a nested message break its lengths: up to 50 tries.)
template <typename M>
bool Next(const M& seed, std::mt19937_64& rng, M* out) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const std::string bytes =
        rng() % 5 == 0 ? RandomBytes(rng) : Mutate(seed.SerializeAsString(), rng);
    if (out->ParseFromString(bytes)) return true;
  }
  return false;
}

ws::ReadReq SeedRead() {
  ws::ReadReq r;
  auto* o = r.mutable_options();
  o->mutable_stream()->mutable_stream_identifier()->set_stream_name("fuzz-1");
  o->mutable_stream()->set_revision(0);
  o->set_count(5);
  o->mutable_no_filter();
  o->mutable_uuid_option()->mutable_string();
  return r;
}

ws::ReadReq SeedFilteredAll() {
  ws::ReadReq r;
  auto* o = r.mutable_options();
  o->mutable_all()->mutable_position()->set_commit_position(1);
  o->set_count(5);
  auto* f = o->mutable_filter();
  f->mutable_event_type()->add_prefix("E");
  f->set_max(4);
  f->set_checkpointintervalmultiplier(1);
  o->mutable_uuid_option()->mutable_structured();
  return r;
}

ws::AppendReq SeedOptions() {
  ws::AppendReq r;
  r.mutable_options()->mutable_stream_identifier()->set_stream_name("fuzz-2");
  r.mutable_options()->mutable_any();
  return r;
}

ws::AppendReq SeedEvent() {
  ws::AppendReq r;
  auto* m = r.mutable_proposed_message();
  m->mutable_id()->set_string("0f8fad5b-d9cb-469f-a165-70867728950e");
  (*m->mutable_metadata())["type"] = "E";
  (*m->mutable_metadata())["content-type"] = "application/json";
  m->set_data("{\"a\":1}");
  return r;
}

ws::BatchAppendReq SeedBatch() {
  ws::BatchAppendReq r;
  r.mutable_correlation_id()->set_string("1f8fad5b-d9cb-469f-a165-70867728950e");
  r.mutable_options()->mutable_stream_identifier()->set_stream_name("fuzz-3");
  r.mutable_options()->mutable_any();
  auto* m = r.add_proposed_messages();
  m->mutable_id()->mutable_structured()->set_most_significant_bits(1);
  m->mutable_id()->mutable_structured()->set_least_significant_bits(2);
  (*m->mutable_metadata())["type"] = "E";
  (*m->mutable_metadata())["content-type"] = "application/octet-stream";
  m->set_data("x");
  r.set_is_final(true);
  return r;
}

ws::DeleteReq SeedDelete() {
  ws::DeleteReq r;
  r.mutable_options()->mutable_stream_identifier()->set_stream_name("fuzz-4");
  r.mutable_options()->set_revision(0);
  return r;
}

// Calls made, by method and status code (printed: what the run covered).
std::map<std::string, int> g_outcomes;

// What a call may end with: a clear answer, never an internal failure.
void ExpectClear(const grpc::Status& s, const char* method) {
  ++g_outcomes[std::string(method) + " " + std::to_string(s.error_code())];
  EXPECT_NE(s.error_code(), grpc::StatusCode::UNKNOWN) << method << ": " << s.error_message();
  EXPECT_NE(s.error_code(), grpc::StatusCode::INTERNAL) << method << ": " << s.error_message();
  EXPECT_NE(s.error_code(), grpc::StatusCode::DATA_LOSS) << method << ": " << s.error_message();
  if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    EXPECT_FALSE(s.error_message().empty()) << method;
  }
}

std::chrono::system_clock::time_point Soon() {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(300);
}

TEST(ServerFuzzTest, MutatedRequestsGetClearErrorsAndTheServerGoesOn) {
  const uint64_t seed = EnvOr("CAIRN_SEED", std::random_device()());
  const uint64_t iterations = EnvOr("CAIRN_FUZZ_ITERATIONS", 1500);
  std::printf("ServerFuzzTest seed=%llu iterations=%llu\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(iterations));
  std::mt19937_64 rng(seed);

  testing::TempDir dir;
  auto store = OpenStore(dir.Sub("db"));
  ASSERT_TRUE(store);
  std::FILE* log_file = std::tmpfile();
  JsonLog log(log_file);
  ServerOptions o;
  o.port = 0;
  o.http_port = -1;
  o.insecure = true;
  auto server = Server::Start(store->get(), o, &log);
  ASSERT_TRUE(server) << server.error().ToString();
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = ws::Streams::NewStub(channel);

  // Something stored before, which must survive the run (no seed names its
  // stream, and four edits cannot make one of theirs into it).
  ws::AppendReq kept = SeedOptions();
  kept.mutable_options()->mutable_stream_identifier()->set_stream_name("kept-before-the-run");
  {
    grpc::ClientContext ctx;
    ws::AppendResp resp;
    auto w = stub->Append(&ctx, &resp);
    ASSERT_TRUE(w->Write(kept));
    ASSERT_TRUE(w->Write(SeedEvent()));
    w->WritesDone();
    ASSERT_TRUE(w->Finish().ok());
    ASSERT_TRUE(resp.has_success());
  }

  const ws::ReadReq reads[] = {SeedRead(), SeedFilteredAll()};
  const ws::AppendReq append_options = SeedOptions(), append_event = SeedEvent();
  const ws::BatchAppendReq batch = SeedBatch();
  const ws::DeleteReq del = SeedDelete();
  for (uint64_t i = 0; i < iterations; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Soon());  // a mutated read may be a subscription: it never ends alone
    switch (rng() % 4) {
      case 0: {
        ws::ReadReq req;
        if (!Next(reads[rng() % 2], rng, &req)) continue;
        auto reader = stub->Read(&ctx, req);
        ws::ReadResp m;
        bool ended = false;
        for (int n = 0; n < 50 && !ended; ++n) ended = !reader->Read(&m);
        if (!ended) ctx.TryCancel();  // a subscription, or a long read
        ExpectClear(reader->Finish(), "Read");
        break;
      }
      case 1: {
        ws::AppendResp resp;
        auto w = stub->Append(&ctx, &resp);
        ws::AppendReq first, ev;
        if (!Next(append_options, rng, &first)) first = append_options;
        w->Write(first);
        for (int n = 0; n < 3; ++n) {
          if (Next(append_event, rng, &ev)) w->Write(ev);
        }
        w->WritesDone();
        ExpectClear(w->Finish(), "Append");
        break;
      }
      case 2: {
        auto call = stub->BatchAppend(&ctx);
        ws::BatchAppendReq req;
        for (int n = 0; n < 3; ++n) {
          if (Next(batch, rng, &req)) call->Write(req);
        }
        call->WritesDone();
        ws::BatchAppendResp r;
        while (call->Read(&r)) {
          if (r.has_error()) {
            EXPECT_NE(r.error().code(), static_cast<int>(grpc::StatusCode::INTERNAL));
            EXPECT_TRUE(r.error().has_details());  // the Node client needs one
          }
        }
        ExpectClear(call->Finish(), "BatchAppend");
        break;
      }
      default: {
        ws::DeleteReq req;
        if (!Next(del, rng, &req)) continue;
        ws::DeleteResp resp;
        ExpectClear(stub->Delete(&ctx, req, &resp), "Delete");
        break;
      }
    }
    if (::testing::Test::HasFailure()) break;  // the first failure is the one to replay
  }

  for (const auto& [outcome, n] : g_outcomes) std::printf("  %s: %d\n", outcome.c_str(), n);
  // The server goes on, and the event stored first is still there.
  grpc::ClientContext ctx;
  auto reader = stub->Read(&ctx, [] {
    ws::ReadReq r = SeedRead();
    r.mutable_options()->mutable_stream()->mutable_stream_identifier()->set_stream_name(
        "kept-before-the-run");
    return r;
  }());
  ws::ReadResp m;
  ASSERT_TRUE(reader->Read(&m));
  EXPECT_TRUE(m.has_event()) << m.DebugString();
  EXPECT_EQ(m.event().event().stream_revision(), 0u);
  EXPECT_EQ(m.event().event().data(), "{\"a\":1}");
  while (reader->Read(&m)) {
  }
  EXPECT_TRUE(reader->Finish().ok());
  (*server)->Shutdown(std::chrono::milliseconds(100));
  EXPECT_TRUE((*store)->Close().ok());
  std::fclose(log_file);
}

}  // namespace
}  // namespace cairn::server
