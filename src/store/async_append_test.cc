// Asynchronous appends (Store::AppendAsync / AppendMultiAsync): ordering,
// results and errors through the callback, callbacks that append again,
// blocking calls refused inside a callback, Close draining the queue, a
// failed fsync, and the queued-bytes bound.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "cairn/native.h"
#include "src/base/testing.h"
#include "src/env/fault_env.h"
#include "src/log/record.h"

namespace cairn {
namespace {

using testing::Ev;
using testing::EvId;
using testing::NthUuid;
using testing::TempDir;

// Collects callback results by slot and lets the test wait for all of them.
class Results {
 public:
  explicit Results(size_t n) : got_(n) {}
  Store::AppendCallback Slot(size_t i) {
    return [this, i](Result<AppendResult> r) {
      std::lock_guard l(mu_);
      EXPECT_FALSE(got_[i].has_value()) << "callback " << i << " called twice";
      got_[i].emplace(std::move(r));
      ++done_;
      cv_.notify_all();
    };
  }
  // Waits up to 60 s for every slot; false when some never completed.
  bool WaitAll() {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(60), [&] { return done_ == got_.size(); });
  }
  size_t done() {
    std::lock_guard l(mu_);
    return done_;
  }
  const Result<AppendResult>& at(size_t i) const { return *got_[i]; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<Result<AppendResult>>> got_;
  size_t done_ = 0;
};

std::vector<EventData> One(std::string type) { return {Ev(std::move(type))}; }

class AsyncAppendTest : public ::testing::Test {
 protected:
  std::unique_ptr<NativeStore> Open(NativeOptions o = {}) {
    auto s = NativeStore::Open(dir_.path(), o);
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    return s ? std::move(*s) : nullptr;
  }
  TempDir dir_;
};

// Appends committed together share one write of the log; every record but
// the first of a write carries flag 0x02 (docs/format/log.md, "Writes").
// However the commit thread groups them, records without the flag are
// exactly the log's writes (one Append call on the segment file each).
TEST_F(AsyncAppendTest, EveryRecordButTheFirstOfEachWriteSaysItContinuesIt) {
  constexpr size_t kN = 400;
  Results results(kN);
  FaultInjectionEnv env(Env::Default());
  NativeOptions o;  // durable: groups share fsyncs
  o.env = &env;
  auto s = NativeStore::Open(dir_.path(), o);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  auto store = std::move(*s);
  const int appends_before = env.appends();
  for (size_t i = 0; i < kN; ++i) {
    ASSERT_TRUE(store
                    ->AppendAsync("g-" + std::to_string(i % 5), ExpectedRevision::Any(),
                                  One("E" + std::to_string(i)), results.Slot(i))
                    .ok());
  }
  ASSERT_TRUE(results.WaitAll());
  const int writes = env.appends() - appends_before;
  ASSERT_TRUE(store->Close().ok());
  ASSERT_LT(writes, static_cast<int>(kN));  // some appends were grouped
  const std::string seg = *env.ReadFile(dir_.path() + "/log/00000000.seg");
  size_t starts = 0, continuations = 0;
  uint64_t next = 0;
  for (size_t at = log::kSegmentHeaderSize; at < seg.size();) {
    std::string_view body;
    size_t framed = 0;
    ASSERT_EQ(log::CheckFrame(std::string_view(seg).substr(at), UINT32_MAX, &body, &framed),
              log::FrameState::kOk)
        << at;
    auto r = log::CommitReader::Open(body, "record");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->first_position(), next);
    next += r->event_count();
    if (r->continues_write()) {
      ++continuations;
    } else {
      ++starts;
    }
    at += framed;
  }
  EXPECT_EQ(next, kN);
  EXPECT_EQ(starts, static_cast<size_t>(writes));
  EXPECT_EQ(continuations, kN - static_cast<size_t>(writes));
}

TEST_F(AsyncAppendTest, AppendsFromOneThreadCommitInSubmissionOrder) {
  // Declared before the store: Close (at the store's end) may still run
  // callbacks writing to it when an assertion returns early.
  constexpr size_t kN = 600;
  Results results(kN);
  auto store = Open();  // durable: groups share fsyncs
  for (size_t i = 0; i < kN; ++i) {
    ASSERT_TRUE(store
                    ->AppendAsync("acc-" + std::to_string(i % 3), ExpectedRevision::Any(),
                                  One("E" + std::to_string(i)), results.Slot(i))
                    .ok());
  }
  ASSERT_TRUE(results.WaitAll());
  for (size_t i = 0; i < kN; ++i) {
    const auto& r = results.at(i);
    ASSERT_TRUE(r.has_value()) << i << ": " << r.error().ToString();
    EXPECT_EQ(r->stream, "acc-" + std::to_string(i % 3));
    EXPECT_EQ(r->position.value(), i);
    EXPECT_EQ(r->revision->value(), i / 3);
    EXPECT_FALSE(r->duplicate);
  }
  auto all = store->ReadAll(ReadAllOptions{});
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), kN);
  for (size_t i = 0; i < kN; ++i) {
    EXPECT_EQ((*all)[i].type, "E" + std::to_string(i));
    EXPECT_EQ((*all)[i].stream, "acc-" + std::to_string(i % 3));
  }
}

