// The group-commit queue alone, with a committer that records its batches:
// batching, barriers, callback order, reentrancy, drain, the sticky
// failure and the queue's threads.
#include "src/store/commit_queue.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "src/env/fault_env.h"

namespace cairn {
namespace {

// Records each batch as the ids (first event type) of its writers; can
// hold the first batch until released.
class RecordingCommitter final : public CommitQueue::Committer {
 public:
  void CommitBatch(std::span<CommitWriter* const> batch, Status failed) override {
    std::vector<std::string> ids;
    for (CommitWriter* w : batch) {
      ids.push_back(Id(*w));
      w->status = failed;
      w->results.assign(w->appends.size(), AppendResult{});
    }
    std::unique_lock l(mu_);
    batches_.push_back(std::move(ids));
    failures_.push_back(failed);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(l, [&] { return !hold_; });
  }
  static std::string Id(const CommitWriter& w) {
    if (w.checkpoint) return "barrier";
    return std::string(w.appends[0].events[0].type);
  }
  void Hold() {
    std::lock_guard l(mu_);
    hold_ = true;
    entered_ = false;
  }
  void WaitEntered() {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return entered_; });
  }
  void Release() {
    {
      std::lock_guard l(mu_);
      hold_ = false;
    }
    cv_.notify_all();
  }
  std::vector<std::vector<std::string>> batches() {
    std::lock_guard l(mu_);
    return batches_;
  }
  std::vector<Status> failures() {
    std::lock_guard l(mu_);
    return failures_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  bool entered_ = false;
  std::vector<std::vector<std::string>> batches_;
  std::vector<Status> failures_;
};

// Events live as long as the test: writers only view them.
struct Events {
  std::map<std::string, std::vector<EventData>> by_id;
  std::span<const EventData> Of(const std::string& id) {
    auto& v = by_id[id];
    if (v.empty()) v.push_back(EventData{std::nullopt, id, ContentType::kJson, "{}", ""});
    return v;
  }
};

// An asynchronous writer whose callback appends `id` to `*order`.
std::unique_ptr<CommitWriter> Async(Events* events, const std::string& id,
                                    std::vector<std::string>* order, std::mutex* mu,
                                    bool checkpoint = false, bool system = false) {
  auto w = std::make_unique<CommitWriter>();
  w->checkpoint = checkpoint;
  w->system = system;
  w->owned = std::make_unique<CommitWriter::Owned>();
  w->owned->bytes = 10;
  w->owned->done = [id, order, mu](Result<std::vector<AppendResult>>) {
    std::lock_guard l(*mu);
    order->push_back(id);
  };
  w->appends.push_back({"s", ExpectedRevision::Any(), events->Of(id)});
  return w;
}

TEST(CommitQueueTest, BarriersAndSystemAppendsGoAloneAndCallbacksRunInCommitOrder) {
  FaultInjectionEnv env(Env::Default());
  RecordingCommitter committer;
  CommitQueue queue(&env, &committer, 1 << 20);
  Events events;
  std::vector<std::string> order;
  std::mutex mu;
  committer.Hold();
  ASSERT_TRUE(queue.Enqueue(Async(&events, "w0", &order, &mu)).ok());
  committer.WaitEntered();  // the commit thread holds [w0]; the rest queue up behind it
  ASSERT_TRUE(queue.Enqueue(Async(&events, "w1", &order, &mu)).ok());
  ASSERT_TRUE(queue.Enqueue(Async(&events, "w2", &order, &mu)).ok());
  ASSERT_TRUE(queue.Enqueue(Async(&events, "w3", &order, &mu, /*checkpoint=*/true)).ok());
  ASSERT_TRUE(queue.Enqueue(Async(&events, "w4", &order, &mu)).ok());
  ASSERT_TRUE(queue.Enqueue(Async(&events, "w5", &order, &mu, false, /*system=*/true)).ok());
  ASSERT_TRUE(queue.Enqueue(Async(&events, "w6", &order, &mu)).ok());
  committer.Release();
  queue.Drain();  // every callback has run when it returns
  EXPECT_EQ(committer.batches(), (std::vector<std::vector<std::string>>{
                                     {"w0"}, {"w1", "w2"}, {"barrier"}, {"w4"}, {"w5"}, {"w6"}}));
  EXPECT_EQ(order, (std::vector<std::string>{"w0", "w1", "w2", "w3", "w4", "w5", "w6"}));
  EXPECT_EQ(env.threads_started(), (std::vector<std::string>{"cairn-commit", "cairn-waker"}));
  EXPECT_EQ(env.threads_running(), 0);
}

TEST(CommitQueueTest, EveryBlockingWriterOfManyThreadsIsCommittedExactlyOnce) {
  RecordingCommitter committer;
  CommitQueue queue(Env::Default(), &committer, 1 << 20);
  Events events;
  constexpr int kThreads = 8, kEach = 200;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) events.Of(std::to_string(t) + "/" + std::to_string(i));
  }
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        CommitWriter w;
        w.appends.push_back({"s", ExpectedRevision::Any(),
                             events.by_id.at(std::to_string(t) + "/" + std::to_string(i))});
        if (!queue.Run(&w).ok() || !w.status.ok() || w.results.size() != 1) ++failed;
      }
    });
  }
  for (auto& th : threads) th.join();
  queue.Drain();
  EXPECT_EQ(failed.load(), 0);
  std::multiset<std::string> seen;
  for (const auto& b : committer.batches()) seen.insert(b.begin(), b.end());
  ASSERT_EQ(seen.size(), size_t{kThreads * kEach});
  for (const auto& [id, unused] : events.by_id) EXPECT_EQ(seen.count(id), 1u) << id;
}

