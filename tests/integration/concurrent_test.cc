// Concurrent appenders and readers: several threads append (each to its own
// streams, all to one shared stream with Any, sometimes to both at once in a
// multi-stream append) while a reader checks every snapshot it sees: $all
// positions contiguous from 0 and no append ever visible in part. At the end
// the store must hold exactly the union of the acknowledged appends.
//
// Every event carries a marker naming its append call, its index within its
// stream's part and the size of that part and of the whole call.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "cairn/native.h"
#include "src/base/testing.h"
#include "tests/integration/printers.h"

namespace cairn {
namespace {

using testing::TempDir;

constexpr int kWriters = 4;
constexpr int kAppendsPerWriter = 300;
const char kShared[] = "shared";

std::string OwnStream(int writer, int k) {
  return "own-" + std::to_string(writer) + "-" + std::to_string(k);
}

struct Marker {
  int writer = -1, call = -1, k = -1, n = -1, total = -1;
  bool operator<(const Marker& o) const {
    return std::tie(writer, call) < std::tie(o.writer, o.call);
  }
};

std::string MarkerData(int writer, int call, int k, int n, int total) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "{\"m\":\"t%d-%d\",\"k\":%d,\"n\":%d,\"total\":%d}", writer, call,
                k, n, total);
  return buf;
}

bool ParseMarker(const std::string& data, Marker* m) {
  return std::sscanf(data.c_str(), "{\"m\":\"t%d-%d\",\"k\":%d,\"n\":%d,\"total\":%d}", &m->writer,
                     &m->call, &m->k, &m->n, &m->total) == 5;
}

// One acknowledged append call.
struct Ack {
  int writer = 0, call = 0;
  std::vector<StreamAppend> parts;
  std::vector<AppendResult> results;
};

// Checks that `events` (a snapshot read of $all from position 0, or of one
// stream from revision 0) shows every append whole. Returns a problem or "".
std::string CheckSnapshot(const std::vector<RecordedEvent>& events, bool is_all) {
  std::map<Marker, std::vector<size_t>> seen;  // call -> indexes in `events`
  for (size_t i = 0; i < events.size(); ++i) {
    const RecordedEvent& e = events[i];
    uint64_t expect = is_all ? e.position.value() : e.revision.value();
    if (expect != i) {
      return (is_all ? "position " : "revision ") + std::to_string(expect) + " at index " +
             std::to_string(i);
    }
    Marker m;
    if (!ParseMarker(e.data, &m)) return "unparsable event data " + e.data;
    seen[m].push_back(i);
  }
  for (const auto& [m, idx] : seen) {
    // In $all a call's events are one record: contiguous, all present. In a
    // stream, the part of that stream: contiguous revisions, all present.
    size_t want = 0;
    if (is_all) {
      want = static_cast<size_t>(m.total);
    } else {
      Marker first;
      (void)ParseMarker(events[idx[0]].data, &first);
      want = static_cast<size_t>(first.n);
    }
    if (idx.size() != want || idx.back() - idx.front() + 1 != want) {
      return "append t" + std::to_string(m.writer) + "-" + std::to_string(m.call) + " shows " +
             std::to_string(idx.size()) + " of " + std::to_string(want) + " events";
    }
  }
  return "";
}

