// kill -9 of a real `cairn-serve` process while clients append over gRPC,
// checked against the clients' oracle: after a restart every append a
// client saw acknowledged is there, at its revisions, with its ids; every
// append is whole or absent (never some of its events); nothing is there
// that no client sent. Three kill cycles on one store.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "src/base/testing.h"
#include "streams.grpc.pb.h"

namespace cairn::server {
namespace {

namespace ws = ::event_store::client::streams;

constexpr int kWriters = 4;
constexpr int kEventsPerAppend = 3;

// A running cairn-serve; its gRPC port read from its `listening` log line.
struct ServerProcess {
  pid_t pid = -1;
  int port = 0;
};

ServerProcess Spawn(const std::string& db) {
  int out[2];
  EXPECT_EQ(::pipe(out), 0);
  ServerProcess p;
  p.pid = ::fork();
  if (p.pid == 0) {
    ::dup2(out[1], 2);
    ::close(out[0]);
    ::close(out[1]);
    ::execl(CAIRN_SERVE_BINARY, "cairn-serve", "--db", db.c_str(), "--port", "0", "--http-port",
            "-1", "--insecure", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::FILE* err = ::fdopen(out[0], "r");
  char line[4096];
  while (std::fgets(line, sizeof line, err) != nullptr) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("msg", "") == "listening") {
      p.port = j.value("port", 0);
      break;
    }
  }
  // The rest of its log is not read: a thread drains it so it never blocks.
  std::thread([err] {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, err) != nullptr) {
    }
    std::fclose(err);
  }).detach();
  return p;
}

struct Oracle {
  std::mutex mu;
  // stream -> first revision -> the append's ids (acknowledged ones).
  std::map<std::string, std::map<uint64_t, std::vector<std::string>>> acked;
  std::set<std::string> sent_ids;  // every id any client sent
};

// Appends batches of kEventsPerAppend to `stream` with exact expected
// revisions until a call fails (the server was killed).
void Writer(const std::string& target, const std::string& stream, uint64_t next, Oracle* oracle,
            std::atomic<int>* acks) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = ws::Streams::NewStub(channel);
  for (;;) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    ws::AppendResp resp;
    auto w = stub->Append(&ctx, &resp);
    ws::AppendReq req;
    req.mutable_options()->mutable_stream_identifier()->set_stream_name(stream);
    if (next == 0) {
      req.mutable_options()->mutable_no_stream();
    } else {
      req.mutable_options()->set_revision(next - 1);
    }
    w->Write(req);
    std::vector<std::string> ids;
    for (int i = 0; i < kEventsPerAppend; ++i) {
      ids.push_back(Uuid::Random().ToString());
      {
        std::lock_guard l(oracle->mu);
        oracle->sent_ids.insert(ids.back());
      }
      ws::AppendReq ev;
      auto* m = ev.mutable_proposed_message();
      m->mutable_id()->set_string(ids.back());
      (*m->mutable_metadata())["type"] = "K";
      (*m->mutable_metadata())["content-type"] = "application/json";
      m->set_data("{\"i\":" + std::to_string(i) + "}");
      w->Write(ev);
    }
    w->WritesDone();
    if (!w->Finish().ok() || !resp.has_success()) return;
    EXPECT_EQ(resp.success().current_revision(), next + kEventsPerAppend - 1);
    {
      std::lock_guard l(oracle->mu);
      oracle->acked[stream][next] = ids;
    }
    next += kEventsPerAppend;
    acks->fetch_add(1);
  }
}

// Every event of `stream` (revision, id) read back through a server.
std::vector<std::pair<uint64_t, std::string>> ReadAll(ws::Streams::Stub* stub,
                                                      const std::string& stream) {
  grpc::ClientContext ctx;
  ws::ReadReq req;
  auto* o = req.mutable_options();
  o->mutable_stream()->mutable_stream_identifier()->set_stream_name(stream);
  o->mutable_stream()->mutable_start();
  o->set_count(1'000'000);
  o->mutable_no_filter();
  o->mutable_uuid_option()->mutable_string();
  auto reader = stub->Read(&ctx, req);
  std::vector<std::pair<uint64_t, std::string>> events;
  ws::ReadResp m;
  while (reader->Read(&m)) {
    if (m.has_event()) {
      events.push_back({m.event().event().stream_revision(), m.event().event().id().string()});
    }
  }
  EXPECT_TRUE(reader->Finish().ok());
  return events;
}

TEST(ServerKillTest, AcknowledgedAppendsSurviveKill9OfTheServer) {
  testing::TempDir dir;
  const std::string db = dir.Sub("db");
  Oracle oracle;
  std::map<std::string, uint64_t> next;  // where each writer resumes
  for (int cycle = 0; cycle < 3; ++cycle) {
    ServerProcess server = Spawn(db);
    ASSERT_GT(server.port, 0) << "cairn-serve did not start";
    const std::string target = "127.0.0.1:" + std::to_string(server.port);
    std::atomic<int> acks{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < kWriters; ++t) {
      const std::string stream = "kill-" + std::to_string(t);
      writers.emplace_back(Writer, target, stream, next[stream], &oracle, &acks);
    }
    // Kill once the writers have had appends acknowledged, mid-flight.
    const int want = 40 * (cycle + 1);
    while (acks.load() < want) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_EQ(::kill(server.pid, SIGKILL), 0);
    int status = 0;
    ::waitpid(server.pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status));
    for (auto& w : writers) w.join();

    // Restart and check against the oracle.
    ServerProcess check = Spawn(db);
    ASSERT_GT(check.port, 0);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(check.port),
                                       grpc::InsecureChannelCredentials());
    auto stub = ws::Streams::NewStub(channel);
    for (int t = 0; t < kWriters; ++t) {
      const std::string stream = "kill-" + std::to_string(t);
      auto events = ReadAll(stub.get(), stream);
      std::lock_guard l(oracle.mu);
      // Whole appends only, revisions from 0 with no gap.
      ASSERT_EQ(events.size() % kEventsPerAppend, 0u) << stream;
      for (size_t i = 0; i < events.size(); ++i) {
        ASSERT_EQ(events[i].first, i) << stream;
        EXPECT_EQ(oracle.sent_ids.count(events[i].second), 1u) << "never sent: " << stream;
      }
      // Every acknowledged append, at its revisions, with its ids.
      for (const auto& [first, ids] : oracle.acked[stream]) {
        ASSERT_GE(events.size(), first + ids.size()) << stream << " lost acknowledged events";
        for (size_t k = 0; k < ids.size(); ++k) EXPECT_EQ(events[first + k].second, ids[k]);
      }
      // An append whose answer was lost may be there: the next cycle
      // continues after what is stored.
      next[stream] = events.size();
    }
    ::kill(check.pid, SIGTERM);
    ::waitpid(check.pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
}

}  // namespace
}  // namespace cairn::server