TEST(CommitQueueTest, ABlockingCallFromAnAppendCallbackIsAReentrantCall) {
  RecordingCommitter committer;
  CommitQueue queue(Env::Default(), &committer, 1 << 20);
  Events events;
  Status inner;
  bool in_callback = false;
  auto w = std::make_unique<CommitWriter>();
  w->owned = std::make_unique<CommitWriter::Owned>();
  w->appends.push_back({"s", ExpectedRevision::Any(), events.Of("outer")});
  w->owned->done = [&](Result<std::vector<AppendResult>>) {
    in_callback = InAppendCallback();
    CommitWriter nested;
    nested.appends.push_back({"s", ExpectedRevision::Any(), events.Of("nested")});
    inner = queue.Run(&nested);
  };
  EXPECT_FALSE(InAppendCallback());
  ASSERT_TRUE(queue.Enqueue(std::move(w)).ok());
  queue.Drain();
  EXPECT_TRUE(in_callback);
  EXPECT_EQ(inner.code(), ErrorCode::kReentrantCall);
  EXPECT_EQ(committer.batches(), (std::vector<std::vector<std::string>>{{"outer"}}));
}

TEST(CommitQueueTest, AfterDrainAnAsynchronousAppendIsClosedAndNothingIsQueued) {
  RecordingCommitter committer;
  CommitQueue queue(Env::Default(), &committer, 1 << 20);
  Events events;
  std::vector<std::string> order;
  std::mutex mu;
  ASSERT_TRUE(queue.Enqueue(Async(&events, "a", &order, &mu)).ok());
  queue.Drain();
  EXPECT_EQ(order, std::vector<std::string>{"a"});
  Status late = queue.Enqueue(Async(&events, "late", &order, &mu));
  EXPECT_EQ(late.code(), ErrorCode::kClosed);
  EXPECT_EQ(late.message(), "store is closed");
  EXPECT_EQ(committer.batches(), (std::vector<std::vector<std::string>>{{"a"}}));
}

TEST(CommitQueueTest, TheStickyFailureReachesEveryLaterBatch) {
  RecordingCommitter committer;
  CommitQueue queue(Env::Default(), &committer, 1 << 20);
  Events events;
  CommitWriter before;
  before.appends.push_back({"s", ExpectedRevision::Any(), events.Of("before")});
  ASSERT_TRUE(queue.Run(&before).ok());
  const Status broken(ErrorCode::kFailedPrecondition, "fsync failed");
  queue.SetFailed(broken);
  EXPECT_EQ(queue.failed().message(), "fsync failed");
  CommitWriter after;
  after.appends.push_back({"s", ExpectedRevision::Any(), events.Of("after")});
  ASSERT_TRUE(queue.Run(&after).ok());
  EXPECT_EQ(after.status.code(), ErrorCode::kFailedPrecondition);
  const auto failures = committer.failures();
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_TRUE(failures[0].ok());
  EXPECT_EQ(failures[1].message(), "fsync failed");
  queue.Drain();
}

}  // namespace
}  // namespace cairn