TEST(ConcurrentTest, AppendersAndReadersSeeWholeAppends) {
  const uint64_t seed = std::getenv("CAIRN_SEED")
                            ? std::strtoull(std::getenv("CAIRN_SEED"), nullptr, 10)
                            : std::random_device{}();
  std::printf("concurrent: CAIRN_SEED=%llu (thread interleaving is not replayable)\n",
              static_cast<unsigned long long>(seed));
  TempDir dir;
  NativeOptions o;
  o.durability = Durability::kFsync;  // group commit shares the fsyncs
  o.memtable_entries = 40;
  o.segment_bytes = 16384;
  auto opened = NativeStore::Open(dir.path(), o);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  std::unique_ptr<NativeStore> store = std::move(*opened);

  std::mutex acks_mu;
  std::vector<Ack> acks;  // guarded by acks_mu
  std::atomic<int> writers_left{kWriters};
  std::vector<std::string> errors(kWriters + 1);  // one slot per thread

  auto writer = [&](int w) {
    std::mt19937_64 rng(seed * 31 + static_cast<uint64_t>(w));
    std::optional<uint64_t> own_last[2];
    for (int call = 0; call < kAppendsPerWriter && errors[w].empty(); ++call) {
      Ack ack{w, call, {}, {}};
      const int kind = static_cast<int>(rng() % 4);  // 0,1 own; 2 shared; 3 both
      const int own = static_cast<int>(rng() % 2);
      if (kind != 2) {
        StreamAppend a;
        a.stream = OwnStream(w, own);
        a.expected = own_last[own] ? ExpectedRevision::Exact(StreamRevision(*own_last[own]))
                                   : ExpectedRevision::NoStream();
        a.events.resize(1 + rng() % 4);
        ack.parts.push_back(std::move(a));
      }
      if (kind >= 2) {
        StreamAppend a;
        a.stream = kShared;
        a.events.resize(1 + rng() % 4);
        ack.parts.push_back(std::move(a));
      }
      int total = 0;
      for (const auto& p : ack.parts) total += static_cast<int>(p.events.size());
      for (auto& p : ack.parts) {
        const int n = static_cast<int>(p.events.size());
        for (int k = 0; k < n; ++k) {
          p.events[k].type = "Marked";
          p.events[k].data = MarkerData(w, call, k, n, total);
        }
      }
      auto r = store->AppendMulti(ack.parts);
      if (!r) {
        errors[w] =
            "t" + std::to_string(w) + " call " + std::to_string(call) + ": " + r.error().ToString();
        break;
      }
      ack.results = *r;
      if (kind != 2) own_last[own] = ack.results[0].revision->value();
      std::lock_guard l(acks_mu);
      acks.push_back(std::move(ack));
    }
    --writers_left;
  };

  auto reader = [&] {
    std::mt19937_64 rng(seed);
    std::string& err = errors[kWriters];
    for (int iter = 0; writers_left.load() > 0 && err.empty(); ++iter) {
      auto all = store->ReadAll(ReadAllOptions{});
      if (!all) {
        err = "ReadAll: " + all.error().ToString();
        break;
      }
      err = CheckSnapshot(*all, true);
      if (!err.empty()) break;
      const std::string stream =
          rng() % 2 ? std::string(kShared)
                    : OwnStream(static_cast<int>(rng() % kWriters), static_cast<int>(rng() % 2));
      auto events = store->ReadStream(stream, ReadStreamOptions{});
      if (events) {
        err = CheckSnapshot(*events, false);
      } else if (events.error().code() != ErrorCode::kNotFound) {
        err = "ReadStream " + stream + ": " + events.error().ToString();
      }
      if (iter % 7 == 3) {
        Status s = store->Checkpoint();
        if (!s.ok()) err = "Checkpoint: " + s.ToString();
      }
      if (iter % 11 == 5) {
        NativeOptions ro = o;
        ro.read_only = true;
        auto follower = NativeStore::Open(dir.path(), ro);
        if (!follower) {
          err = "read-only open: " + follower.error().ToString();
        } else if (auto fa = (*follower)->ReadAll(ReadAllOptions{}); !fa) {
          err = "read-only ReadAll: " + fa.error().ToString();
        } else {
          err = CheckSnapshot(*fa, true);
        }
      }
    }
  };

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) threads.emplace_back(writer, w);
  std::thread read_thread(reader);
  for (auto& t : threads) t.join();
  read_thread.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  if (::testing::Test::HasFailure()) return;

  // The store holds exactly the union of the acknowledged appends.
  uint64_t total = 0;
  for (const Ack& a : acks) {
    for (const auto& p : a.parts) total += p.events.size();
  }
  ASSERT_EQ(store->HeadPosition()->value(), total);
  auto all = store->ReadAll(ReadAllOptions{});
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  ASSERT_EQ(all->size(), total);
  EXPECT_EQ(CheckSnapshot(*all, true), "");
  std::vector<int> covered(total, 0);
  std::map<std::string, uint64_t> stream_events;
  for (const Ack& a : acks) {
    ASSERT_EQ(a.results.size(), a.parts.size());
    for (size_t i = 0; i < a.parts.size(); ++i) {
      const StreamAppend& p = a.parts[i];
      const AppendResult& r = a.results[i];
      const uint64_t n = p.events.size();
      EXPECT_EQ(r.stream, p.stream);
      EXPECT_FALSE(r.duplicate);
      ASSERT_TRUE(r.revision.has_value());
      stream_events[p.stream] += n;
      for (uint64_t k = 0; k < n; ++k) {
        const uint64_t pos = r.position.value() + 1 - n + k;
        ASSERT_LT(pos, total);
        ++covered[pos];
        const RecordedEvent& e = (*all)[pos];
        EXPECT_EQ(e.stream, p.stream) << "position " << pos;
        EXPECT_EQ(e.revision.value(), r.revision->value() + 1 - n + k) << "position " << pos;
        EXPECT_EQ(e.data, p.events[k].data) << "position " << pos;
      }
    }
  }
  for (uint64_t p = 0; p < total; ++p) EXPECT_EQ(covered[p], 1) << "position " << p;
  for (const auto& [stream, n] : stream_events) {
    auto events = store->ReadStream(stream, ReadStreamOptions{});
    ASSERT_TRUE(events.has_value()) << stream << ": " << events.error().ToString();
    EXPECT_EQ(events->size(), n) << stream;
    EXPECT_EQ(CheckSnapshot(*events, false), "") << stream;
  }
  VerifyReport rep;
  ASSERT_TRUE(store->Verify(&rep).ok());
  EXPECT_TRUE(rep.problems.empty()) << rep.problems[0].what;
  EXPECT_EQ(rep.events_checked, total);

  // And still after a reopen, ids included.
  ASSERT_TRUE(store->Close().ok());
  store.reset();
  auto again = NativeStore::Open(dir.path(), o);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  auto all2 = (*again)->ReadAll(ReadAllOptions{});
  ASSERT_TRUE(all2.has_value()) << all2.error().ToString();
  ASSERT_EQ(all2->size(), total);
  for (uint64_t p = 0; p < total; ++p) {
    EXPECT_EQ((*all2)[p].id, (*all)[p].id) << "position " << p;
    EXPECT_EQ((*all2)[p].data, (*all)[p].data) << "position " << p;
  }
}

}  // namespace
}  // namespace cairn