TEST_F(AsyncAppendTest, ErrorsBeforeQueueingAreReturnedAndTheCallbackIsNeverCalled) {
  auto store = Open();
  bool called = false;
  auto never = [&called](Result<AppendResult>) { called = true; };
  Status empty_type = store->AppendAsync("s", ExpectedRevision::Any(), One(""), never);
  EXPECT_EQ(empty_type.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(empty_type.message(), "stream 's' event 0: event type is empty");
  Status no_callback = store->AppendAsync("s", ExpectedRevision::Any(), One("A"), nullptr);
  EXPECT_EQ(no_callback.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(no_callback.message(), "AppendAsync needs a callback");
  Status no_stream = store->AppendMultiAsync({}, [&called](auto) { called = true; });
  EXPECT_EQ(no_stream.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(no_stream.message(), "append names no stream");
  ASSERT_TRUE(store->Close().ok());
  Status closed = store->AppendAsync("s", ExpectedRevision::Any(), One("A"), never);
  EXPECT_EQ(closed.code(), ErrorCode::kClosed);
  EXPECT_EQ(closed.message(), "store is closed");

  NativeOptions ro;
  ro.read_only = true;
  auto reader = Open(ro);
  Status read_only = reader->AppendAsync("s", ExpectedRevision::Any(), One("A"), never);
  EXPECT_EQ(read_only.code(), ErrorCode::kReadOnly);
  EXPECT_FALSE(called);
}

TEST_F(AsyncAppendTest, ExpectationsAndIdempotencyAreCheckedAtCommit) {
  Results results(4);
  auto store = Open();
  std::vector<EventData> first = {EvId("A", NthUuid(1)), EvId("B", NthUuid(2))};
  ASSERT_TRUE(store->AppendAsync("s", ExpectedRevision::NoStream(), first, results.Slot(0)).ok());
  // Queued behind the first: the stream exists by the time it is checked.
  ASSERT_TRUE(
      store->AppendAsync("s", ExpectedRevision::NoStream(), One("C"), results.Slot(1)).ok());
  // The very same append again: a duplicate, nothing written.
  ASSERT_TRUE(store->AppendAsync("s", ExpectedRevision::NoStream(), first, results.Slot(2)).ok());
  ASSERT_TRUE(
      store->AppendAsync("s", ExpectedRevision::Exact(StreamRevision(1)), One("D"), results.Slot(3))
          .ok());
  ASSERT_TRUE(results.WaitAll());
  ASSERT_TRUE(results.at(0).has_value());
  EXPECT_EQ(results.at(0)->revision->value(), 1u);
  ASSERT_FALSE(results.at(1).has_value());
  EXPECT_EQ(results.at(1).error().code(), ErrorCode::kWrongExpectedRevision);
  ASSERT_NE(results.at(1).error().conflict(), nullptr);
  EXPECT_EQ(results.at(1).error().conflict()->actual, std::optional<uint64_t>(1));
  ASSERT_TRUE(results.at(2).has_value());
  EXPECT_TRUE(results.at(2)->duplicate);
  EXPECT_EQ(results.at(2)->position.value(), 1u);
  ASSERT_TRUE(results.at(3).has_value());
  EXPECT_EQ(results.at(3)->revision->value(), 2u);
  EXPECT_EQ(results.at(3)->position.value(), 2u);
  auto s = store->ReadStream("s", ReadStreamOptions{});
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[2].type, "D");
}

// Idempotency against events earlier in the same batch: while the commit
// thread is held in a callback, two appends to one stream queue up and are
// then committed as one write; the second shares an id with the first only
// in its middle, which is a conflict, not a second copy.
TEST_F(AsyncAppendTest, AnOverlapWithAnEarlierAppendOfTheSameBatchIsAConflict) {
  Results results(3);
  FaultInjectionEnv env(Env::Default());
  NativeOptions o;
  o.env = &env;
  auto store = Open(o);
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  Store::AppendCallback gate = results.Slot(0);
  ASSERT_TRUE(store
                  ->AppendAsync("gate", ExpectedRevision::Any(), One("G"),
                                [&, released](Result<AppendResult> r) {
                                  entered.set_value();
                                  released.wait();  // holds the commit thread
                                  gate(std::move(r));
                                })
                  .ok());
  entered.get_future().wait();  // the gate is written; the commit thread waits
  const int appends_before = env.appends();
  std::vector<EventData> first = {EvId("A", NthUuid(1)), EvId("B", NthUuid(2)),
                                  EvId("C", NthUuid(3))};
  std::vector<EventData> second = {EvId("X", NthUuid(9)), EvId("B", NthUuid(2)),
                                   EvId("Y", NthUuid(8))};
  ASSERT_TRUE(store->AppendAsync("acc", ExpectedRevision::Any(), first, results.Slot(1)).ok());
  ASSERT_TRUE(store->AppendAsync("acc", ExpectedRevision::Any(), second, results.Slot(2)).ok());
  release.set_value();
  ASSERT_TRUE(results.WaitAll());
  ASSERT_TRUE(results.at(0).has_value());
  ASSERT_TRUE(results.at(1).has_value()) << results.at(1).error().ToString();
  EXPECT_EQ(results.at(1)->revision->value(), 2u);
  ASSERT_FALSE(results.at(2).has_value());
  EXPECT_EQ(results.at(2).error().code(), ErrorCode::kIdempotencyConflict);
  EXPECT_EQ(results.at(2).error().message(),
            "stream 'acc': event 2 of 3 (id " + NthUuid(2) +
                ") is already stored at revision 1 but the first is not (a changed batch, or a "
                "scavenge removed it)");
  EXPECT_EQ(env.appends() - appends_before, 1);  // both were in one write
  auto events = store->ReadStream("acc", ReadStreamOptions{});
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[2].type, "C");
}

TEST_F(AsyncAppendTest, MultiStreamAsyncAppendIsAllOrNothing) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<std::vector<AppendResult>>> got;
  auto store = Open();
  ASSERT_TRUE(store->Append("b", ExpectedRevision::Any(), One("X")).has_value());
  std::vector<StreamAppend> appends(2);
  appends[0] = {"a", ExpectedRevision::NoStream(), One("A")};
  appends[1] = {"b", ExpectedRevision::NoStream(), One("B")};  // b exists: fails
  ASSERT_TRUE(store
                  ->AppendMultiAsync(std::move(appends),
                                     [&](Result<std::vector<AppendResult>> r) {
                                       std::lock_guard l(mu);
                                       got.emplace(std::move(r));
                                       cv.notify_all();
                                     })
                  .ok());
  {
    std::unique_lock l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(60), [&] { return got.has_value(); }));
  }
  ASSERT_FALSE(got->has_value());
  EXPECT_EQ(got->error().code(), ErrorCode::kWrongExpectedRevision);
  EXPECT_EQ(got->error().conflict()->stream, "b");
  auto a = store->ReadStream("a", ReadStreamOptions{});
  EXPECT_EQ(a.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store->HeadPosition()->value(), 1u);
}

