// Engine workloads (system=cairn): appends in batches, one by one and from 64
// threads; paged reads of one stream and of $all; opening a large store. Each
// builds its store in ctx.scratch through the public API only.

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bench/workload.h"
#include "cairn/native.h"

namespace cairn::bench {
namespace {

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

// A failed consistency check of what the engine returned: the data read back
// is not what was written, so it is reported like corruption.
Status CheckFailed(const WorkloadContext& ctx, const std::string& what) {
  return Status(ErrorCode::kCorruption, "bench check failed in " + ctx.name + ": " + what);
}

// Writes `n` events in appends of kBatchEvents, call i to stream i % streams.
Status WriteBatches(NativeStore& store, uint64_t n, uint64_t streams,
                    const std::vector<EventData>& pool) {
  uint64_t done = 0;
  for (uint64_t call = 0; done < n; ++call) {
    const uint64_t k = std::min<uint64_t>(pool.size(), n - done);
    auto r = store.Append(StreamName(call % streams), ExpectedRevision::Any(),
                          std::span<const EventData>(pool.data(), k));
    if (!r) return r.error();
    done += k;
  }
  return Status::OK();
}

// Sums what the visitor sees of one event, so the read cannot be skipped.
uint64_t ViewBytes(const EventView& e) {
  return e.data.size() + e.metadata.size() + e.type.size() + e.stream.size();
}

// Reads `stream` forwards in pages of kReadPageEvents, one latency sample per
// call, checking that revisions 0..expect-1 arrive in order exactly once.
Status ReadStreamPaged(const WorkloadContext& ctx, NativeStore& store, const std::string& stream,
                       uint64_t expect, Histogram* latency, uint64_t* bytes) {
  uint64_t next = 0;
  while (next < expect) {
    ReadStreamOptions options;
    options.from = StreamRevision(next);
    options.max_count = kReadPageEvents;
    uint64_t got = 0;
    uint64_t seen_bytes = 0;
    bool out_of_order = false;
    uint64_t bad_revision = 0;
    const int64_t t0 = NowNanos();
    Status s = store.ReadStream(stream, options, [&](const EventView& e) {
      if (e.revision.value() != next + got) {
        out_of_order = true;
        bad_revision = e.revision.value();
        return false;
      }
      ++got;
      seen_bytes += ViewBytes(e);
      return true;
    });
    latency->Record(NowNanos() - t0);
    CAIRN_RETURN_IF_ERROR(s);
    if (out_of_order) {
      return CheckFailed(ctx, "stream '" + stream + "' returned revision " +
                                  std::to_string(bad_revision) + " where " +
                                  std::to_string(next + got) + " was expected");
    }
    if (got == 0 || got > kReadPageEvents) {
      return CheckFailed(ctx, "stream '" + stream + "' read from revision " + std::to_string(next) +
                                  " with max_count " + std::to_string(kReadPageEvents) +
                                  " returned " + std::to_string(got) + " events; " +
                                  std::to_string(expect) + " were written");
    }
    next += got;
    *bytes += seen_bytes;
  }
  return Status::OK();
}

// Reads $all forwards in pages, checking positions 0..expect-1 in order.
Status ReadAllPaged(const WorkloadContext& ctx, NativeStore& store, uint64_t expect,
                    Histogram* latency, uint64_t* bytes) {
  uint64_t next = 0;
  while (next < expect) {
    ReadAllOptions options;
    options.from = Position(next);
    options.max_count = kReadPageEvents;
    uint64_t got = 0;
    uint64_t seen_bytes = 0;
    bool out_of_order = false;
    uint64_t bad_position = 0;
    const int64_t t0 = NowNanos();
    Status s = store.ReadAll(options, [&](const EventView& e) {
      if (e.position.value() != next + got) {
        out_of_order = true;
        bad_position = e.position.value();
        return false;
      }
      ++got;
      seen_bytes += ViewBytes(e);
      return true;
    });
    latency->Record(NowNanos() - t0);
    CAIRN_RETURN_IF_ERROR(s);
    if (out_of_order) {
      return CheckFailed(ctx, "$all returned position " + std::to_string(bad_position) + " where " +
                                  std::to_string(next + got) + " was expected");
    }
    if (got == 0 || got > kReadPageEvents) {
      return CheckFailed(ctx, "$all read from position " + std::to_string(next) +
                                  " with max_count " + std::to_string(kReadPageEvents) +
                                  " returned " + std::to_string(got) + " events; " +
                                  std::to_string(expect) + " were written");
    }
    next += got;
    *bytes += seen_bytes;
  }
  return Status::OK();
}

// Appends one event per call from `writers` threads, thread t to its own
// stream "account-t", `total` events in all. Latency is per append call.
Status RunConcurrentAppends(NativeStore& store, uint64_t total, int writers, Measurement* m) {
  const std::vector<EventData> pool = MakeEventPool(kBatchEvents);
  std::vector<Histogram> latencies(writers);
  std::vector<Status> errors(writers);
  std::vector<uint64_t> bytes(writers, 0);
  std::latch ready(writers + 1);
  std::latch go(1);
  std::vector<std::thread> threads;
  threads.reserve(writers);
  for (int t = 0; t < writers; ++t) {
    const uint64_t share = total / writers + (static_cast<uint64_t>(t) < total % writers);
    threads.emplace_back([&, t, share] {
      const std::string stream = StreamName(static_cast<uint64_t>(t));
      ready.count_down();
      go.wait();
      for (uint64_t i = 0; i < share; ++i) {
        const EventData& e = pool[(i * writers + t) % pool.size()];
        const int64_t t0 = NowNanos();
        auto r = store.Append(stream, ExpectedRevision::Any(), std::span<const EventData>(&e, 1));
        latencies[t].Record(NowNanos() - t0);
        if (!r) {
          errors[t] = r.error();
          return;
        }
        bytes[t] += PayloadBytes(e, stream);
      }
    });
  }
  ready.arrive_and_wait();
  const int64_t start = NowNanos();
  go.count_down();
  for (auto& th : threads) th.join();
  m->seconds = static_cast<double>(NowNanos() - start) / 1e9;
  for (int t = 0; t < writers; ++t) {
    CAIRN_RETURN_IF_ERROR(errors[t]);
    m->latency.Merge(latencies[t]);
    m->payload_bytes += bytes[t];
  }
  return Status::OK();
}

}  // namespace

Result<Measurement> CairnAppendBatch(const WorkloadContext& ctx) {
  const std::vector<EventData> pool = MakeEventPool(kBatchEvents);
  std::vector<std::string> streams;
  for (uint64_t s = 0; s < kStreamCount; ++s) streams.push_back(StreamName(s));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));

  Measurement m = NewMeasurement(ctx);
  ResetPeakRss();
  const int64_t start = NowNanos();
  uint64_t done = 0;
  for (uint64_t call = 0; done < ctx.events; ++call) {
    const uint64_t k = std::min<uint64_t>(kBatchEvents, ctx.events - done);
    const std::string& stream = streams[call % kStreamCount];
    const int64_t t0 = NowNanos();
    auto r =
        store->Append(stream, ExpectedRevision::Any(), std::span<const EventData>(pool.data(), k));
    m.latency.Record(NowNanos() - t0);
    if (!r) return r.error();
    for (uint64_t i = 0; i < k; ++i) m.payload_bytes += PayloadBytes(pool[i], stream);
    done += k;
  }
  m.seconds = static_cast<double>(NowNanos() - start) / 1e9;
  m.SampleRss();
  CAIRN_ASSIGN_OR_RETURN(StoreStats stats, store->Stats());
  CAIRN_RETURN_IF_ERROR(store->Close());
  m.Add("mb_per_s", FormatFixed(m.MegabytesPerSecond(), 0));
  m.Add("batch", std::to_string(kBatchEvents));
  // What the log holds per event (segment headers included): disk-seq's
  // synced_batch pass writes this much per append.
  m.Add("log_bytes_per_event", std::to_string(stats.log_bytes / std::max<uint64_t>(done, 1)));
  return m;
}

