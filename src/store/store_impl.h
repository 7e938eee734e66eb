#pragma once
// StoreImpl: the native engine behind cairn::NativeStore.
//
// Pieces: the Log (segment files of commit records), the PositionIndex
// ($all position -> record), and the stream index (a mutable memtable,
// frozen memtables awaiting their flush, and immutable run files).
//
// Appends go through a leader/follower queue (group commit, CommitQueue):
// one thread at a time leads (the first writer to find the queue unled;
// while the queue stays busy, the commit thread). The leader validates a batch of queued
// appends against the index, assigns revisions and positions (the single
// sequencer), writes one buffer, fdatasyncs once, indexes the batch and only
// then publishes `visible_`. Readers take `visible_` as their snapshot and
// never wait for I/O of the writer; they hold index_mu_ shared only while
// copying index entries.
//
// Lock order: A -> B when B may be taken while A is held; never the other
// way. Outermost first (edges may skip levels, e.g. scavenge_mu_ ->
// CommitQueue::mu_ through DoCheckpoint):
//   PushHub::State::run_mu -> scavenge_mu_ (try_lock) -> compact_mu_
//     -> checkpoint_mu_ -> swap_mu_ -> index_mu_
//     -> {PositionIndex::mu_, Log::segments_mu_}
//   run_mu -> Recovery::refresh_mu_ (read-only processes) -> swap_mu_
//     (exclusive: AdoptScavenge)
//   swap_mu_ -> {CommitQueue::mu_, IndexMaintenance::mu_, head_mu_} (a
//     commit batch), ops_mu_ (~Op in a visitor); a nested read only
//     try_locks refresh_mu_ under it
//   run_mu -> PushHub::life_mu_ -> {PushHub::Dispatcher::mu, head_mu_}
// Visitors (swap_mu_ shared) and push handlers (run_mu) may call the store:
// what a call takes then follows those two, within the limits below.
//
// Leaf locks (never held while taking another): ops_mu_,
// CommitQueue::{mu_, async_mu_, wake_mu_}, IndexMaintenance::mu_, head_mu_,
// push_mu_, Follower::mu_ (Stop joins the follower under it),
// Dispatcher::mu, PositionIndex::mu_, Log::segments_mu_. swap_mu_ is held
// shared (SwapReadLock) by reads and commit batches, exclusively only by
// scavenge's swap and a reader's AdoptScavenge. Condition-variable waits
// release their own mutex: ops_cv_, CommitQueue's commit_cv_ / room_cv_
// (async_mu_) and wake_cv_, IndexMaintenance's flush_cv_ / compact_cv_ /
// flush_done_cv_ (its mu_), head_cv_, Dispatcher::stop_cv.
//
// Waiting counts as holding: DoCheckpoint and CommitBatch's backpressure
// (IndexMaintenance::WaitForRoom) wait for the flusher, which takes
// checkpoint_mu_ (and so does a writer queued behind such a leader); Cancel
// waits for a run_mu. So a thread holding swap_mu_ (a visitor) must not
// checkpoint, append, restore, scavenge or cancel a push subscription of
// its store: that can deadlock with a scavenge's swap (or a read-only
// process's adoption of one).
//
// User code: read visitors run with swap_mu_ shared (plus whatever their
// caller holds); push handlers with their run_mu; ScavengeOptions::progress
// with scavenge_mu_ and compact_mu_, its test_hook with those and, from
// "intent" to "removed", also checkpoint_mu_ and swap_mu_ exclusive; append callbacks with no lock
// (CommitQueue::RunCompletions). No other mutex is ever held while user
// code runs.
//
// Threads: callers (appends, reads), the flusher (memtable -> run files and
// MANIFEST) and the compactor (merges runs without holding checkpoint_mu_
// during the merge itself) of IndexMaintenance, CommitQueue's commit thread (leads for asynchronous
// appends and takes over a busy queue from blocking leaders; started by
// the first of either, with the waker, which wakes the blocking writers of
// the commit thread's batches), push dispatchers (push.cc) and, in a
// read-only process with subscriptions, the follower (follower.h). All are
// started through Env::StartThread and joined by Close.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "cairn/native.h"
#include "src/index/index_run.h"
#include "src/index/manifest.h"
#include "src/index/memtable.h"
#include "src/index/position_index.h"
#include "src/log/log.h"
#include "src/store/commit_queue.h"
#include "src/store/feed.h"
#include "src/store/head.h"
#include "src/store/index_maintenance.h"
#include "src/store/index_state.h"
#include "src/store/recovery.h"