// 64 writers, each keeping one append in flight by submitting the next from
// its callback (how a server drives the engine), 40 appends each.
TEST_F(AsyncAppendTest, CallbacksThatAppendAgainChainWithoutLoss) {
  constexpr int kWriters = 64;
  constexpr int kEach = 40;
  std::mutex mu;
  std::condition_variable cv;
  int finished = 0;
  std::vector<std::string> errors;
  std::function<void(int, int)> chain;
  auto store = Open();  // closed (draining callbacks) before the above go
  // Each callback checks its revision and submits the writer's next append.
  chain = [&](int w, int k) {
    Status s = store->AppendAsync(
        "w-" + std::to_string(w), ExpectedRevision::Any(), One("E" + std::to_string(k)),
        [&, w, k](Result<AppendResult> r) {
          {
            std::lock_guard l(mu);
            if (!r || r->revision->value() != static_cast<uint64_t>(k)) {
              errors.push_back("writer " + std::to_string(w) + " append " + std::to_string(k));
            }
          }
          if (k + 1 < kEach) {
            chain(w, k + 1);
          } else {
            std::lock_guard l(mu);
            ++finished;
            cv.notify_all();
          }
        });
    ASSERT_TRUE(s.ok()) << s.ToString();
  };
  for (int w = 0; w < kWriters; ++w) chain(w, 0);
  {
    std::unique_lock l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(120), [&] { return finished == kWriters; }));
  }
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(store->HeadPosition()->value(), static_cast<uint64_t>(kWriters * kEach));
  for (int w = 0; w < kWriters; ++w) {
    auto events = store->ReadStream("w-" + std::to_string(w), ReadStreamOptions{});
    ASSERT_TRUE(events.has_value());
    ASSERT_EQ(events->size(), static_cast<size_t>(kEach));
    for (int k = 0; k < kEach; ++k) EXPECT_EQ((*events)[k].type, "E" + std::to_string(k));
  }
}

