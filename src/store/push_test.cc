// Push subscriptions (Store::SubscribePush): history then live through
// dispatcher threads, many subscribers on one dispatcher, ending by the
// handler, by Cancel (also from inside the handler), by a read error and by
// Close, and the calls a handler may and may not make.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "cairn/native.h"
#include "src/base/testing.h"

namespace cairn {
namespace {

using Kind = SubscriptionMessage::Kind;
using testing::Ev;
using testing::TempDir;

// Records what a push subscription delivers; tests wait on it.
class Collector {
 public:
  // `stop_after`: on_message returns false on that many-th event.
  PushHandlers Handlers(size_t stop_after = SIZE_MAX) {
    PushHandlers h;
    h.on_message = [this, stop_after](const SubscriptionMessage& m) {
      std::lock_guard l(mu_);
      msgs_.push_back(m);
      if (m.kind == Kind::kEvent) ++events_;
      if (hook_) hook_(m);
      cv_.notify_all();
      return events_ < stop_after;
    };
    h.on_end = [this](const Status& s) {
      std::lock_guard l(mu_);
      ++ends_;
      end_ = s;
      cv_.notify_all();
    };
    return h;
  }
  // Runs inside on_message (with the collector's lock held).
  void SetHook(std::function<void(const SubscriptionMessage&)> hook) { hook_ = std::move(hook); }
  bool WaitEvents(size_t n) {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(60), [&] { return events_ >= n; });
  }
  bool WaitCaughtUp() {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(60), [&] {
      for (const auto& m : msgs_) {
        if (m.kind == Kind::kCaughtUp) return true;
      }
      return false;
    });
  }
  bool WaitEnd() {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(60), [&] { return ends_ > 0; });
  }
  std::vector<uint64_t> EventPositions() {
    std::lock_guard l(mu_);
    std::vector<uint64_t> out;
    for (const auto& m : msgs_) {
      if (m.kind == Kind::kEvent) out.push_back(m.event.position.value());
    }
    return out;
  }
  std::vector<SubscriptionMessage> Messages() {
    std::lock_guard l(mu_);
    return msgs_;
  }
  int ends() {
    std::lock_guard l(mu_);
    return ends_;
  }
  Status end() {
    std::lock_guard l(mu_);
    return end_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SubscriptionMessage> msgs_;
  size_t events_ = 0;
  int ends_ = 0;
  Status end_;
  std::function<void(const SubscriptionMessage&)> hook_;
};

std::vector<uint64_t> Range(uint64_t from, uint64_t to) {
  std::vector<uint64_t> v;
  for (uint64_t p = from; p < to; ++p) v.push_back(p);
  return v;
}

class PushTest : public ::testing::Test {
 protected:
  std::unique_ptr<NativeStore> Open(NativeOptions o = {}) {
    o.durability = Durability::kNoSyncUnsafe;
    auto s = NativeStore::Open(dir_.path(), o);
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    return s ? std::move(*s) : nullptr;
  }
  static void AppendN(NativeStore* s, const std::string& stream, int n) {
    for (int i = 0; i < n; ++i) {
      std::vector<EventData> one = {Ev("E" + std::to_string(i))};
      ASSERT_TRUE(s->Append(stream, ExpectedRevision::Any(), one).has_value());
    }
  }
  TempDir dir_;
};

TEST_F(PushTest, HistoryThenCaughtUpThenLiveInOrder) {
  auto store = Open();
  AppendN(store.get(), "a-1", 5);
  Collector c;
  auto sub = store->SubscribePush(SubscribeOptions::All(), c.Handlers());
  ASSERT_TRUE(sub.has_value()) << sub.error().ToString();
  ASSERT_TRUE(c.WaitCaughtUp());  // live from here: the next appends follow it
  AppendN(store.get(), "a-2", 3);
  ASSERT_TRUE(c.WaitEvents(8));
  std::vector<SubscriptionMessage> msgs = c.Messages();
  ASSERT_EQ(msgs.size(), 9u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(msgs[i].kind, Kind::kEvent);
    EXPECT_EQ(msgs[i].event.position.value(), i);
    EXPECT_EQ(msgs[i].event.stream, "a-1");
  }
  EXPECT_EQ(msgs[5].kind, Kind::kCaughtUp);
  EXPECT_EQ(msgs[5].position.value(), 5u);
  for (size_t i = 6; i < 9; ++i) {
    EXPECT_EQ(msgs[i].kind, Kind::kEvent);
    EXPECT_EQ(msgs[i].event.position.value(), i - 1);
    EXPECT_EQ(msgs[i].event.stream, "a-2");
  }
  EXPECT_EQ((*sub)->last_position(), std::optional<Position>(7));
  EXPECT_EQ((*sub)->last_revision(), std::nullopt);
  EXPECT_EQ(c.ends(), 0);
}

