// Blocking appends under load: many threads queue at once, the first leads,
// the commit thread takes over a busy queue and the waker wakes each batch's
// writers by generation (store_impl.h, Writer::gen). Each writer must get
// exactly its own result or error, whatever batch and generation it was in:
// batches cut by size, checkpoint barriers and wrong expectations among them.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "cairn/native.h"
#include "src/base/testing.h"

namespace cairn {
namespace {

using testing::Ev;
using testing::TempDir;

struct Outcome {
  uint64_t revision = 0;
  uint64_t position = 0;
};

std::vector<EventData> One(std::string type, std::string data = "{}") {
  std::vector<EventData> events;
  events.push_back(Ev(std::move(type), std::move(data)));
  return events;
}

// Checks that `outcomes` hold every position 0..n-1 once.
void ExpectGapFree(const std::vector<std::vector<Outcome>>& outcomes) {
  size_t n = 0;
  for (const auto& t : outcomes) n += t.size();
  std::vector<int> seen(n, 0);
  for (const auto& t : outcomes) {
    for (const Outcome& o : t) {
      ASSERT_LT(o.position, n);
      ++seen[o.position];
    }
  }
  for (size_t p = 0; p < n; ++p) EXPECT_EQ(seen[p], 1) << "position " << p;
}

TEST(GroupCommitTest, ManyBlockingWritersEachGetTheirOwnRevisionAndPosition) {
  constexpr int kThreads = 48;
  constexpr int kEach = 60;
  TempDir dir;
  auto store = NativeStore::Open(dir.path(), {});
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  std::vector<std::vector<Outcome>> out(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string stream = "w-" + std::to_string(t);
      for (int k = 0; k < kEach; ++k) {
        const ExpectedRevision expected =
            k == 0 ? ExpectedRevision::NoStream() : ExpectedRevision::Exact(StreamRevision(k - 1));
        auto r = (*store)->Append(stream, expected, One("E", std::to_string(k)));
        ASSERT_TRUE(r.has_value()) << stream << " #" << k << ": " << r.error().ToString();
        out[t].push_back(Outcome{r->revision->value(), r->position.value()});
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(out[t].size(), static_cast<size_t>(kEach));
    for (int k = 0; k < kEach; ++k) {
      EXPECT_EQ(out[t][k].revision, static_cast<uint64_t>(k)) << "w-" << t;
      if (k > 0) {
        EXPECT_GT(out[t][k].position, out[t][k - 1].position) << "w-" << t;
      }
    }
  }
  ExpectGapFree(out);
  EXPECT_EQ((*store)->HeadPosition()->value(), static_cast<uint64_t>(kThreads * kEach));
  // What each writer was told is what is stored.
  for (int t = 0; t < kThreads; ++t) {
    auto events = (*store)->ReadStream("w-" + std::to_string(t), ReadStreamOptions{});
    ASSERT_TRUE(events.has_value()) << events.error().ToString();
    ASSERT_EQ(events->size(), static_cast<size_t>(kEach));
    for (int k = 0; k < kEach; ++k) {
      EXPECT_EQ((*events)[k].position.value(), out[t][k].position);
      EXPECT_EQ((*events)[k].data, std::to_string(k));
    }
  }
}

// Queued writers of one generation end up in different batches when a
// batch reaches its size cap (8 MiB): the later ones are woken spuriously
// by the first batch and must sleep on until their own commits.
TEST(GroupCommitTest, WritersOfOneGenerationSplitAcrossBatchesBySizeAllComplete) {
  constexpr int kThreads = 8;
  constexpr int kEach = 4;
  TempDir dir;
  NativeOptions options;
  options.durability = Durability::kNoSyncUnsafe;  // 96 MiB of events: the wake-ups are tested
  auto store = NativeStore::Open(dir.path(), options);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  std::string big(3u << 20, 'x');  // a JSON string; three of them pass the cap
  big.front() = '"';
  big.back() = '"';
  std::vector<std::vector<Outcome>> out(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kEach; ++k) {
        auto r =
            (*store)->Append("big-" + std::to_string(t), ExpectedRevision::Any(), One("Big", big));
        ASSERT_TRUE(r.has_value()) << r.error().ToString();
        out[t].push_back(Outcome{r->revision->value(), r->position.value()});
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(out[t].size(), static_cast<size_t>(kEach));
    for (int k = 0; k < kEach; ++k) EXPECT_EQ(out[t][k].revision, static_cast<uint64_t>(k));
  }
  ExpectGapFree(out);
}

// Wrong expectations fail only their own writer, with the conflict's
// detail, while the writers batched with them commit; checkpoints (barriers
// that go alone) run among them.
TEST(GroupCommitTest, ConflictsAndCheckpointsAmongBusyWritersReachOnlyTheirOwnCaller) {
  constexpr int kThreads = 24;
  constexpr int kEach = 40;
  TempDir dir;
  auto store = NativeStore::Open(dir.path(), {});
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  std::atomic<bool> stop{false};
  std::thread checkpointer([&] {
    do {
      Status s = (*store)->Checkpoint();
      ASSERT_TRUE(s.ok()) << s.ToString();
    } while (!stop.load());
  });
  std::vector<std::vector<Outcome>> out(kThreads);
  std::vector<int> conflicts(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string stream = "c-" + std::to_string(t);
      for (int k = 0; k < kEach; ++k) {
        const uint64_t next = out[t].size();
        if (k % 7 == 3) {
          // One past the stream's end: always wrong.
          auto bad =
              (*store)->Append(stream, ExpectedRevision::Exact(StreamRevision(next)), One("Bad"));
          ASSERT_FALSE(bad.has_value());
          ASSERT_EQ(bad.error().code(), ErrorCode::kWrongExpectedRevision);
          const RevisionConflict* c = bad.error().conflict();
          ASSERT_NE(c, nullptr);
          EXPECT_EQ(c->stream, stream);
          EXPECT_EQ(c->expected, std::to_string(next));
          ASSERT_TRUE(c->actual.has_value());
          EXPECT_EQ(*c->actual, next - 1);
          ++conflicts[t];
          continue;
        }
        const ExpectedRevision expected = next == 0
                                              ? ExpectedRevision::NoStream()
                                              : ExpectedRevision::Exact(StreamRevision(next - 1));
        auto r = (*store)->Append(stream, expected, One("Good"));
        ASSERT_TRUE(r.has_value()) << stream << ": " << r.error().ToString();
        EXPECT_EQ(r->revision->value(), next);
        out[t].push_back(Outcome{r->revision->value(), r->position.value()});
      }
    });
  }
  for (auto& th : threads) th.join();
  stop.store(true);
  checkpointer.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(conflicts[t], 6) << "c-" << t;  // k = 3, 10, 17, 24, 31, 38
    EXPECT_EQ(out[t].size(), static_cast<size_t>(kEach - 6)) << "c-" << t;
  }
  ExpectGapFree(out);
}

}  // namespace
}  // namespace cairn