Result<Measurement> CairnAppendSingle(const WorkloadContext& ctx) {
  const std::vector<EventData> pool = MakeEventPool(kBatchEvents);
  std::vector<std::string> streams;
  for (uint64_t s = 0; s < kStreamCount; ++s) streams.push_back(StreamName(s));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));

  Measurement m = NewMeasurement(ctx);
  ResetPeakRss();
  const int64_t start = NowNanos();
  for (uint64_t i = 0; i < ctx.events; ++i) {
    const EventData& e = pool[i % pool.size()];
    const std::string& stream = streams[i % kStreamCount];
    const int64_t t0 = NowNanos();
    auto r = store->Append(stream, ExpectedRevision::Any(), std::span<const EventData>(&e, 1));
    m.latency.Record(NowNanos() - t0);
    if (!r) return r.error();
    m.payload_bytes += PayloadBytes(e, stream);
  }
  m.seconds = static_cast<double>(NowNanos() - start) / 1e9;
  m.SampleRss();
  CAIRN_RETURN_IF_ERROR(store->Close());
  return m;
}

Result<Measurement> CairnAppendConcurrent(const WorkloadContext& ctx) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
  Measurement m = NewMeasurement(ctx);
  ResetPeakRss();
  CAIRN_RETURN_IF_ERROR(RunConcurrentAppends(*store, ctx.events, kConcurrentWriters, &m));
  m.SampleRss();
  CAIRN_ASSIGN_OR_RETURN(const Position head_position, store->HeadPosition());
  const uint64_t head = head_position.value();
  CAIRN_RETURN_IF_ERROR(store->Close());
  if (head != ctx.events) {
    return CheckFailed(ctx, "head position is " + std::to_string(head) + " after " +
                                std::to_string(ctx.events) + " acknowledged appends");
  }
  m.Add("writers", std::to_string(kConcurrentWriters));
  return m;
}

