// Subscription workloads (system=cairn): `catch-up`, one subscription to $all
// reading a large history from the beginning; `live-fanout`, one writer and
// many live subscribers, measuring the time from an append to its delivery.
// Public API only (Store::Subscribe, include/cairn/subscription.h).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bench/workload.h"
#include "cairn/native.h"
#include "cairn/subscription.h"

namespace cairn::bench {
namespace {

using Kind = SubscriptionMessage::Kind;

// How long Next() may wait while history is being read: it never should,
// so running out of time means the subscription lost its way.
constexpr std::chrono::milliseconds kHistoryTimeout{10'000};
// live-fanout subscribers poll with this timeout, so that they notice a
// failed writer, and give up after kFanoutStallNanos without a message.
constexpr std::chrono::milliseconds kFanoutPoll{100};
constexpr int64_t kFanoutStallNanos = 30'000'000'000;

NativeOptions MakeOptions(bool durable) {
  NativeOptions options;
  options.durability = durable ? Durability::kFsync : Durability::kNoSyncUnsafe;
  return options;
}

std::string StoreDir(const WorkloadContext& ctx) { return ctx.scratch + "/store"; }

Measurement NewMeasurement(const WorkloadContext& ctx) {
  Measurement m;
  m.workload = ctx.name;
  m.system = "cairn";
  m.durable = ctx.durable;
  m.events = ctx.events;
  return m;
}

Status CheckFailed(const WorkloadContext& ctx, const std::string& what) {
  return Status(ErrorCode::kCorruption, "bench check failed in " + ctx.name + ": " + what);
}

std::string Micros(double nanos) { return FormatFixed(nanos / 1e3, 1); }

// Subscribes to $all from the beginning and takes pages until `expect`
// events (positions 0..expect-1, in order) and then kCaughtUp have arrived.
// With `latency`, records one sample per kCatchUpSampleEvents deliveries
// (a clock read per event would add ~8 % to the time measured).
Status CatchUpOnce(const WorkloadContext& ctx, NativeStore& store, uint64_t expect,
                   Histogram* latency, uint64_t* bytes) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Subscription> sub,
                         store.Subscribe(SubscribeOptions::All()));
  uint64_t next = 0;
  uint64_t seen_bytes = 0;
  int64_t sample_start = NowNanos();
  // NextBatch hands over a page at a time and reuses the vector's strings:
  // no allocation per event (the API's fast catch-up path).
  std::vector<SubscriptionMessage> page;
  for (bool caught_up = false; !caught_up;) {
    CAIRN_ASSIGN_OR_RETURN(size_t n, sub->NextBatch(&page, kHistoryTimeout));
    if (n == 0) {
      return CheckFailed(ctx, "NextBatch() waited " + std::to_string(kHistoryTimeout.count()) +
                                  " ms after " + std::to_string(next) + " of " +
                                  std::to_string(expect) + " events");
    }
    for (const SubscriptionMessage& msg : page) {
      if (msg.kind == Kind::kCaughtUp) {
        if (next != expect || msg.position.value() != expect) {
          return CheckFailed(ctx, "caught up at head " + std::to_string(msg.position.value()) +
                                      " after " + std::to_string(next) + " events; " +
                                      std::to_string(expect) + " were written");
        }
        caught_up = true;
        break;
      }
      if (msg.kind != Kind::kEvent) {
        return CheckFailed(ctx, "unexpected message kind " +
                                    std::to_string(static_cast<int>(msg.kind)) + " at event " +
                                    std::to_string(next));
      }
      const RecordedEvent& e = msg.event;
      if (e.position.value() != next) {
        return CheckFailed(ctx, "$all subscription delivered position " +
                                    std::to_string(e.position.value()) + " where " +
                                    std::to_string(next) + " was expected");
      }
      ++next;
      seen_bytes += e.data.size() + e.metadata.size() + e.type.size() + e.stream.size();
      if (latency != nullptr && next % kCatchUpSampleEvents == 0) {
        const int64_t now = NowNanos();
        latency->Record(now - sample_start);
        sample_start = now;
      }
    }
  }
  *bytes += seen_bytes;
  return Status::OK();
}

// What one live-fanout subscriber thread saw.
struct Subscriber {
  std::unique_ptr<Subscription> sub;
  std::unique_ptr<PushSubscription> push;  // live-fanout-push: delivered by handlers
  std::atomic<uint64_t> pushed{0};         // push: events its handler took (release)
  std::vector<int64_t> delivered_ns;       // by position; monotonic clock
  uint64_t received = 0;
  uint64_t fell_behind = 0;
  Status error;
};

// Takes messages until `expect` events have arrived, stamping each with the
// time Next() returned it. Stops on an error or when cancelled.
void RunSubscriber(const WorkloadContext& ctx, uint64_t expect, Subscriber* s) {
  int64_t last_progress = NowNanos();
  while (s->received < expect) {
    auto r = s->sub->Next(kFanoutPoll);
    const int64_t now = NowNanos();
    if (!r) {
      s->error = r.error();
      return;
    }
    if (!*r) {
      if (now - last_progress > kFanoutStallNanos) {
        s->error = CheckFailed(ctx, "subscriber got nothing for 30 s after " +
                                        std::to_string(s->received) + " of " +
                                        std::to_string(expect) + " events");
        return;
      }
      continue;
    }
    last_progress = now;
    const SubscriptionMessage& msg = **r;
    if (msg.kind == Kind::kFellBehind) ++s->fell_behind;
    if (msg.kind != Kind::kEvent) continue;
    const uint64_t position = msg.event.position.value();
    if (position != s->received) {
      s->error = CheckFailed(ctx, "subscriber got position " + std::to_string(position) +
                                      " where " + std::to_string(s->received) + " was expected");
      return;
    }
    s->delivered_ns[position] = now;
    ++s->received;
  }
}

}  // namespace