namespace cairn {

// Holds a store's swap mutex shared for one read and counts, per thread, the
// read locks the thread holds. A read-only process adopts its writer's
// scavenge under the mutex held exclusively; a thread already inside a read
// (a visitor calling another read of the same store) must never wait for
// that, so it asks Held() first. Waiting in a visitor for another thread's
// read of the same store can still deadlock with an adoption (or, in the
// writer, a scavenge's swap): visitors must not do that.
class SwapReadLock {
 public:
  explicit SwapReadLock(std::shared_mutex& mu);
  ~SwapReadLock();
  SwapReadLock(const SwapReadLock&) = delete;
  SwapReadLock& operator=(const SwapReadLock&) = delete;
  void unlock();
  // Whether this thread holds `mu` through a SwapReadLock.
  static bool Held(const std::shared_mutex& mu);

 private:
  std::shared_lock<std::shared_mutex> lock_;
};

// The Feed (feed.h) is private: only the engine's own subscriptions, which
// StoreImpl hands `this` as their Feed, read through it (feed.cc).
class StoreImpl final : public NativeStore,
                        private Feed,
                        private CommitQueue::Committer,
                        private IndexMaintenance::Worker {
 public:
  static Result<std::unique_ptr<NativeStore>> Open(const std::string& dir,
                                                   const NativeOptions& options);
  ~StoreImpl() override;

  Result<AppendResult> Append(std::string_view stream, ExpectedRevision expected,
                              std::span<const EventData> events) override;
  Result<std::vector<AppendResult>> AppendMulti(std::span<const StreamAppend> appends) override;
  Status ReadStream(std::string_view stream, const ReadStreamOptions& options,
                    const EventVisitor& visit) override;
  Status ReadAll(const ReadAllOptions& options, const EventVisitor& visit) override;
  Status ReadCategory(std::string_view category, const ReadAllOptions& options,
                      const EventVisitor& visit) override;
  Status ReadEventType(std::string_view type, const ReadAllOptions& options,
                       const EventVisitor& visit) override;
  Status AppendAsync(std::string stream, ExpectedRevision expected, std::vector<EventData> events,
                     AppendCallback done) override;
  Status AppendMultiAsync(std::vector<StreamAppend> appends, AppendMultiCallback done) override;
  Result<AppendResult> AppendSystem(std::string_view stream, ExpectedRevision expected,
                                    std::span<const EventData> events) override;  // metadata.cc
  Result<RestoreResult> Restore(std::span<const RestoreEvent> events,
                                size_t* failed_event) override;
  Result<std::unique_ptr<Subscription>> Subscribe(const SubscribeOptions& options) override;
  Result<std::unique_ptr<PushSubscription>> SubscribePush(const SubscribeOptions& options,
                                                          PushHandlers handlers) override;
  Result<StreamInfo> GetStreamInfo(std::string_view stream) override;
  Result<std::optional<RecordedEvent>> FindEvent(std::string_view stream, const Uuid& id) override;
  Result<StreamMetadataResult> GetStreamMetadata(std::string_view stream) override;
  Result<AppendResult> SetStreamMetadata(std::string_view stream, ExpectedRevision expected,
                                         const StreamMetadata& metadata) override;
  Result<AppendResult> DeleteStream(std::string_view stream, ExpectedRevision expected) override;
  Result<AppendResult> TombstoneStream(std::string_view stream, ExpectedRevision expected) override;
  Result<std::vector<StreamSummary>> ListStreams(const ListStreamsOptions& options) override;
  Result<uint64_t> Count(const CountOf& what) override;  // catalog.cc
  Result<Position> HeadPosition() override;
  Result<StoreStats> Stats() override;
  Status Verify(VerifyReport* report) override;
  Result<ScavengeReport> Scavenge(const ScavengeOptions& options) override;
  Result<BackupReport> Backup(const std::string& dest) override;  // backup.cc
  Status Checkpoint() override;
  Status Close() override;

  // $all in order for reads and subscriptions (read.cc): visits every
  // event at positions [from, snapshot); visit returns false to stop.
  Status ScanAll(uint64_t from, uint64_t snapshot, const EventVisitor& visit);
  // Visits every event at positions `from` down to 0, newest first.
  Status ScanAllBackwards(uint64_t from, const EventVisitor& visit);
  // Close has begun (or ended): new calls are refused.
  bool closed() const { return closing_.load() || closed_.load(); }

  // One call into the store in flight (every public call but Close, and a
  // subscription's read). Close refuses new ones from when it begins, wakes
  // the waiting ones and waits until none is left before it releases the
  // log and the index: a call racing Close completes, or fails with
  // kClosed "store is closed"; it never touches freed state.
  // Subscriptions hold one while they read, never while they wait.
  class Op {
   public:
    explicit Op(StoreImpl* store);
    ~Op();
    Op(const Op&) = delete;
    Op& operator=(const Op&) = delete;
    const Status& status() const { return status_; }

   private:
    StoreImpl* store_;
    Status status_;
  };
  // What every public read does first: counts as a call in flight (Op:
  // Close waits for it), brings a read-only process up to its writer's
  // durable end (Recovery::Refresh), holds swap_mu_ shared so no scavenge
  // swaps files under it, and takes the visible head as its snapshot.
  // status() is the first of these that failed; nothing else may be used
  // then.
  class ReadScope {
   public:
    explicit ReadScope(StoreImpl* store);
    ReadScope(const ReadScope&) = delete;
    ReadScope& operator=(const ReadScope&) = delete;
    const Status& status() const { return status_; }
    // Positions below it are visible to this read.
    uint64_t snapshot() const { return snapshot_; }

   private:
    Op op_;
    Status status_;
    std::optional<SwapReadLock> swap_;
    uint64_t snapshot_ = 0;
  };
  // Events carrying `tag` (CategoryTag / TypeTag) at positions [from,
  // snapshot) forwards, or (from down to 0] backwards, in $all order, through
  // the tag index (a filtered scan of $all while the index is not built, in
  // a read-only process opening a store whose writer has not built it).
  // Applies `matcher` too; visit returns false to stop.
  Status ReadTagged(const std::string& tag, bool forwards, uint64_t from, uint64_t snapshot,
                    const class EventMatcher* matcher, const EventVisitor& visit);
  // ReadCategory / ReadEventType after their argument checks.
  Status ReadByTag(const std::string& tag, const ReadAllOptions& options,
                   const EventVisitor& visit);
  // A record a read has decoded: lookups that land in it reuse its views.
  struct DecodedRecord {
    uint64_t address = UINT64_MAX;
    const std::vector<EventView>* events = nullptr;
  };
  // ReadTagged without stream retention. `*current`, when given, names the
  // record holding the event being visited.
  Status ReadTaggedRaw(const std::string& tag, bool forwards, uint64_t from, uint64_t snapshot,
                       const class EventMatcher* matcher, const EventVisitor& visit,
                       DecodedRecord* current = nullptr);

 private:
  // Feed (feed.cc).
  Store* store() override { return this; }
  Env* env() override { return env_; }
  Result<uint64_t> CurrentHead() override;
  uint64_t VisibleHead() const override { return visible_.load(std::memory_order_acquire); }
  Status ScanRange(uint64_t from, uint64_t to, const EventVisitor& visit) override;
  Status ScanTaggedRange(const std::string& tag, uint64_t from, uint64_t to,
                         const EventMatcher& matcher, const EventVisitor& visit) override;
  void WaitPast(uint64_t head, int64_t deadline_ns, const std::atomic<bool>* cancelled) override;
  void WakeWaiters() override;
  bool closing() const override { return closed(); }
  Status Follow() override;

  friend class Scavenger;  // one run of Scavenge, step by step (scavenger.h)
  friend class Recovery;   // open, and a read-only process following its writer (recovery.h)

  // Count's three cases (catalog.cc).
  Result<uint64_t> CountAll();
  Result<uint64_t> CountStream(std::string_view stream);
  Result<uint64_t> CountCategory(std::string_view category);

  // The queue's items (commit_queue.h).
  using Part = CommitPart;
  using Writer = CommitWriter;
  // What the batch being built knows of a stream beyond the index.
  struct Pending {
    std::optional<uint64_t> last_revision;  // state before/within the batch
    uint64_t last_position = 0;
    uint64_t first_pending_revision = 0;         // first revision appended in batch
    std::vector<std::pair<Uuid, uint64_t>> ids;  // (id, position) appended in batch
  };
  // An event of the batch being committed, for the memtable.
  struct NewEntry {
    std::string_view stream;
    index::StreamEntry e;
    std::string_view type;  // the caller's event type (for the tag index)
    uint64_t id_key = 0;
    bool index_id = false;  // the caller supplied the id: index it for retries
    bool creates = false;   // its stream's first stored event (creation tags)
  };
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using PendingMap = std::unordered_map<std::string, Pending, NameHash, std::equal_to<>>;
  using Frozen = FrozenMemtable;
  // A located last event of a stream.
  struct Last {
    uint64_t revision = 0;
    uint64_t position = 0;
  };

  StoreImpl(std::string dir, const NativeOptions& options, Env* env);
  // `roll`: close the active log segment first (scavenge).
  // `trim` (Close): the barrier also cuts the log's reserved space, in the
  // commit queue where no append can write meanwhile; its result goes there.
  Status DoCheckpoint(bool roll = false, Status* trim = nullptr);
  // Finishes a scavenge whose intent file survived a crash (writer open).
  Status FinishInterruptedScavenge();
  // Writer: builds the whole tag index from the indexed part of the log
  // (a version 1 store, or a tag run file that was deleted) and installs it
  // in *m and the MANIFEST.
  Status BuildTagIndex(index::Manifest* m);
  // The tags of one event (docs/format/index.md): type, category, and the
  // creation tags when it `creates` its stream (its first stored event).
  static void AddTags(index::Memtable* table, std::string_view stream, std::string_view type,
                      const index::StreamEntry& e, bool creates);
  // The same as (hash, position) entries, for building runs from the log.
  // `creation`: also the creation tags (CommitReader::last_creates_stream:
  // revision 0, or the event a scavenge marked first stored).
  static void TagEntries(std::string_view stream, std::string_view type, bool creation,
                         uint64_t position, uint64_t address, std::vector<index::IndexEntry>* out);
  // (revision, position) of the event of `stream` whose id is `id`, if any.
  Result<std::optional<Last>> FindById(std::string_view stream, const Uuid& id, uint64_t snapshot);
  // The first of `ids` (in order) stored in `stream` below `snapshot`: its
  // index in `ids` and where it is. One pass over the index for all of them.
  struct StoredEvent {
    size_t index = 0;
    Last at;
  };
  Result<std::optional<StoredEvent>> FirstStoredId(std::string_view stream,
                                                   std::span<const Uuid> ids, uint64_t snapshot);
  Status ValidateAppend(std::span<const Part> appends, bool system) const;
  // kInvalidArgument naming what is wrong with a stream name (reserved '$'
  // names allowed when `system`).
  Status CheckStreamName(std::string_view stream, bool system) const;
  // kInvalidArgument ("stream 'S' event K: ...") for an empty, long,
  // non-UTF-8 or reserved type, or an event over max_event_bytes.
  Status CheckEvent(std::string_view stream, size_t k, const EventData& e, bool system) const;
  // Restore's checks of one event that need no index (restore.cc).
  Status CheckRestoreEvent(const RestoreEvent& r, size_t k) const;
  // The restore writer's part of a batch (it goes alone): plans every
  // event against the index, then encodes its records. Changes nothing
  // unless every check passes.
  Status BuildRestore(Writer* w, uint64_t* next_position, std::string* buf,
                      std::vector<index::PositionEntry>* records, std::vector<NewEntry>* entries);
  // What reads may show of a stream (metadata retention, deletes).
  struct Retention {
    std::optional<uint64_t> last;  // last revision stored (tombstone included)
    uint64_t last_position = 0;
    bool tombstoned = false;
    bool soft_deleted = false;           // every stored revision is below "$tb"
    uint64_t first_visible = 0;          // "$tb", "$maxCount"
    int64_t min_created_ns = INT64_MIN;  // "$maxAge"
    bool Visible(uint64_t revision, int64_t created_ns) const {
      return !tombstoned && revision >= first_visible && created_ns >= min_created_ns;
    }
  };
  // True when `stream` certainly has no metadata stream and no tombstone
  // (memtables and Bloom filters say so; an index block is read only in a
  // run whose filter cannot rule it out): no retention applies and all its
  // events are visible. False means "look it up" (RetentionOf).
  bool PlainStream(std::string_view stream);
  // `decoded`: a record the caller holds (LastOf then need not decode it).
  Result<Retention> RetentionOf(std::string_view stream, uint64_t snapshot,
                                const DecodedRecord* decoded = nullptr);
  // kStreamDeleted when tombstoned, kNotFound when absent or soft deleted.
  static Status Readable(std::string_view stream, const Retention& r);
  // Events of `stream` that reads show under `r`.
  Result<uint64_t> VisibleCount(std::string_view stream, const Retention& r, uint64_t snapshot);
  Result<StreamMetadataResult> MetadataAt(std::string_view stream, uint64_t snapshot);
  // The index read behind ReadStream, without retention.
  Status ReadStreamRaw(std::string_view stream, const ReadStreamOptions& options, uint64_t snapshot,
                       const EventVisitor& visit);
  // Submits an engine-made append (Writer::system).
  Result<std::vector<AppendResult>> SubmitSystem(std::vector<Part> parts);
  // Validates, queues and waits for `w` (whose appends are set).
  Result<std::vector<AppendResult>> Submit(Writer* w);
  // kReentrantCall when called from an append callback of this store
  // (a blocking queue operation there would wait for itself).
  Status CheckNotInCallback() const { return commits_.CheckNotInCallback(); }
  // CommitQueue::Committer: a barrier (roll, trim, freeze for the
  // flusher), a batch failed by a sticky or log failure or by backpressure,
  // or ProcessBatch.
  void CommitBatch(std::span<Writer* const> batch, Status failed) override;

  void ProcessBatch(std::span<Writer* const> batch);
  Status BuildWriter(Writer* w, PendingMap* pending, uint64_t* next_position, std::string* buf,
                     std::vector<index::PositionEntry>* records, std::vector<NewEntry>* entries);
  Result<std::optional<Last>> LastOf(std::string_view stream, uint64_t snapshot,
                                     const DecodedRecord* decoded = nullptr);
  // (id, position) stored at revisions first, first+1, ... (at most n) of
  // `stream`, ending at the first revision a scavenge removed.
  Result<std::vector<std::pair<Uuid, uint64_t>>> StoredIds(std::string_view stream, uint64_t first,
                                                           size_t n);
  void Publish(uint64_t end_address, uint64_t next_position);
  void FreezeLocked(uint64_t end_address);
  // IndexMaintenance::Worker (checkpoint.cc): writes the oldest frozen
  // memtable as run files and a MANIFEST (a checkpoint).
  Status FlushOne() override;
  // Merges the newest index runs of each kind when they pile up
  // (size-tiered). Whether a merge was done.
  Result<bool> CompactOnce(const std::atomic<bool>* stop) override;
  Result<bool> CompactList(index::RunKind kind, const std::atomic<bool>* stop);
  Status DecodeRecord(uint64_t address, std::vector<EventView>* events) const;

  const std::string dir_;
  const NativeOptions options_;
  Env* const env_;
  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<WritableFile> head_;  // writer only: the HEAD hint file
  std::unique_ptr<log::Log> log_;
  index::PositionIndex positions_;
  std::atomic<uint64_t> visible_{0};         // positions < visible_ are readable
  std::atomic<uint64_t> log_generation_{0};  // writer: the manifest's, for HEAD
  std::atomic<bool> closed_{false};
  std::atomic<bool> closing_{false};  // Close has begun: calls are refused (Op)
  // Calls in flight (Op); Close waits on ops_cv_ (under ops_mu_) for zero,
  // and a second Close for close_done_ (set under ops_mu_ at its end).
  std::atomic<uint64_t> ops_{0};
  std::atomic<bool> close_done_{false};
  std::mutex ops_mu_;  // guards no field: orders ops_ / close_done_ with ops_cv_ (a leaf)
  std::condition_variable ops_cv_;
  // Whether this thread is inside a call of this store (a read's visitor).
  bool InOpOnThisThread() const;

  // Guards the stream index's in-memory state (index_): shared while a lookup copies entries,
  // exclusive to change them. Taken under swap_mu_ and checkpoint_mu_, never the other way.
  mutable std::shared_mutex index_mu_;
  IndexState index_;  // guarded by index_mu_

  // The group-commit queue: blocking and asynchronous appends, the commit
  // thread and the waker (commit_queue.h).
  CommitQueue commits_;
  std::string batch_buf_;                // used by the current leader only
  std::vector<NewEntry> batch_entries_;  // used by the current leader only

  // Held shared by every read and by each commit batch; held exclusively by
  // scavenge only while it swaps rewritten segments and index files in, so
  // no reader ever mixes old addresses with new files.
  mutable std::shared_mutex swap_mu_;
  std::mutex scavenge_mu_;  // one scavenge at a time
  std::mutex compact_mu_;   // held by a merge; scavenge holds it to pause merges

  // Held by a checkpoint (FlushOne), a merge's manifest reads and update, and scavenge while it
  // reads the manifest and commits: guards manifest_ (and the run ids it hands out).
  std::mutex checkpoint_mu_;
  index::Manifest manifest_;  // guarded by checkpoint_mu_; assigned by SetManifest only
  // Assigns manifest_ and the copies of its fields that Stats reads unlocked.
  void SetManifest(const index::Manifest& m);

  // The flusher and the compactor, backpressure and checkpoint waits
  // (index_maintenance.h); this store's index is their Worker.
  IndexMaintenance maintenance_;
  std::atomic<uint64_t> indexed_through_{0};  // manifest_.indexed_through, readable unlocked
  // Positions below visible_ that hold no event (docs/format/log.md,
  // "Holes"): the manifest's count plus those of the indexed log tail.
  std::atomic<uint64_t> holes_{0};

  // Subscriptions waiting for new events: head_waiters_ counts them so a
  // commit only takes head_mu_ when someone waits. head_mu_ guards no field:
  // it orders a waiter's check of visible_ with the wake-up; a leaf lock.
  std::mutex head_mu_;
  std::condition_variable head_cv_;
  std::atomic<int> head_waiters_{0};
  // Push subscriptions (src/store/push.cc): the dispatchers, started with
  // the first one; Close ends them (StopPush) before the log goes away.
  // push_mu_ guards push_ only (a leaf lock: the hub is stopped outside it).
  std::mutex push_mu_;
  std::shared_ptr<class PushHub> push_;  // guarded by push_mu_
  void StopPush();

  // The follower saw the writer change something: refreshes and wakes the
  // waiting subscriptions, if there are any (feed.cc).
  void OnWriterChanged();
  // Open, and a read-only process catching up with its writer. Declared
  // last: its Follower's thread uses the fields above (OnWriterChanged), so
  // it is destroyed, and that thread joined, first.
  Recovery recovery_;
};

}  // namespace cairn
