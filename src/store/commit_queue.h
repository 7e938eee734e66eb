#pragma once
// CommitQueue: the leader/follower queue behind group commit. An appending
// thread queues a CommitWriter; the first to find the queue unled leads: it
// takes a batch of queued writers, hands it to the Committer (the store:
// checks it against the index, assigns revisions and positions, writes and
// syncs once, publishes) and wakes the batch's writers. Once its own append
// is done a blocking leader hands a still busy queue to the commit thread,
// so that a writer under load only waits. Asynchronous appends (Enqueue)
// are bounded in queued bytes, led by the commit thread and completed there,
// in commit order.
//
// Thread safety: every method may be called from any thread. Locks: mu_
// (queue, leadership, the sticky failure), async_mu_ (commit thread,
// asynchronous bounds, completions) and wake_mu_ (the waker's list) are
// leaves: none is held while another is taken, nor while the Committer or
// an append callback runs (but Env::StartThread runs under async_mu_ when
// the first asynchronous append starts the threads: an Env must not call
// back into the store there). The Committer may take mu_ (SetFailed).
//
// Threads: the commit thread (leads for asynchronous appends, takes over a
// busy queue, runs callbacks) and the waker (wakes the blocking writers of
// the commit thread's batches), both started through the Env by the first
// asynchronous append or hand-over, and joined by Drain.

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <thread>
#include <vector>

#include "cairn/admin.h"
#include "cairn/env.h"
#include "cairn/store.h"

namespace cairn {

// One stream's part of an append, borrowing the caller's events.
struct CommitPart {
  std::string_view stream;
  ExpectedRevision expected = ExpectedRevision::Any();
  std::span<const EventData> events;
  bool tombstone = false;  // the one event gets revision StreamRevision::kTombstone
};

// One queued append call (single- or multi-stream) or a checkpoint barrier.
struct CommitWriter {
  std::vector<CommitPart> appends;
  std::vector<AppendResult> results;
  Status status;
  bool checkpoint = false;
  bool roll = false;  // checkpoint barrier that also closes the active segment
  bool trim = false;  // checkpoint barrier that also cuts the log's reserved space
  Status trim_status;
  uint64_t checkpoint_target = 0;  // barrier: positions below it must get indexed
  // Engine-made appends to system streams ("$$<stream>" metadata,
  // tombstones): '$' names allowed; committed in a batch of their own so
  // no other append of the batch validates against stale metadata.
  bool system = false;
  // An asynchronous append owns its arguments (appends view them) and is
  // completed through `done` by the commit thread, then deleted.
  struct Owned {
    std::vector<StreamAppend> appends;
    Store::AppendMultiCallback done;
    uint64_t bytes = 0;  // counted against max_queued_bytes
  };
  std::unique_ptr<Owned> owned;
  // Store::Restore (with `system` set): its events, borrowed from the
  // caller, and what came of them (restore.cc).
  std::span<const RestoreEvent> restore;
  RestoreResult restored;
  size_t failed_event = SIZE_MAX;  // the event a failed restore blames
  // A blocking writer's wake-up generation: the queue's takes when it was
  // queued. It sleeps on the futex word of its generation.
  uint64_t gen = 0;
  // Set (release) by whoever committed it, after status and results; the
  // queued thread may return and destroy the writer as soon as it sees it.
  std::atomic<bool> done{false};
};

class CommitQueue {
 public:
  // What a leader does with a batch it took.
  class Committer {
   public:
    virtual ~Committer() = default;
    // Commits `batch`, setting each writer's status (and results). A
    // checkpoint barrier or a system append comes alone. `failed` is the
    // sticky failure (SetFailed) as of the take; OK when there is none.
    virtual void CommitBatch(std::span<CommitWriter* const> batch, Status failed) = 0;
  };

  // `committer` and `env` must outlive the queue; Drain before destroying
  // it once anything was queued.
  CommitQueue(Env* env, Committer* committer, uint64_t max_queued_bytes);
  ~CommitQueue();
  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Queues the blocking writer `w` and returns once it is committed or
  // failed (its status and results set), leading meanwhile if no one does.
  // kReentrantCall (nothing queued) from an append callback of this queue,
  // where it would wait for itself.
  Status Run(CommitWriter* w);
  // Queues the asynchronous writer `w` (w->owned set, its bytes counted):
  // waits while max_queued_bytes are queued (not in a callback of this
  // queue: it is always admitted), then returns; its callback runs on the
  // commit thread. kClosed (nothing queued) once Drain has begun.
  Status Enqueue(std::unique_ptr<CommitWriter> w);
  // Close: refuses new asynchronous appends, waits until every queued one
  // has completed, and stops and joins the commit thread and the waker.
  void Drain();