// 64 writers over the asynchronous API, each with one single-event append
// in flight: a writer submits its next append from the callback of its
// previous one, as a server's request handlers do. No thread per writer:
// the engine's commit thread runs the callbacks. Latency is submit to
// callback.
Result<Measurement> CairnAppendConcurrentAsync(const WorkloadContext& ctx) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
  const std::vector<EventData> pool = MakeEventPool(kBatchEvents);
  const int writers = kConcurrentWriters;
  struct Writer {
    std::string stream;
    uint64_t next = 0;  // index of its next append
    uint64_t share = 0;
    int64_t submitted_ns = 0;
  };
  std::vector<Writer> ws(writers);
  Measurement m = NewMeasurement(ctx);
  // Callbacks of one store never run at once (one commit leader at a time),
  // so they update these without a lock; the main thread reads them after
  // `finished` says every writer is done (under `mu`).
  std::mutex mu;
  std::condition_variable cv;
  int finished = 0;
  Status error;
  std::function<void(int)> submit = [&](int t) {
    Writer& w = ws[t];
    const EventData& e = pool[(w.next * writers + t) % pool.size()];
    w.submitted_ns = NowNanos();
    Status s =
        store->AppendAsync(w.stream, ExpectedRevision::Any(), {e}, [&, t](Result<AppendResult> r) {
          Writer& me = ws[t];
          m.latency.Record(NowNanos() - me.submitted_ns);
          if (r) {
            const EventData& done = pool[(me.next * writers + t) % pool.size()];
            m.payload_bytes += PayloadBytes(done, me.stream);
          }
          if (r && ++me.next < me.share) {
            submit(t);
            return;
          }
          std::lock_guard l(mu);
          if (!r && error.ok()) error = r.error();
          ++finished;
          cv.notify_all();
        });
    if (!s.ok()) {
      std::lock_guard l(mu);
      if (error.ok()) error = s;
      ++finished;
      cv.notify_all();
    }
  };
  for (int t = 0; t < writers; ++t) {
    ws[t].stream = StreamName(static_cast<uint64_t>(t));
    ws[t].share = ctx.events / writers + (static_cast<uint64_t>(t) < ctx.events % writers);
  }
  ResetPeakRss();
  const int64_t start = NowNanos();
  for (int t = 0; t < writers; ++t) {
    if (ws[t].share > 0) {
      submit(t);
    } else {
      std::lock_guard l(mu);
      ++finished;
    }
  }
  {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return finished == writers; });
  }
  m.seconds = static_cast<double>(NowNanos() - start) / 1e9;
  m.SampleRss();
  CAIRN_ASSIGN_OR_RETURN(const Position head_position, store->HeadPosition());
  const uint64_t head = head_position.value();
  CAIRN_RETURN_IF_ERROR(store->Close());
  CAIRN_RETURN_IF_ERROR(error);
  if (head != ctx.events) {
    return CheckFailed(ctx, "head position is " + std::to_string(head) + " after " +
                                std::to_string(ctx.events) + " acknowledged appends");
  }
  m.Add("writers", std::to_string(writers));
  m.Add("api", "async");
  return m;
}

Result<Measurement> CairnReadStream(const WorkloadContext& ctx) {
  const std::string stream = StreamName(0);
  {
    // Setup in the run's durability mode; then close so the read goes
    // through a freshly opened store with its index persisted.
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                           NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
    CAIRN_RETURN_IF_ERROR(WriteBatches(*store, ctx.events, 1, MakeEventPool(kBatchEvents)));
    CAIRN_RETURN_IF_ERROR(store->Close());
  }
  Measurement m = NewMeasurement(ctx);
  ResetPeakRss();
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
  {
    Histogram warmup;
    uint64_t ignored = 0;
    CAIRN_RETURN_IF_ERROR(ReadStreamPaged(ctx, *store, stream, ctx.events, &warmup, &ignored));
  }
  const int64_t start = NowNanos();
  CAIRN_RETURN_IF_ERROR(
      ReadStreamPaged(ctx, *store, stream, ctx.events, &m.latency, &m.payload_bytes));
  m.seconds = static_cast<double>(NowNanos() - start) / 1e9;
  m.SampleRss();
  CAIRN_RETURN_IF_ERROR(store->Close());
  m.Add("mb_per_s", FormatFixed(m.MegabytesPerSecond(), 0));
  m.Add("page", std::to_string(kReadPageEvents));
  return m;
}

