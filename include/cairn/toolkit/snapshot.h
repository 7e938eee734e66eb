#pragma once
// Snapshots of aggregate state, written in the background.
//
// Naming convention (store-wide): the snapshots of stream S live in the
// stream "snapshot-" + S (so all snapshots form the category "snapshot",
// which applications must not use for their own streams). Each snapshot is
// one event of type "Snapshot": its data is the state as JSON, its metadata
// {"schemaVersion": V, "aggregateRevision": N, "lastCreatedNs": T}: V is the
// aggregate's snapshot schema version, N the revision of the last event the
// state includes, T that event's creation time as the store recorded it
// (for loads "as of" a time).
// A snapshot stream keeps its last 2 snapshots ("$maxCount": 2), so older
// ones go at the next scavenge.
//
// Writing a snapshot never fails or delays the command that asked for it:
// Enqueue only queues (newest per stream wins, bounded); a background thread
// encodes (sealing personal data may ask the key vault), reads the event's
// creation time, appends, and counts failures, never returning them to the
// command.
//
// Thread safety: all methods are safe to call concurrently.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "cairn/store.h"

namespace cairn::toolkit {

inline constexpr std::string_view kSnapshotCategory = "snapshot";
inline constexpr std::string_view kSnapshotType = "Snapshot";
inline std::string SnapshotStreamOf(std::string_view stream) {
  return std::string(kSnapshotCategory) + "-" + std::string(stream);
}

// A snapshot event's metadata; false when it is not one.
struct SnapshotHeader {
  int schema_version = 0;
  uint64_t revision = 0;
  int64_t last_created_ns = 0;
};
bool ParseSnapshotHeader(std::string_view metadata, SnapshotHeader* out);

struct SnapshotStats {
  uint64_t written = 0;
  uint64_t failed = 0;   // encodes or appends that failed (the command was not affected)
  uint64_t dropped = 0;  // replaced by a newer one before being written, or queue full
};

class SnapshotWriter {
 public:
  explicit SnapshotWriter(Store* store, size_t max_pending = 10000);
  ~SnapshotWriter();  // writes what is queued, then stops
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Produces the state's JSON, on the writer's thread.
  using Encoder = std::function<Result<std::string>()>;
  // Queues a snapshot of `stream` (the aggregate's stream, not the snapshot
  // stream) holding the state after `aggregate_revision`. Never blocks on
  // the store or the vault.
  void Enqueue(std::string_view stream, Encoder encode, int schema_version,
               uint64_t aggregate_revision);
  // Waits until everything queued before the call is written or failed.
  void Flush();
  SnapshotStats stats() const;

 private:
  struct Pending {
    Encoder encode;
    int schema_version;
    uint64_t revision;
  };
  void Run();
  void Write(const std::string& stream, const Pending& p);

  Store* store_;
  const size_t max_pending_;
  mutable std::mutex mu_;
  std::condition_variable cv_;              // work queued or stop
  std::condition_variable idle_cv_;         // queue drained
  std::map<std::string, Pending> pending_;  // guarded by mu_: newest per stream
  std::deque<std::string> order_;           // guarded by mu_: streams in queue order
  bool busy_ = false;                       // guarded by mu_: a write in progress
  bool stop_ = false;                       // guarded by mu_
  SnapshotStats stats_;                     // guarded by mu_
  std::thread thread_;
};

}  // namespace cairn::toolkit
