// The follower and the engine's threads, driven through the Env: a
// simulated directory watch decides when a follower looks, and every
// thread a store starts is named by, counted by and joined before Close
// returns.
#include "src/store/follower.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cairn/native.h"
#include "src/base/testing.h"
#include "src/env/fault_env.h"

namespace cairn {
namespace {

using testing::Ev;
using testing::TempDir;

// Counts on_change calls and lets the test wait for a count.
struct Changes {
  std::mutex mu;
  std::condition_variable cv;
  int count = 0;
  void Add() {
    {
      std::lock_guard l(mu);
      ++count;
    }
    cv.notify_all();
  }
  // True once `n` were seen (gives up after a minute: a hang, not a speed).
  bool WaitFor(int n) {
    std::unique_lock l(mu);
    return cv.wait_for(l, std::chrono::minutes(1), [&] { return count >= n; });
  }
  int Get() {
    std::lock_guard l(mu);
    return count;
  }
};

TEST(FollowerTest, LooksExactlyWhenItsWatchReportsAChange) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SimulateDirectoryWatches();
  Changes changes;
  Follower follower(&env, dir.path(), [&] { changes.Add(); });
  ASSERT_TRUE(follower.Start().ok());
  ASSERT_TRUE(follower.Start().ok());  // once: still one thread
  env.NotifyDirectoryWatches();
  ASSERT_TRUE(changes.WaitFor(1));
  env.NotifyDirectoryWatches();
  ASSERT_TRUE(changes.WaitFor(2));
  follower.Stop();
  follower.Stop();  // idempotent
  // A simulated watch never times out, so these were the two changes.
  EXPECT_EQ(changes.Get(), 2);
  EXPECT_EQ(env.threads_started(), std::vector<std::string>{"cairn-follower"});
  EXPECT_EQ(env.threads_running(), 0);
}

TEST(FollowerTest, StoppedBeforeAnyChangeLooksNever) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SimulateDirectoryWatches();
  Changes changes;
  {
    Follower follower(&env, dir.path(), [&] { changes.Add(); });
    ASSERT_TRUE(follower.Start().ok());
  }  // the destructor stops it
  EXPECT_EQ(changes.Get(), 0);
  EXPECT_EQ(env.threads_running(), 0);
}

TEST(FollowerTest, AMissingDirectoryIsNotFoundNamingIt) {
  TempDir dir;
  const std::string missing = dir.path() + "/gone";
  Changes changes;
  Follower follower(Env::Default(), missing, [&] { changes.Add(); });
  Status s = follower.Start();
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_NE(s.message().find(missing), std::string::npos) << s.ToString();
  follower.Stop();  // nothing started: nothing to stop
}

// The POSIX watch itself (inotify): a change is reported as a change, not
// as the timeout a follower would treat alike; a Wake is final.
TEST(DirectoryWatchTest, APosixWatchReportsAWriteAsAChange) {
  TempDir dir;
  auto watch = Env::Default()->WatchDirectory(dir.path());
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  EXPECT_EQ((*watch)->Wait(1000), DirectoryWatch::Event::kTimedOut);  // nothing written yet
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.path() + "/HEAD", "x").ok());
  EXPECT_EQ((*watch)->Wait(60'000'000), DirectoryWatch::Event::kChanged);
}

TEST(DirectoryWatchTest, AWakeIsFinalAndWinsOverAPendingChange) {
  TempDir dir;
  auto watch = Env::Default()->WatchDirectory(dir.path());
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.path() + "/HEAD", "x").ok());
  (*watch)->Wake();
  EXPECT_EQ((*watch)->Wait(60'000'000), DirectoryWatch::Event::kWoken);
  EXPECT_EQ((*watch)->Wait(60'000'000), DirectoryWatch::Event::kWoken);
}