TEST_F(PushTest, HundredSubscribersOnOneDispatcherEachGetEveryEventOnce) {
  auto store = Open();
  std::vector<std::unique_ptr<Collector>> cs;
  std::vector<std::unique_ptr<PushSubscription>> subs;
  for (int i = 0; i < 100; ++i) {
    cs.push_back(std::make_unique<Collector>());
    SubscribeOptions o = SubscribeOptions::All();
    o.from_end = true;
    auto sub = store->SubscribePush(o, cs.back()->Handlers());
    ASSERT_TRUE(sub.has_value());
    subs.push_back(std::move(*sub));
  }
  AppendN(store.get(), "s-1", 50);
  for (auto& c : cs) {
    ASSERT_TRUE(c->WaitEvents(50));
    EXPECT_EQ(c->EventPositions(), Range(0, 50));
  }
}

TEST_F(PushTest, SeveralDispatchersDeliverCategoryAndStreamTargets) {
  NativeOptions o;
  o.push_threads = 3;
  auto store = Open(o);
  AppendN(store.get(), "acc-1", 4);  // positions 0..3
  AppendN(store.get(), "ord-1", 2);  // 4..5
  Collector category, stream, all;
  auto s1 = store->SubscribePush(SubscribeOptions::Category("acc"), category.Handlers());
  auto s2 = store->SubscribePush(SubscribeOptions::Stream("ord-1"), stream.Handlers());
  auto s3 = store->SubscribePush(SubscribeOptions::All(), all.Handlers());
  ASSERT_TRUE(s1.has_value() && s2.has_value() && s3.has_value());
  AppendN(store.get(), "acc-2", 2);  // 6..7
  AppendN(store.get(), "ord-1", 1);  // 8
  ASSERT_TRUE(category.WaitEvents(6));
  ASSERT_TRUE(stream.WaitEvents(3));
  ASSERT_TRUE(all.WaitEvents(9));
  EXPECT_EQ(category.EventPositions(), (std::vector<uint64_t>{0, 1, 2, 3, 6, 7}));
  EXPECT_EQ(stream.EventPositions(), (std::vector<uint64_t>{4, 5, 8}));
  EXPECT_EQ(all.EventPositions(), Range(0, 9));
  EXPECT_EQ((*s2)->last_revision(), std::optional<StreamRevision>(2));  // a stream counts revisions
  EXPECT_EQ((*s2)->last_position(), std::nullopt);
}

TEST_F(PushTest, AHandlerReturningFalseEndsTheSubscriptionWithOk) {
  auto store = Open();
  AppendN(store.get(), "s", 10);
  Collector c;
  auto sub = store->SubscribePush(SubscribeOptions::All(), c.Handlers(/*stop_after=*/3));
  ASSERT_TRUE(sub.has_value());
  ASSERT_TRUE(c.WaitEnd());
  EXPECT_TRUE(c.end().ok()) << c.end().ToString();
  AppendN(store.get(), "s", 2);
  // A later subscription on the same dispatcher seeing the new events shows
  // the dispatcher went past them: the ended one got nothing more.
  Collector barrier;
  auto b = store->SubscribePush(SubscribeOptions::All(), barrier.Handlers());
  ASSERT_TRUE(barrier.WaitEvents(12));
  EXPECT_EQ(c.EventPositions(), Range(0, 3));
  EXPECT_EQ(c.ends(), 1);
}

TEST_F(PushTest, AfterCancelReturnsNoHandlerRunsAndOnEndIsNotCalled) {
  auto store = Open();
  Collector c;
  auto sub = store->SubscribePush(SubscribeOptions::All(), c.Handlers());
  ASSERT_TRUE(sub.has_value());
  AppendN(store.get(), "s", 3);
  ASSERT_TRUE(c.WaitEvents(3));
  (*sub)->Cancel();
  AppendN(store.get(), "s", 5);
  Collector barrier;
  auto b = store->SubscribePush(SubscribeOptions::All(), barrier.Handlers());
  ASSERT_TRUE(barrier.WaitEvents(8));
  EXPECT_EQ(c.EventPositions(), Range(0, 3));
  EXPECT_EQ(c.ends(), 0);
  (*sub)->Cancel();  // idempotent
  sub->reset();      // destroying a cancelled handle is fine too
}

