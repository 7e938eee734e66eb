#pragma once
// Internal to bench/: what every workload receives, the events it writes, and
// the workload functions that bench.cc puts in its table. Each function runs
// one workload against one system and returns what it measured; it never
// prints. Uses only the public API (include/cairn/, include/cairn/toolkit/)
// and sqlite3.
//
// Thread safety: a workload function runs alone in the process (it may start
// its own threads); peak-RSS figures would be meaningless otherwise.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/report.h"
#include "cairn/status.h"
#include "cairn/types.h"

namespace cairn::bench {

// Shapes shared by the engine workloads and their SQLite peers, so that both
// sides of a ratio did the same work.
inline constexpr uint64_t kBatchEvents = 1000;        // events per batched append
inline constexpr uint64_t kStreamCount = 1000;        // streams written round-robin
inline constexpr int kConcurrentWriters = 64;         // append-concurrent threads
inline constexpr uint64_t kReadPageEvents = 10'000;   // max_count of one read call
inline constexpr uint64_t kOpenEventsPerStream = 10;  // open: ~10 events per stream
inline constexpr uint64_t kOpenStreamsPerCall = 100;  // open setup: AppendMulti width
inline constexpr int kOpenRepeats = 5;                // timed opens of the same store
inline constexpr size_t kEventDataBytes = 200;        // JSON data of every event
// catch-up: one latency sample per this many deliveries (the default
// SubscribeOptions::page_events; also the SQLite peer's page of rows).
inline constexpr uint64_t kCatchUpSampleEvents = 1024;
inline constexpr int kFanoutSubscribers = 100;              // live-fanout threads
inline constexpr int64_t kFanoutIntervalNanos = 1'000'000;  // one append per ms

struct WorkloadContext {
  std::string name;     // workload name, for messages
  std::string scratch;  // fresh empty directory; the caller removes it after
  uint64_t events = 0;  // resolved event (or raw operation) count, >= 1
  bool durable = true;  // fsync each acknowledged write (engine and SQLite)
};

// "account-<n>".
std::string StreamName(uint64_t n);
// The i-th event of a workload: type "MoneyDeposited", JSON data of exactly
// kEventDataBytes ({"account":"acc-000123","amount":...,"note":"..."}), small
// JSON metadata, no id (the store generates one, as most callers let it).
EventData MakeEvent(uint64_t i);
// `count` events MakeEvent(0..count-1), reused across calls by the writers.
std::vector<EventData> MakeEventPool(uint64_t count);
// Bytes that count as an event's payload in mb_per_s / gb_per_s: data,
// metadata, type and stream name.
uint64_t PayloadBytes(const EventData& e, std::string_view stream);

// Monotonic clock of the default Env, nanoseconds.
int64_t NowNanos();

// Raw limits of the disk under the scratch directory (system=disk).
Result<Measurement> DiskFsync(const WorkloadContext& ctx);
Result<Measurement> DiskSeq(const WorkloadContext& ctx);
// 64 blocking threads over a bare group commit (group_commit_limit.cc).
Result<Measurement> DiskGroupCommit(const WorkloadContext& ctx);

// Engine workloads (system=cairn).
Result<Measurement> CairnAppendBatch(const WorkloadContext& ctx);
Result<Measurement> CairnAppendSingle(const WorkloadContext& ctx);
Result<Measurement> CairnAppendConcurrent(const WorkloadContext& ctx);
Result<Measurement> CairnAppendConcurrentAsync(const WorkloadContext& ctx);
Result<Measurement> CairnReadStream(const WorkloadContext& ctx);
Result<Measurement> CairnReadAll(const WorkloadContext& ctx);
Result<Measurement> CairnOpen(const WorkloadContext& ctx);
// Subscription workloads (system=cairn), in subscription_workloads.cc.
Result<Measurement> CairnCatchUp(const WorkloadContext& ctx);
Result<Measurement> CairnLiveFanout(const WorkloadContext& ctx);
Result<Measurement> CairnLiveFanoutPush(const WorkloadContext& ctx);
// One category through its index vs a filtered $all scan
// (category_read_workload.cc); Scavenge beside a steady durable writer
// (scavenge_workload.cc).
Result<Measurement> CairnCategoryRead(const WorkloadContext& ctx);
Result<Measurement> CairnCategoryReadMixed(const WorkloadContext& ctx);
Result<Measurement> CairnScavenge(const WorkloadContext& ctx);

// Toolkit workloads (system=toolkit): a bank account aggregate through
// toolkit::AggregateStore (toolkit_workloads.cc) and personal data sealing
// (personal_data_workload.cc). The two command workloads have a raw-engine
// peer (system=cairn): one Store::Append per event of the same bytes, to the
// same streams, from the same number of threads.
Result<Measurement> ToolkitAggregateRebuild(const WorkloadContext& ctx);
Result<Measurement> ToolkitAggregateSnapshotLoad(const WorkloadContext& ctx);
Result<Measurement> ToolkitCommandsOne(const WorkloadContext& ctx);
Result<Measurement> CairnRawCommandsOne(const WorkloadContext& ctx);
Result<Measurement> ToolkitCommandsSpread(const WorkloadContext& ctx);
Result<Measurement> CairnRawCommandsSpread(const WorkloadContext& ctx);
Result<Measurement> ToolkitPersonalData(const WorkloadContext& ctx);

// SQLite peer workloads (system=sqlite), same shapes as the engine's.
Result<Measurement> SqliteAppendBatch(const WorkloadContext& ctx);
Result<Measurement> SqliteAppendSingle(const WorkloadContext& ctx);
Result<Measurement> SqliteAppendConcurrent(const WorkloadContext& ctx);
Result<Measurement> SqliteReadStream(const WorkloadContext& ctx);
Result<Measurement> SqliteReadAll(const WorkloadContext& ctx);
Result<Measurement> SqliteCatchUp(const WorkloadContext& ctx);

}  // namespace cairn::bench