Result<Measurement> CairnCatchUp(const WorkloadContext& ctx) {
  {
    // Setup, not timed: non-durable appends of kBatchEvents, round-robin over
    // kStreamCount streams; Close persists the index.
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                           NativeStore::Open(StoreDir(ctx), MakeOptions(false)));
    const std::vector<EventData> pool = MakeEventPool(kBatchEvents);
    uint64_t done = 0;
    for (uint64_t call = 0; done < ctx.events; ++call) {
      const uint64_t k = std::min<uint64_t>(pool.size(), ctx.events - done);
      auto r = store->Append(StreamName(call % kStreamCount), ExpectedRevision::Any(),
                             std::span<const EventData>(pool.data(), k));
      if (!r) return r.error();
      done += k;
    }
    CAIRN_RETURN_IF_ERROR(store->Close());
  }
  Measurement m = NewMeasurement(ctx);
  ResetPeakRss();
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
  {
    uint64_t ignored = 0;
    CAIRN_RETURN_IF_ERROR(CatchUpOnce(ctx, *store, ctx.events, nullptr, &ignored));
  }
  const int64_t start = NowNanos();
  CAIRN_RETURN_IF_ERROR(CatchUpOnce(ctx, *store, ctx.events, &m.latency, &m.payload_bytes));
  m.seconds = static_cast<double>(NowNanos() - start) / 1e9;
  m.SampleRss();
  CAIRN_RETURN_IF_ERROR(store->Close());
  m.Add("mb_per_s", FormatFixed(m.MegabytesPerSecond(), 0));
  m.Add("latency_per", std::to_string(kCatchUpSampleEvents) + "_events");
  m.Add("setup", "nosync");
  return m;
}