Result<Measurement> CairnReadAll(const WorkloadContext& ctx) {
  {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                           NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
    CAIRN_RETURN_IF_ERROR(
        WriteBatches(*store, ctx.events, kStreamCount, MakeEventPool(kBatchEvents)));
    CAIRN_RETURN_IF_ERROR(store->Close());
  }
  Measurement m = NewMeasurement(ctx);
  ResetPeakRss();
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
  {
    Histogram warmup;
    uint64_t ignored = 0;
    CAIRN_RETURN_IF_ERROR(ReadAllPaged(ctx, *store, ctx.events, &warmup, &ignored));
  }
  const int64_t start = NowNanos();
  CAIRN_RETURN_IF_ERROR(ReadAllPaged(ctx, *store, ctx.events, &m.latency, &m.payload_bytes));
  m.seconds = static_cast<double>(NowNanos() - start) / 1e9;
  m.SampleRss();
  CAIRN_RETURN_IF_ERROR(store->Close());
  m.Add("gb_per_s", FormatFixed(static_cast<double>(m.payload_bytes) / 1e9 / m.seconds, 2));
  m.Add("page", std::to_string(kReadPageEvents));
  return m;
}

Result<Measurement> CairnOpen(const WorkloadContext& ctx) {
  // Setup: ~10 events per stream (the shape of "100 M events, 10 M streams"),
  // 100 streams per AppendMulti, without fsync; Close persists the index.
  const std::vector<EventData> pool = MakeEventPool(kBatchEvents);
  const uint64_t per_call = kOpenStreamsPerCall * kOpenEventsPerStream;
  uint64_t streams_written = 0;
  {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                           NativeStore::Open(StoreDir(ctx), MakeOptions(false)));
    uint64_t done = 0;
    std::vector<StreamAppend> appends;
    while (done < ctx.events) {
      const uint64_t call_events = std::min(per_call, ctx.events - done);
      appends.resize((call_events + kOpenEventsPerStream - 1) / kOpenEventsPerStream);
      uint64_t left = call_events;
      for (size_t j = 0; j < appends.size(); ++j) {
        const uint64_t k = std::min(kOpenEventsPerStream, left);
        StreamAppend& a = appends[j];
        a.stream = StreamName(streams_written++);
        if (a.events.size() != k) {
          const auto first = pool.begin() + static_cast<ptrdiff_t>(j * kOpenEventsPerStream);
          a.events.assign(first, first + static_cast<ptrdiff_t>(k));
        }
        left -= k;
      }
      auto r = store->AppendMulti(appends);
      if (!r) return r.error();
      done += call_events;
    }
    CAIRN_RETURN_IF_ERROR(store->Close());
  }

  Measurement m = NewMeasurement(ctx);
  ResetPeakRss();
  double first_open_ms = 0;
  StoreStats stats;
  for (int rep = 0; rep < kOpenRepeats; ++rep) {
    const int64_t t0 = NowNanos();
    auto opened = NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable));
    const int64_t took = NowNanos() - t0;
    if (!opened) return opened.error();
    m.latency.Record(took);
    if (rep == 0) {
      first_open_ms = static_cast<double>(took) / 1e6;
      CAIRN_ASSIGN_OR_RETURN(stats, (*opened)->Stats());
      if (stats.events != ctx.events) {
        return CheckFailed(ctx, "reopened store has " + std::to_string(stats.events) + " events; " +
                                    std::to_string(ctx.events) + " were written");
      }
    }
    m.anon_rss_mb = std::max(m.anon_rss_mb, AnonRssMb());  // while open
    CAIRN_RETURN_IF_ERROR((*opened)->Close());
  }
  m.peak_rss_mb = PeakRssMb();
  const double open_ns = m.latency.Percentile(0.5);
  m.seconds = open_ns / 1e9;  // events_per_s: events opened per second
  m.Add("open_ms", FormatFixed(open_ns / 1e6, 1));
  m.Add("first_open_ms", FormatFixed(first_open_ms, 1));
  m.Add("opens", std::to_string(kOpenRepeats));
  m.Add("streams", std::to_string(streams_written));
  m.Add("log_mb", FormatFixed(static_cast<double>(stats.log_bytes) / 1e6, 0));
  m.Add("index_runs", std::to_string(stats.index_runs));
  m.Add("setup", "nosync");
  return m;
}

}  // namespace cairn::bench