TEST_F(AsyncAppendTest, BlockingCallsInsideACallbackAreRefused) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Status append, checkpoint, close, metadata;
  std::unique_ptr<NativeStore> store;
  store = Open();
  ASSERT_TRUE(store
                  ->AppendAsync(
                      "s", ExpectedRevision::Any(), One("A"),
                      [&](Result<AppendResult> r) {
                        EXPECT_TRUE(r.has_value());
                        append = store->Append("t", ExpectedRevision::Any(), One("B")).status();
                        checkpoint = store->Checkpoint();
                        close = store->Close();
                        metadata =
                            store->SetStreamMetadata("s", ExpectedRevision::Any(), StreamMetadata{})
                                .status();
                        // Reads are fine inside a callback.
                        auto s = store->ReadStream("s", ReadStreamOptions{});
                        EXPECT_TRUE(s.has_value());
                        std::lock_guard l(mu);
                        done = true;
                        cv.notify_all();
                      })
                  .ok());
  {
    std::unique_lock l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(60), [&] { return done; }));
  }
  const std::string want =
      "a blocking append, metadata write, delete, checkpoint or close was called from an append "
      "callback of the same store, where it would wait for itself; use AppendAsync there";
  for (const Status* s : {&append, &checkpoint, &close, &metadata}) {
    EXPECT_EQ(s->code(), ErrorCode::kReentrantCall);
    EXPECT_EQ(s->message(), want);
  }
  // Outside the callback the same calls work.
  ASSERT_TRUE(store->Append("t", ExpectedRevision::Any(), One("B")).has_value());
  EXPECT_EQ(store->HeadPosition()->value(), 2u);
  EXPECT_TRUE(store->Close().ok());
}

TEST_F(AsyncAppendTest, CloseCompletesEveryQueuedAppendAndTheyAreStored) {
  constexpr size_t kN = 500;
  Results results(kN);
  {
    auto store = Open();
    for (size_t i = 0; i < kN; ++i) {
      ASSERT_TRUE(store->AppendAsync("s", ExpectedRevision::Any(), One("E"), results.Slot(i)).ok());
    }
    ASSERT_TRUE(store->Close().ok());
    EXPECT_EQ(results.done(), kN);  // before Close returned
  }
  for (size_t i = 0; i < kN; ++i) {
    ASSERT_TRUE(results.at(i).has_value()) << results.at(i).error().ToString();
    EXPECT_EQ(results.at(i)->position.value(), i);
  }
  auto store = Open();
  auto info = store->GetStreamInfo("s");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->last_revision.value(), kN - 1);
}

