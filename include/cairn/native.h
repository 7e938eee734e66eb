#pragma once
// NativeStore: Cairn's embedded engine, a store kept in one directory.
//
// One process writes a store at a time (a second writer gets kLocked naming
// the holder's pid); other processes may open it read-only while it is being
// written and see each append once it is durable. A NativeStore is
// thread-safe: many threads may append and read at once; reads never wait
// for an fsync. Besides the Store API (store.h) and every StoreAdmin
// operation (admin.h) it has the engine's own knobs: durability, segment
// and index sizes, the Env, statistics and checkpoints.
//
// Positions of this backend have no gaps, except where a scavenge removed
// events or a restore left holes (docs/format/log.md): a property of the
// engine that callers of the neutral Store API must not rely on.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cairn/admin.h"
#include "cairn/env.h"
#include "cairn/status.h"
#include "cairn/store.h"

namespace cairn {

enum class Durability : uint8_t {
  // An append is acknowledged only after fdatasync of its record. Default.
  kFsync,
  // Acknowledged once written to the OS: survives kill -9, NOT power loss.
  // For tests and benchmarks; every figure says which mode it used.
  kNoSyncUnsafe,
};

struct NativeOptions {
  // Create the directory and an empty store when missing. Default true.
  bool create_if_missing = true;
  // Open without the write lock; appends fail with kReadOnly. Reads see
  // what the writing process has made durable. Default false.
  bool read_only = false;
  Durability durability = Durability::kFsync;
  // Largest data + metadata + type of one event. Default 16 MiB.
  uint64_t max_event_bytes = 16ull << 20;
  // Largest total of one append call (all its events). Default 256 MiB.
  uint64_t max_append_bytes = 256ull << 20;
  // Longest stream name in bytes. Default 1024.
  uint32_t max_stream_name_bytes = 1024;
  // A log segment is closed and a new one started past this size. 256 MiB.
  uint64_t segment_bytes = 256ull << 20;
  // Index entries kept in memory before they are written to an index run
  // file. Bounds memory: ~48 bytes per entry. Default 1,048,576.
  uint64_t memtable_entries = 1ull << 20;
  // Index entries allowed to wait in memory for their checkpoint (frozen
  // memtables) before appends wait for the flusher. Bounds memory when
  // checkpoints fall behind or fail; appends fail with the checkpoint's
  // error once two retries in a row have failed. Default 4,194,304.
  uint64_t max_unflushed_entries = 4ull << 20;
  // Bytes of event data and metadata that asynchronous appends may have
  // queued for their commit before AppendAsync waits for room. 64 MiB.
  uint64_t max_queued_append_bytes = 64ull << 20;
  // Threads delivering push subscriptions (SubscribePush), started with
  // the first one; subscriptions are spread over them. Default 1.
  int push_threads = 1;
  // Env for all I/O; nullptr means Env::Default(). Must outlive the Store.
  Env* env = nullptr;
};

// What opening a store for writing cut from the end of its log: the torn
// tail a crash left (docs/failures.md). Reserved space that was never
// written reads as zeros, so `data_bytes` == 0 means only that was cut; more
// means a partial write was dropped, which was never acknowledged unless
// the device lost part of a write it had reported synced.
struct TailCut {
  std::string file;         // the segment file
  uint64_t offset = 0;      // where its log now ends
  uint64_t bytes = 0;       // bytes cut from there to the old end of file
  uint64_t data_bytes = 0;  // of those, bytes that were not zero
};

struct StoreStats {
  uint64_t events = 0;     // events in $all
  uint64_t streams = 0;    // distinct streams (exact when indexed)
  uint64_t log_bytes = 0;  // bytes of all log segments
  uint64_t segments = 0;
  uint64_t index_runs = 0;  // persisted index run files
  uint64_t index_bytes = 0;
  uint64_t memtable_entries = 0;
  uint64_t indexed_through = 0;  // positions < this are in persisted runs
  bool read_only = false;
  // Set when this handle's open cut a torn tail (a writer's open only; a
  // read-only open reads up to the writer's durable end and cuts nothing).
  std::optional<TailCut> open_cut;
};

class NativeStore : public Store, public StoreAdmin {
 public:
  // Opens (or creates) the store in `dir`. Fails with kLocked when another
  // process writes it, kNotFound when missing and !create_if_missing,
  // kInvalidArgument when `dir` holds files that are not a store's, and
  // kCorruption when its files are damaged beyond a torn tail or the log
  // lost data the index says was written.
  static Result<std::unique_ptr<NativeStore>> Open(const std::string& dir,
                                                   const NativeOptions& options = {});

  virtual Result<StoreStats> Stats() = 0;

  // Persists the in-memory index so the next open re-reads no log. Called
  // by Close. Not available read-only (kReadOnly); kReentrantCall from a
  // read's visitor of the same store.
  //
  // Visitors: a read's visitor holds off a scavenge's file swap until it
  // returns. It may read and append; but a blocking append from a visitor
  // that has to wait for index checkpoints (max_unflushed_entries reached)
  // while a scavenge waits to swap can deadlock, and so can cancelling a
  // push subscription from a visitor in a read-only process: keep visitors
  // to reading and hand writes to another thread (docs/STATUS.md).
  virtual Status Checkpoint() = 0;
};

}  // namespace cairn
