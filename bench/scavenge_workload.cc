// `scavenge` (system=cairn): Store::Scavenge of a store where half of the
// events belong to tombstoned streams, while one writer thread appends
// single events at a steady pace. Reports the rewrite rate, the sizes before
// and after, and the writer's append latency during the scavenge against an
// equally long window just before it.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/workload.h"
#include "cairn/native.h"

namespace cairn::bench {
namespace {

constexpr uint64_t kScavengeStreams = 1000;          // "account-<n>"; even n tombstoned
constexpr uint64_t kStreamsPerAppend = 100;          // AppendMulti width
constexpr uint64_t kEventsPerStream = 10;            // per stream per call
constexpr uint64_t kWriterStreams = 100;             // the writer's own "live-<n>"
constexpr int64_t kWriterIntervalNanos = 1'000'000;  // one append per ms
// The writer runs alone at least this long (and at least twice the setup
// time, a guess at the scavenge's) before the scavenge starts, so that an
// equally long window before it can be compared.
constexpr int64_t kMinBeforeNanos = 10'000'000'000;

struct Sample {
  int64_t start_ns;    // when Append was called
  int64_t latency_ns;  // until it returned
};

// Appends one event per kWriterIntervalNanos (skipping slots it missed, never
// bursting) until `stop`; records every call.
void RunWriter(NativeStore& store, const std::vector<EventData>& pool,
               const std::atomic<bool>& stop, std::vector<Sample>* samples, Status* error) {
  int64_t next = NowNanos();
  for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    const int64_t now = NowNanos();
    if (now < next) std::this_thread::sleep_for(std::chrono::nanoseconds(next - now));
    const EventData& e = pool[i % pool.size()];
    const int64_t t0 = NowNanos();
    auto r = store.Append("live-" + std::to_string(i % kWriterStreams), ExpectedRevision::Any(),
                          std::span<const EventData>(&e, 1));
    const int64_t t1 = NowNanos();
    if (!r) {
      *error = r.error();
      return;
    }
    samples->push_back({t0, t1 - t0});
    next = std::max(next + kWriterIntervalNanos, t1);
  }
}

std::string Mb(uint64_t bytes) { return FormatFixed(static_cast<double>(bytes) / 1e6, 0); }
std::string Micros(double nanos) { return FormatFixed(nanos / 1e3, 1); }

}  // namespace