TEST(DirectoryWatchTest, AMissingDirectoryIsNotFoundNamingIt) {
  TempDir dir;
  const std::string missing = dir.path() + "/gone";
  auto watch = Env::Default()->WatchDirectory(missing);
  ASSERT_FALSE(watch.has_value());
  EXPECT_EQ(watch.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(watch.error().message().find(missing), std::string::npos) << watch.error().ToString();
}

// A reader process follows its writer through the Env's watch: a
// subscription waiting for new events in the reader gets the writer's
// event once the watch reports the change.
TEST(FollowerTest, AReadOnlySubscriptionWakesOnItsEnvsWatch) {
  TempDir dir;
  NativeOptions wo;
  wo.durability = Durability::kNoSyncUnsafe;
  auto writer = NativeStore::Open(dir.path(), wo);
  ASSERT_TRUE(writer.has_value()) << writer.error().ToString();
  ASSERT_TRUE(
      (*writer)->Append("a-1", ExpectedRevision::Any(), std::vector{Ev("First")}).has_value());

  FaultInjectionEnv env(Env::Default());
  env.SimulateDirectoryWatches();
  NativeOptions ro;
  ro.read_only = true;
  ro.env = &env;
  auto reader = NativeStore::Open(dir.path(), ro);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  auto sub = (*reader)->Subscribe(SubscribeOptions{});
  ASSERT_TRUE(sub.has_value()) << sub.error().ToString();
  auto m = (*sub)->Next(std::chrono::seconds(60));
  ASSERT_TRUE(m.has_value() && m->has_value());
  EXPECT_EQ((*m)->event.type, "First");
  m = (*sub)->Next(std::chrono::seconds(60));
  ASSERT_TRUE(m.has_value() && m->has_value());
  EXPECT_EQ((*m)->kind, SubscriptionMessage::Kind::kCaughtUp);

  std::atomic<bool> got{false};
  std::string type;
  std::thread waiter([&] {
    auto n = (*sub)->Next(std::chrono::minutes(10));
    if (n.has_value() && n->has_value()) type = (*n)->event.type;
    got.store(true);
  });
  // Likely (not certainly) waiting by now. Had it not begun to wait, its
  // own look at the head would find the event; waiting, it wakes only
  // through the watch, the simulated one never timing out: without the
  // follower it would wait ten minutes, and this test fail after 30 s.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(
      (*writer)->Append("a-1", ExpectedRevision::Any(), std::vector{Ev("Second")}).has_value());
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!got.load() && std::chrono::steady_clock::now() < give_up) {
    env.NotifyDirectoryWatches();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const bool woke = got.load();
  if (!woke) (*sub)->Cancel();  // ends the wait, so the thread can be joined
  waiter.join();
  ASSERT_TRUE(woke) << "the waiting subscription never woke through its Env's watch";
  EXPECT_EQ(type, "Second");
  const auto names = env.threads_started();
  EXPECT_EQ(std::count(names.begin(), names.end(), "cairn-follower"), 1);
  ASSERT_TRUE((*reader)->Close().ok());
  EXPECT_EQ(env.threads_running(), 0);
}

// Every thread a writer starts comes through its Env, by name, and Close
// has joined them all.
TEST(FollowerTest, EveryEngineThreadIsStartedThroughTheEnvAndJoinedByClose) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  NativeOptions o;
  o.durability = Durability::kNoSyncUnsafe;
  o.push_threads = 2;
  o.env = &env;
  auto store = NativeStore::Open(dir.path(), o);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  std::promise<Status> appended;
  ASSERT_TRUE((*store)
                  ->AppendAsync("a-1", ExpectedRevision::Any(), {Ev("E")},
                                [&](Result<AppendResult> r) {
                                  appended.set_value(r ? Status::OK() : r.error());
                                })
                  .ok());
  EXPECT_TRUE(appended.get_future().get().ok());
  PushHandlers h;
  h.on_message = [](const SubscriptionMessage&) { return true; };
  auto push = (*store)->SubscribePush(SubscribeOptions{}, h);
  ASSERT_TRUE(push.has_value()) << push.error().ToString();
  std::vector<std::string> names = env.threads_started();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"cairn-commit", "cairn-compactor", "cairn-flusher",
                                             "cairn-push", "cairn-push", "cairn-waker"}));
  EXPECT_EQ(env.threads_running(), 6);
  ASSERT_TRUE((*store)->Close().ok());
  EXPECT_EQ(env.threads_running(), 0);
}

}  // namespace
}  // namespace cairn