  // After a failed fsync: every later batch fails with `s` (sticky).
  void SetFailed(Status s);
  // The sticky failure; OK when there is none.
  Status failed();
  // kReentrantCall when called from an append callback of this queue (a
  // blocking queue operation there would wait for itself).
  Status CheckNotInCallback() const;

 private:
  // Blocking writers queued between two takes of the queue are usually
  // committed by the same batch, so they share one futex word and one
  // notify_all wakes them all (WakeDone), instead of one mutex, condition
  // variable and wake-up call each (which also preempted the leader once
  // per follower: BENCHMARKS.md "Blocking appends wake by generation"). A
  // word shared by writers of different batches (a batch cut by size or by
  // a barrier, or generations kDoneWords apart) only costs a spurious
  // wake-up: each writer re-checks its own `done`.
  static constexpr size_t kDoneWords = 64;
  // Blocks until `w` is committed (or failed) by a leader.
  void WaitDone(CommitWriter* w);
  // Marks `blocking` done and wakes their generations; none is touched after.
  void WakeDone(std::span<CommitWriter* const> blocking);
  // Leads the queue: commits batches until `self` (a blocking writer) is
  // done and the commit thread has taken over what is still queued, or,
  // for the commit thread (`self` null), until the queue is empty.
  void Lead(CommitWriter* self);
  // Passes leadership to the commit thread (starting it if needed); false
  // once Drain has stopped it, and the caller must go on leading.
  bool HandOverToCommitter();
  // Runs the callbacks of committed asynchronous appends (completions_, in
  // commit order) and deletes their writers.
  void RunCompletions();
  // The commit thread: leads whenever an asynchronous append is at the
  // front of an unled queue, or a blocking leader hands over a queue that
  // is still busy.
  void CommitLoop();
  // Starts the commit thread and the waker (async_mu_ held), once.
  void StartCommitThreadLocked();
  // The waker thread: wakes the blocking writers of the batches the commit
  // thread committed (WakeDone), so that it can go on to the next batch.
  void WakeLoop();

  Env* const env_;
  Committer* const committer_;
  const uint64_t max_queued_bytes_;

  std::mutex mu_;
  std::deque<CommitWriter*> queue_;  // guarded by mu_
  bool leader_active_ = false;       // guarded by mu_
  uint64_t takes_ = 0;               // guarded by mu_: batches taken so far
  Status failed_;                    // guarded by mu_; sticky after a failed fsync
  // Futex words blocking writers sleep on (CommitWriter::gen); bumped by WakeDone.
  std::array<std::atomic<uint32_t>, kDoneWords> done_words_{};

  std::mutex async_mu_;
  std::condition_variable commit_cv_;      // commit thread: a grant or stop
  std::condition_variable room_cv_;        // submitters: room below the bound / drained
  bool commit_lead_ = false;               // guarded by async_mu_: the commit thread leads
  bool commit_stop_ = false;               // guarded by async_mu_
  bool async_closing_ = false;             // guarded by async_mu_: Drain has begun
  uint64_t queued_async_bytes_ = 0;        // guarded by async_mu_
  uint64_t async_inflight_ = 0;            // guarded by async_mu_: calls not yet completed
  std::deque<CommitWriter*> completions_;  // guarded by async_mu_: committed, callback not run
  std::thread commit_thread_;              // guarded by async_mu_ (started once)
  std::thread waker_;                      // guarded by async_mu_ (started with commit_thread_)

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  std::vector<CommitWriter*> wakes_;  // guarded by wake_mu_: committed, not yet woken
  bool wake_stop_ = false;            // guarded by wake_mu_
};

// Whether the calling thread runs an append callback (of any store's
// queue). A thread-local flag, so it may be asked after a store is gone.
bool InAppendCallback();

}  // namespace cairn