TEST_F(PushTest, CancelWaitsForAHandlerRunningOnTheDispatcher) {
  std::mutex mu;
  std::condition_variable cv;
  bool in_handler = false, release = false;
  std::atomic<bool> handler_returned{false};
  bool returned_before_cancel = false;
  auto store = Open();
  AppendN(store.get(), "s", 3);
  PushHandlers h;
  h.on_message = [&](const SubscriptionMessage& m) {
    if (m.kind != Kind::kEvent) return true;
    std::unique_lock l(mu);
    in_handler = true;
    cv.notify_all();
    cv.wait(l, [&] { return release; });
    handler_returned.store(true);
    return true;
  };
  auto sub = store->SubscribePush(SubscribeOptions::All(), h);
  ASSERT_TRUE(sub.has_value());
  {
    std::unique_lock l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(60), [&] { return in_handler; }));
  }
  std::thread canceller([&] {
    (*sub)->Cancel();
    returned_before_cancel = handler_returned.load();
  });
  // Let the canceller reach Cancel, then let the handler go.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  {
    std::lock_guard l(mu);
    release = true;
    cv.notify_all();
  }
  canceller.join();
  EXPECT_TRUE(returned_before_cancel) << "Cancel returned while the handler was still running";
}

TEST_F(PushTest, CancelFromAnAppendCallbackDoesNotWaitForABlockedHandler) {
  std::mutex mu;
  std::condition_variable cv;
  bool in_handler = false, release = false, cancelled = false;
  std::vector<uint64_t> got;
  std::unique_ptr<PushSubscription> sub;
  auto store = Open();
  PushHandlers h;
  h.on_message = [&](const SubscriptionMessage& m) {
    if (m.kind != Kind::kEvent) return true;
    std::unique_lock l(mu);
    got.push_back(m.event.position.value());
    in_handler = true;
    cv.notify_all();
    cv.wait(l, [&] { return release; });  // held until the callback has cancelled
    return true;
  };
  SubscribeOptions o = SubscribeOptions::All();
  auto r = store->SubscribePush(o, h);
  ASSERT_TRUE(r.has_value());
  sub = std::move(*r);
  AppendN(store.get(), "s", 1);
  {
    std::unique_lock l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(60), [&] { return in_handler; }));
  }
  ASSERT_TRUE(store
                  ->AppendAsync("s", ExpectedRevision::Any(), {Ev("Later")},
                                [&](Result<AppendResult> r) {
                                  EXPECT_TRUE(r.has_value());
                                  sub->Cancel();  // must not wait for the held handler
                                  std::lock_guard l(mu);
                                  cancelled = true;
                                  cv.notify_all();
                                })
                  .ok());
  {
    std::unique_lock l(mu);
    EXPECT_TRUE(cv.wait_for(l, std::chrono::seconds(60), [&] { return cancelled; }));
    release = true;
    cv.notify_all();
  }
  Collector barrier;
  auto b = store->SubscribePush(SubscribeOptions::All(), barrier.Handlers());
  ASSERT_TRUE(barrier.WaitEvents(2));
  std::lock_guard l(mu);
  EXPECT_EQ(got, std::vector<uint64_t>{0});  // the event appended by "Later" never came
}

TEST_F(PushTest, CancelFromInsideItsOwnHandlerMakesThatMessageTheLast) {
  auto store = Open();
  AppendN(store.get(), "s", 10);
  Collector c;
  std::unique_ptr<PushSubscription> sub;
  std::mutex sub_mu;
  c.SetHook([&](const SubscriptionMessage& m) {
    if (m.kind == Kind::kEvent && m.event.position.value() == 4) {
      std::lock_guard l(sub_mu);
      sub->Cancel();
    }
  });
  {
    std::lock_guard l(sub_mu);
    auto r = store->SubscribePush(SubscribeOptions::All(), c.Handlers());
    ASSERT_TRUE(r.has_value());
    sub = std::move(*r);
  }
  Collector barrier;
  auto b = store->SubscribePush(SubscribeOptions::All(), barrier.Handlers());
  ASSERT_TRUE(barrier.WaitEvents(10));
  AppendN(store.get(), "s", 1);
  ASSERT_TRUE(barrier.WaitEvents(11));
  EXPECT_EQ(c.EventPositions(), Range(0, 5));
  EXPECT_EQ(c.ends(), 0);
}