TEST_F(AsyncAppendTest, BlockingAndAsyncWritersFromManyThreadsGetGapFreePositions) {
  constexpr int kThreads = 4;
  constexpr int kEach = 100;
  std::vector<std::unique_ptr<Results>> async(kThreads);
  std::vector<std::vector<uint64_t>> blocking(kThreads);
  auto store = Open();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    async[t] = std::make_unique<Results>(kEach);
    threads.emplace_back([&, t] {
      for (int k = 0; k < kEach; ++k) {
        std::string stream = "t" + std::to_string(t);
        EXPECT_TRUE(store
                        ->AppendAsync(stream + "-async", ExpectedRevision::Any(), One("A"),
                                      async[t]->Slot(k))
                        .ok());
        auto r = store->Append(stream + "-sync", ExpectedRevision::Any(), One("S"));
        ASSERT_TRUE(r.has_value()) << r.error().ToString();
        blocking[t].push_back(r->position.value());
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<int> seen(kThreads * kEach * 2, 0);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_TRUE(async[t]->WaitAll());
    for (int k = 0; k < kEach; ++k) {
      const auto& r = async[t]->at(k);
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
      EXPECT_EQ(r->revision->value(), static_cast<uint64_t>(k));
      ++seen.at(r->position.value());
      ++seen.at(blocking[t][k]);
      // A thread's async append was submitted before its blocking one.
      EXPECT_LT(r->position.value(), blocking[t][k]);
    }
  }
  for (size_t p = 0; p < seen.size(); ++p) EXPECT_EQ(seen[p], 1) << "position " << p;
  EXPECT_EQ(store->HeadPosition()->value(), seen.size());
}

TEST_F(AsyncAppendTest, QueuedBytesAreBoundedAndEveryAppendStillCommits) {
  // The first append's callback holds the commit thread, so nothing else
  // completes and the queued bytes cannot shrink: a submitter must stop at
  // the bound until the callback is let go.
  constexpr size_t kN = 50;
  const std::string data(500, 'x');  // 501 bytes with the type: 8 fit in 4,096
  Results results(kN + 1);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<size_t> submitted{0};
  NativeOptions o;
  o.max_queued_append_bytes = 4096;
  auto store = Open(o);
  auto first = results.Slot(0);
  ASSERT_TRUE(store
                  ->AppendAsync("s", ExpectedRevision::Any(), One("held"),
                                [&](Result<AppendResult> r) {
                                  std::unique_lock l(mu);
                                  cv.wait(l, [&] { return release; });
                                  first(std::move(r));
                                })
                  .ok());
  std::thread submitter([&] {
    for (size_t i = 1; i <= kN; ++i) {
      std::vector<EventData> one = {Ev("E", "\"" + data + "\"")};
      EXPECT_TRUE(store->AppendAsync("s", ExpectedRevision::Any(), one, results.Slot(i)).ok());
      submitted.fetch_add(1);
    }
  });
  // However long this takes on a busy machine, the submitter cannot pass
  // the bound while the callback is held (it may not have reached it yet).
  while (submitted.load() < 8) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const size_t while_held = submitted.load();
  {
    std::lock_guard l(mu);
    release = true;
    cv.notify_all();
  }
  submitter.join();
  ASSERT_TRUE(results.WaitAll());
  EXPECT_EQ(while_held, 8u) << "appends queued beyond max_queued_append_bytes";
  for (size_t i = 0; i <= kN; ++i) {
    ASSERT_TRUE(results.at(i).has_value()) << i;
    EXPECT_EQ(results.at(i)->position.value(), i);
  }
  // An append larger than the bound alone is admitted when nothing waits.
  Results big(1);
  std::vector<EventData> large = {Ev("E", "\"" + std::string(10000, 'y') + "\"")};
  ASSERT_TRUE(store->AppendAsync("s", ExpectedRevision::Any(), large, big.Slot(0)).ok());
  ASSERT_TRUE(big.WaitAll());
  ASSERT_TRUE(big.at(0).has_value());
  EXPECT_EQ(big.at(0)->position.value(), kN + 1);
}

TEST_F(AsyncAppendTest, AFailedFsyncFailsTheQueuedAppendsAndNothingOfThemIsStored) {
  FaultInjectionEnv env(Env::Default());
  NativeOptions o;
  o.env = &env;
  Results results(3);
  auto store = Open(o);
  ASSERT_TRUE(store->Append("s", ExpectedRevision::Any(), One("kept")).has_value());
  env.FailSyncAt(1, EIO);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        store->AppendAsync("s", ExpectedRevision::Any(), One("lost"), results.Slot(i)).ok());
  }
  ASSERT_TRUE(results.WaitAll());
  // The first group's fsync failed: its appends say so; any later group is
  // refused because the store stops writing after a failed fsync.
  ASSERT_FALSE(results.at(0).has_value());
  EXPECT_EQ(results.at(0).error().code(), ErrorCode::kIOError);
  for (size_t i = 1; i < 3; ++i) {
    ASSERT_FALSE(results.at(i).has_value());
    ErrorCode c = results.at(i).error().code();
    EXPECT_TRUE(c == ErrorCode::kIOError || c == ErrorCode::kFailedPrecondition)
        << results.at(i).error().ToString();
  }
  (void)store->Close();
  store.reset();
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  env.ClearFaults();
  auto again = Open(o);
  auto events = again->ReadStream("s", ReadStreamOptions{});
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].type, "kept");
}

}  // namespace
}  // namespace cairn