Result<Measurement> CairnScavenge(const WorkloadContext& ctx) {
  const std::string dir = ctx.scratch + "/store";
  NativeOptions options;
  options.durability = ctx.durable ? Durability::kFsync : Durability::kNoSyncUnsafe;
  const std::vector<EventData> pool = MakeEventPool(kBatchEvents);
  uint64_t doomed = 0;  // events of the streams tombstoned below
  const int64_t setup_start = NowNanos();
  {
    // Setup, in the run's durability: call j appends kEventsPerStream events
    // to each of kStreamsPerAppend streams in one AppendMulti, so every
    // record holds events of even and odd streams; then every even stream is
    // tombstoned. Close persists the index.
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store, NativeStore::Open(dir, options));
    std::vector<StreamAppend> appends;
    uint64_t done = 0;
    for (uint64_t call = 0; done < ctx.events; ++call) {
      appends.clear();
      for (uint64_t i = 0; i < kStreamsPerAppend && done < ctx.events; ++i) {
        const uint64_t s = (call * kStreamsPerAppend + i) % kScavengeStreams;
        const uint64_t k = std::min(kEventsPerStream, ctx.events - done);
        const size_t first = (i * kEventsPerStream) % pool.size();
        StreamAppend a;
        a.stream = StreamName(s);
        a.events.assign(pool.begin() + static_cast<std::ptrdiff_t>(first),
                        pool.begin() + static_cast<std::ptrdiff_t>(first + k));
        appends.push_back(std::move(a));
        if (s % 2 == 0) doomed += k;
        done += k;
      }
      auto r = store->AppendMulti(appends);
      if (!r) return r.error();
    }
    for (uint64_t s = 0; s < kScavengeStreams; s += 2) {
      auto r = store->TombstoneStream(StreamName(s), ExpectedRevision::Any());
      if (!r) return r.error();
    }
    CAIRN_RETURN_IF_ERROR(store->Close());
  }
  const int64_t setup_ns = NowNanos() - setup_start;

  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store, NativeStore::Open(dir, options));
  std::vector<Sample> samples;
  samples.reserve(1 << 20);
  Status writer_error;
  std::atomic<bool> stop{false};
  std::thread writer([&] { RunWriter(*store, pool, stop, &samples, &writer_error); });
  const int64_t before_ns = std::max(kMinBeforeNanos, 2 * setup_ns);
  std::this_thread::sleep_for(std::chrono::nanoseconds(before_ns));

  Measurement m;
  m.workload = ctx.name;
  m.system = "cairn";
  m.durable = ctx.durable;
  m.events = ctx.events;
  ResetPeakRss();
  // When each phase ended (the progress callback runs on this thread after
  // each segment and at the end of a phase): to place a stall of the writer.
  int64_t rewrite_end = 0, index_end = 0, commit_end = 0;
  ScavengeOptions scavenge;
  scavenge.progress = [&](const ScavengeProgress& p) {
    const std::string_view phase = p.phase;
    if (phase == "rewrite") rewrite_end = NowNanos();
    if (phase == "index") index_end = NowNanos();
    if (phase == "done") commit_end = NowNanos();
  };
  const int64_t t1 = NowNanos();
  Result<ScavengeReport> report = store->Scavenge(scavenge);
  const int64_t t2 = NowNanos();
  m.SampleRss();
  stop.store(true);
  writer.join();
  CAIRN_RETURN_IF_ERROR(writer_error);
  if (!report) return report.error();
  CAIRN_ASSIGN_OR_RETURN(StoreStats stats, store->Stats());
  CAIRN_RETURN_IF_ERROR(store->Close());

  // The same length of time before the scavenge as it lasted (or all the
  // writer had, if shorter: then before_s says so).
  const int64_t window = std::min(t2 - t1, before_ns);
  Histogram before;
  uint64_t during_appends = 0;
  Sample slowest{0, -1};
  for (const Sample& s : samples) {
    if (s.start_ns >= t1 - window && s.start_ns < t1) before.Record(s.latency_ns);
    if (s.start_ns >= t1 && s.start_ns < t2) {
      m.latency.Record(s.latency_ns);
      ++during_appends;
      if (s.latency_ns > slowest.latency_ns) slowest = s;
    }
  }
  // Seconds since the scavenge started.
  auto at = [&](int64_t ns) -> std::string {
    return ns == 0 ? "-" : FormatFixed(static_cast<double>(ns - t1) / 1e9, 2);
  };
  const uint64_t tombstones = kScavengeStreams / 2;
  const uint64_t expect_left = ctx.events + tombstones + samples.size() - doomed;
  if (report->events_removed != doomed || stats.events != expect_left) {
    return Status(ErrorCode::kCorruption,
                  "bench check failed in " + ctx.name + ": scavenge removed " +
                      std::to_string(report->events_removed) + " events (expected " +
                      std::to_string(doomed) + ") and left " + std::to_string(stats.events) +
                      " (expected " + std::to_string(expect_left) + ")");
  }
  const double scavenge_s = static_cast<double>(report->duration_ns) / 1e9;
  m.seconds = scavenge_s;  // events_per_s: store events scavenged per second
  m.Add("mb_per_s", FormatFixed(static_cast<double>(report->bytes_written) / 1e6 / scavenge_s, 0));
  m.Add("read_mb_per_s",
        FormatFixed(static_cast<double>(report->bytes_read) / 1e6 / scavenge_s, 0));
  m.Add("scavenge_s", FormatFixed(scavenge_s, 2));
  m.Add("log_mb_before", Mb(report->log_bytes_before));
  m.Add("log_mb_after", Mb(report->log_bytes_after));
  m.Add("index_mb_before", Mb(report->index_bytes_before));
  m.Add("index_mb_after", Mb(report->index_bytes_after));
  m.Add("events_removed", std::to_string(report->events_removed));
  m.Add("records_removed", std::to_string(report->records_removed));
  m.Add("segments_rewritten", std::to_string(report->segments_rewritten));
  m.Add("during_appends", std::to_string(during_appends));
  m.Add("during_max_us", Micros(static_cast<double>(m.latency.max())));
  // Phases end at (s from the start): rewrite (after the checkpoint and
  // every segment), index rebuild, commit (swap); and the slowest append.
  m.Add("rewrite_end_s", at(rewrite_end));
  m.Add("index_end_s", at(index_end));
  m.Add("commit_end_s", at(commit_end));
  m.Add("max_start_s", at(slowest.start_ns));
  m.Add("max_end_s", at(slowest.latency_ns < 0 ? 0 : slowest.start_ns + slowest.latency_ns));
  m.Add("before_appends", std::to_string(before.count()));
  m.Add("before_s", FormatFixed(static_cast<double>(window) / 1e9, 2));
  m.Add("before_p50_us", Micros(before.Percentile(0.5)));
  m.Add("before_p99_us", Micros(before.Percentile(0.99)));
  m.Add("before_p999_us", Micros(before.Percentile(0.999)));
  m.Add("before_max_us", Micros(static_cast<double>(before.max())));
  m.Add("writer_interval_us", std::to_string(kWriterIntervalNanos / 1000));
  m.Add("setup_s", FormatFixed(static_cast<double>(setup_ns) / 1e9, 1));
  return m;
}

}  // namespace cairn::bench
