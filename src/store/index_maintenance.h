#pragma once
// IndexMaintenance: the two threads that keep a writer's stream index small
// and its memory bounded, and the waits that depend on them. The flusher
// writes each frozen memtable out as run files and a MANIFEST (a
// checkpoint); the compactor merges runs that pile up. The work itself is
// the Worker's (the store's index); this class decides when it runs, how a
// failure is retried (a full disk: every 200 ms for a checkpoint, 500 ms
// for a merge), and who waits for it: appends past max_unflushed_entries
// (backpressure) and Checkpoint.
//
// Thread safety: every method may be called from any thread. mu_ is a leaf
// lock: never held while the Worker runs or while another lock is taken.
// A wait here waits for the flusher, which takes whatever FlushOne takes
// (the store's checkpoint_mu_): see the lock order in store_impl.h.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "cairn/env.h"
#include "cairn/status.h"

namespace cairn {

class IndexMaintenance {
 public:
  class Worker {
   public:
    virtual ~Worker() = default;
    // Writes the oldest frozen memtable out and calls Flushed; OK when
    // there is none.
    virtual Status FlushOne() = 0;
    // Merges runs where a tier is full: whether it merged. May stop early
    // with kCancelled once `*stop` is set.
    virtual Result<bool> CompactOnce(const std::atomic<bool>* stop) = 0;
  };

  // `env` and `worker` must outlive it; Stop before destroying it once
  // started.
  IndexMaintenance(Env* env, Worker* worker, uint64_t max_unflushed_entries);
  ~IndexMaintenance();
  IndexMaintenance(const IndexMaintenance&) = delete;
  IndexMaintenance& operator=(const IndexMaintenance&) = delete;

  // Starts the flusher and the compactor (through the Env).
  void Start();
  // Stops merging (a merge in progress is cancelled), lets the flusher
  // write out what is frozen (it stops on a failure), and joins both.
  void Stop();

  // A memtable of `entries` index entries was frozen; the flusher wakes.
  void Frozen(uint64_t entries);
  // FlushOne wrote out a frozen memtable of `entries` entries.
  void Flushed(uint64_t entries);
  // Wakes the flusher (and cuts short its pause after a failure).
  void Wake();
  // Frozen memtables not yet written out, and their index entries.
  int frozen_pending() const { return frozen_pending_.load(); }
  uint64_t frozen_entries() const { return frozen_entries_.load(); }

  // Backpressure, before an append batch: OK at once while fewer than
  // max_unflushed_entries entries wait; else waits for the flusher. Fails
  // (naming the checkpoint's error) once two more checkpoints failed, or
  // when the store is closing.
  Status WaitForRoom();
  // Checkpoint: wakes the flusher and waits until `done` holds (asked with
  // mu_ held: it must only read atomics) or a checkpoint attempted after
  // this call failed, whose error it returns. An earlier failure (a full
  // disk since freed) does not count.
  Status WaitForCheckpoint(const std::function<bool()>& done);

 private:
  void FlushLoop();
  void CompactLoop();

  Env* const env_;
  Worker* const worker_;
  const uint64_t max_unflushed_entries_;
  std::atomic<int> frozen_pending_{0};
  std::atomic<uint64_t> frozen_entries_{0};
  std::atomic<bool> stop_compaction_{false};

  std::mutex mu_;
  std::condition_variable flush_cv_;       // flusher waits for work / stop
  std::condition_variable flush_done_cv_;  // waiters: a checkpoint attempt ended
  std::condition_variable compact_cv_;     // compactor waits for work / stop
  bool stop_ = false;                      // guarded by mu_
  Status flush_error_;                     // guarded by mu_: the last attempt's
  uint64_t flush_attempts_ = 0;            // guarded by mu_
  bool compact_requested_ = false;         // guarded by mu_
  std::thread flusher_;
  std::thread compactor_;
};

}  // namespace cairn