TEST_F(PushTest, ATombstonedStreamEndsItsSubscriptionWithStreamDeleted) {
  auto store = Open();
  AppendN(store.get(), "doomed", 2);
  Collector c;
  auto sub = store->SubscribePush(SubscribeOptions::Stream("doomed"), c.Handlers());
  ASSERT_TRUE(sub.has_value());
  ASSERT_TRUE(c.WaitEvents(2));
  ASSERT_TRUE(store->TombstoneStream("doomed", ExpectedRevision::Any()).has_value());
  ASSERT_TRUE(c.WaitEnd());
  EXPECT_EQ(c.end().code(), ErrorCode::kStreamDeleted);
  EXPECT_EQ(c.EventPositions(), Range(0, 2));
  EXPECT_EQ(c.ends(), 1);
}

TEST_F(PushTest, CloseEndsEverySubscriptionAndHandlesOutliveTheStore) {
  auto store = Open();
  Collector a, b;
  auto sa = store->SubscribePush(SubscribeOptions::All(), a.Handlers());
  auto sb = store->SubscribePush(SubscribeOptions::Stream("x"), b.Handlers());
  ASSERT_TRUE(sa.has_value() && sb.has_value());
  AppendN(store.get(), "x", 1);
  ASSERT_TRUE(a.WaitEvents(1));
  ASSERT_TRUE(b.WaitEvents(1));
  ASSERT_TRUE(store->Close().ok());
  EXPECT_EQ(a.ends(), 1);  // before Close returned
  EXPECT_EQ(b.ends(), 1);
  EXPECT_EQ(a.end().code(), ErrorCode::kClosed);
  EXPECT_EQ(a.end().message(), "store is closed");
  EXPECT_EQ(b.end().message(), "store is closed");
  Collector late;
  auto after = store->SubscribePush(SubscribeOptions::All(), late.Handlers());
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code(), ErrorCode::kClosed);
  store.reset();
  (*sa)->Cancel();  // the store is gone: the handle still cancels safely
  sb->reset();
}

TEST_F(PushTest, HandlersMayAppendButMayNotCloseTheStore) {
  auto store = Open();
  Collector c;
  Status close_status;
  std::vector<uint64_t> copied;
  c.SetHook([&](const SubscriptionMessage& m) {
    if (m.kind != Kind::kEvent || m.event.stream != "in") return;
    std::vector<EventData> one = {Ev("Copied")};
    auto r = store->Append("out", ExpectedRevision::Any(), one);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    copied.push_back(r->position.value());
    if (copied.size() == 1) close_status = store->Close();
  });
  auto sub = store->SubscribePush(SubscribeOptions::Stream("in"), c.Handlers());
  ASSERT_TRUE(sub.has_value());
  AppendN(store.get(), "in", 3);
  ASSERT_TRUE(c.WaitEvents(3));
  EXPECT_EQ(close_status.code(), ErrorCode::kReentrantCall);
  EXPECT_EQ(close_status.message(),
            "Close was called from a push subscription handler of the same store, whose "
            "dispatcher Close must stop");
  auto out = store->ReadStream("out", ReadStreamOptions{});
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->size(), 3u);
  EXPECT_EQ(copied.size(), 3u);
}

TEST_F(PushTest, BadArgumentsAreInvalidArguments) {
  auto store = Open();
  auto no_handler = store->SubscribePush(SubscribeOptions::All(), PushHandlers{});
  ASSERT_FALSE(no_handler.has_value());
  EXPECT_EQ(no_handler.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(no_handler.error().message(), "a push subscription needs an on_message handler");
  Collector c;
  auto bad_category = store->SubscribePush(SubscribeOptions::Category("a-b"), c.Handlers());
  ASSERT_FALSE(bad_category.has_value());
  EXPECT_EQ(bad_category.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad_category.error().message(), "category 'a-b' must be non-empty and contain no '-'");
  store.reset();
  NativeOptions o;
  o.push_threads = 0;
  auto s = NativeStore::Open(dir_.path(), o);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.error().message(), "push_threads must be in 1..64");
}

}  // namespace
}  // namespace cairn