namespace {

// The handler of a push subscriber: stamps each event on arrival, checks
// the order; the dispatcher thread is the only writer of `s`.
PushHandlers PushStamper(const WorkloadContext& ctx, Subscriber* s) {
  PushHandlers h;
  h.on_message = [&ctx, s](const SubscriptionMessage& msg) {
    const int64_t now = NowNanos();
    if (msg.kind == Kind::kFellBehind) ++s->fell_behind;
    if (msg.kind != Kind::kEvent) return true;
    const uint64_t position = msg.event.position.value();
    if (position != s->received) {
      s->error = CheckFailed(ctx, "push subscriber got position " + std::to_string(position) +
                                      " where " + std::to_string(s->received) + " was expected");
      s->pushed.store(UINT64_MAX, std::memory_order_release);
      return false;
    }
    s->delivered_ns[position] = now;
    ++s->received;
    s->pushed.store(s->received, std::memory_order_release);
    return true;
  };
  h.on_end = [s](const Status& why) {
    if (!why.ok() && s->error.ok()) s->error = why;
    s->pushed.store(UINT64_MAX, std::memory_order_release);
  };
  return h;
}

// Waits until every push subscriber has taken `n` events or ended.
Status WaitForPushed(const WorkloadContext& ctx, std::vector<Subscriber>* subs, uint64_t n) {
  const int64_t start = NowNanos();
  for (Subscriber& s : *subs) {
    while (s.pushed.load(std::memory_order_acquire) < n) {
      if (NowNanos() - start > kFanoutStallNanos) {
        return CheckFailed(ctx, "a push subscriber took " + std::to_string(s.pushed.load()) +
                                    " of " + std::to_string(n) + " events in 30 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return Status::OK();
}

// live-fanout: each subscriber is a thread blocking in Next(); with `push`
// (live-fanout-push) every subscriber is a push subscription served by the
// store's one dispatcher thread.
Result<Measurement> LiveFanout(const WorkloadContext& ctx, bool push) {
  const uint64_t n = ctx.events;
  const std::vector<EventData> pool = MakeEventPool(kBatchEvents);
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));

  // Every subscription starts at the end of the empty store (from_end is
  // resolved by Subscribe); a pulled one says kCaughtUp at its first Next:
  // take it here, so the writer starts with every subscriber live.
  std::vector<Subscriber> subs(kFanoutSubscribers);
  for (Subscriber& s : subs) {
    SubscribeOptions options = SubscribeOptions::All();
    options.from_end = true;
    s.delivered_ns.assign(n, -1);
    if (push) {
      CAIRN_ASSIGN_OR_RETURN(s.push, store->SubscribePush(options, PushStamper(ctx, &s)));
      continue;
    }
    CAIRN_ASSIGN_OR_RETURN(s.sub, store->Subscribe(options));
    CAIRN_ASSIGN_OR_RETURN(std::optional<SubscriptionMessage> first,
                           s.sub->Next(std::chrono::milliseconds(0)));
    if (!first || first->kind != Kind::kCaughtUp || first->position.value() != 0) {
      return CheckFailed(ctx,
                         "a subscription from the end of an empty store did not start "
                         "with kCaughtUp at head 0");
    }
  }
  // By position: when Append was called and when it returned. Written by the
  // writer (the ack with a release store) and read only after the threads
  // are joined, so latencies are computed after the run, not during it.
  std::vector<std::atomic<int64_t>> call_ns(n);
  std::vector<std::atomic<int64_t>> ack_ns(n);

  Measurement m = NewMeasurement(ctx);
  Histogram append_latency;
  ResetPeakRss();
  std::latch ready(push ? 1 : kFanoutSubscribers + 1);
  std::vector<std::thread> threads;
  threads.reserve(subs.size());
  for (Subscriber& s : subs) {
    if (push) break;
    threads.emplace_back([&ctx, &ready, n, &s] {
      ready.count_down();
      RunSubscriber(ctx, n, &s);
    });
  }
  ready.arrive_and_wait();

  // One single-event durable append per kFanoutIntervalNanos, on a fixed
  // schedule (a late append does not push the later ones back).
  Status write_error;
  const int64_t start = NowNanos();
  int64_t writer_end = start;
  for (uint64_t i = 0; i < n; ++i) {
    const int64_t due = start + static_cast<int64_t>(i) * kFanoutIntervalNanos;
    const int64_t now = NowNanos();
    // The Env has no sleep; waiting is not I/O, so the standard library does it.
    if (due > now) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
    const EventData& e = pool[i % pool.size()];
    const int64_t t_call = NowNanos();
    call_ns[i].store(t_call, std::memory_order_relaxed);
    auto r = store->Append(StreamName(i % kStreamCount), ExpectedRevision::Any(),
                           std::span<const EventData>(&e, 1));
    const int64_t t_ack = NowNanos();
    ack_ns[i].store(t_ack, std::memory_order_release);
    append_latency.Record(t_ack - t_call);
    writer_end = t_ack;
    if (!r) {
      write_error = r.error();
      break;
    }
    if (r->position.value() != i) {
      write_error = CheckFailed(ctx, "append " + std::to_string(i) + " got position " +
                                         std::to_string(r->position.value()));
      break;
    }
    m.payload_bytes += PayloadBytes(e, StreamName(i % kStreamCount));
  }
  if (!write_error.ok()) {
    for (Subscriber& s : subs) {
      if (s.sub) s.sub->Cancel();
      if (s.push) s.push->Cancel();
    }
  }
  for (std::thread& t : threads) t.join();
  if (push && write_error.ok()) write_error = WaitForPushed(ctx, &subs, n);
  for (Subscriber& s : subs) {
    if (s.push) s.push->Cancel();  // no handler runs after this
  }
  int64_t last_delivery = writer_end;
  for (const Subscriber& s : subs) {
    for (int64_t d : s.delivered_ns) last_delivery = std::max(last_delivery, d);
  }
  m.SampleRss();
  for (Subscriber& s : subs) {
    s.sub.reset();  // before Close, as the API asks
    s.push.reset();
  }
  Status closed = store->Close();
  CAIRN_RETURN_IF_ERROR(write_error);
  for (const Subscriber& s : subs) CAIRN_RETURN_IF_ERROR(s.error);
  CAIRN_RETURN_IF_ERROR(closed);

  // Latency over every (subscriber, event) delivery, from three points: the
  // time Append returned in the writer (the durable ack, the line's p*_us);
  // the time Append was called (an upper bound: it includes the fsync); and
  // the first delivery of the same event to any subscriber (the spread of
  // one fan-out). The moment the event became durable is not observable
  // through the API; it lies between the call and the ack.
  std::vector<int64_t> first_ns(n, INT64_MAX);
  for (const Subscriber& s : subs) {
    for (uint64_t i = 0; i < n; ++i) first_ns[i] = std::min(first_ns[i], s.delivered_ns[i]);
  }
  Histogram from_call;
  Histogram from_first;
  uint64_t before_ack = 0;
  uint64_t fell_behind = 0;
  for (const Subscriber& s : subs) {
    fell_behind += s.fell_behind;
    for (uint64_t i = 0; i < n; ++i) {
      const int64_t d = s.delivered_ns[i];
      const int64_t ack = ack_ns[i].load(std::memory_order_acquire);
      if (d < ack) ++before_ack;  // delivered before the writer saw Append return
      m.latency.Record(std::max<int64_t>(0, d - ack));
      from_call.Record(d - call_ns[i].load(std::memory_order_relaxed));
      from_first.Record(d - first_ns[i]);
    }
  }
  const uint64_t deliveries = n * subs.size();
  m.seconds = static_cast<double>(writer_end - start) / 1e9;  // appends/s
  m.Add("latency", "ack_to_delivery");
  m.Add("call_p50_us", Micros(from_call.Percentile(0.50)));
  m.Add("call_p99_us", Micros(from_call.Percentile(0.99)));
  m.Add("call_p999_us", Micros(from_call.Percentile(0.999)));
  m.Add("spread_p50_us", Micros(from_first.Percentile(0.50)));
  m.Add("spread_p99_us", Micros(from_first.Percentile(0.99)));
  m.Add("spread_p999_us", Micros(from_first.Percentile(0.999)));
  m.Add("append_p50_us", Micros(append_latency.Percentile(0.50)));
  m.Add("append_p99_us", Micros(append_latency.Percentile(0.99)));
  m.Add("append_p999_us", Micros(append_latency.Percentile(0.999)));
  m.Add("subscribers", std::to_string(subs.size()));
  m.Add("deliveries", std::to_string(deliveries));
  m.Add("deliveries_per_s",
        FormatFixed(static_cast<double>(deliveries) * 1e9 /
                        static_cast<double>(std::max<int64_t>(1, last_delivery - start)),
                    0));
  m.Add("before_ack", std::to_string(before_ack));
  m.Add("fell_behind", std::to_string(fell_behind));
  m.Add("interval_us", std::to_string(kFanoutIntervalNanos / 1000));
  m.Add("api", push ? "push" : "pull");
  return m;
}

}  // namespace

Result<Measurement> CairnLiveFanout(const WorkloadContext& ctx) { return LiveFanout(ctx, false); }
Result<Measurement> CairnLiveFanoutPush(const WorkloadContext& ctx) {
  return LiveFanout(ctx, true);
}

}  // namespace cairn::bench
