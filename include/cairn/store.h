#pragma once
// Store: an embedded event store kept in one directory.
//
// One process writes a store at a time (a second writer gets kLocked naming
// the holder's pid); other processes may open it read-only while it is being
// written and see each append once it is durable. A Store is thread-safe:
// many threads may append and read at once; reads never wait for an fsync.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/env.h"
#include "cairn/status.h"
#include "cairn/subscription.h"
#include "cairn/types.h"

namespace cairn {

enum class Durability : uint8_t {
  // An append is acknowledged only after fdatasync of its record. Default.
  kFsync,
  // Acknowledged once written to the OS: survives kill -9, NOT power loss.
  // For tests and benchmarks; every figure says which mode it used.
  kNoSyncUnsafe,
};

struct StoreOptions {
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

// Result of one stream's append.
struct AppendResult {
  std::string stream;
  // Last revision of the stream after the append; nullopt only for an
  // empty append to a stream that does not exist.
  std::optional<StreamRevision> revision;
  // Position of the last event written (or of the original events when
  // `duplicate`); for an empty append, the store's head position.
  Position position;
  // True when every event was already stored by an earlier append of events
  // with the same ids: nothing was written and the original result is
  // returned. Only ids are compared, as in KurrentDB: a retry with the same
  // ids and other data is a duplicate too, and its data is not stored.
  bool duplicate = false;
};

// One stream's part of a multi-stream append.
struct StreamAppend {
  std::string stream;
  ExpectedRevision expected = ExpectedRevision::Any();
  std::vector<EventData> events;
};

// One event for Store::Restore: an event of a backup, with what it had in
// the store it came from. Every optional left empty is chosen as an append
// would choose it.
struct RestoreEvent {
  std::string stream;  // also "$$<stream>" for its metadata (type "$metadata")
  // Its revision; nullopt: after the stream's last one (a "$streamDeleted"
  // event: StreamRevision::kTombstone, its only valid revision).
  std::optional<StreamRevision> revision;
  // The position wanted in $all: the event gets it unless the store's next
  // position is already past it (then the next position, and the event
  // counts in RestoreResult::moved). nullopt: the next position.
  std::optional<Position> position;
  std::optional<int64_t> created_ns;  // nullopt: the time of the restore
  EventData event;  // id nullopt: a new random id
  // With event.id: the id was the appender's, so it is indexed for retries
  // (RecordedEvent::caller_id); false for an id the engine had made.
  bool caller_id = true;
};

struct RestoreResult {
  uint64_t written = 0;     // events written
  uint64_t duplicates = 0;  // events already stored (below), skipped
  uint64_t moved = 0;       // events written at a later position than asked
  // Position of the last event written; nullopt when none was.
  std::optional<Position> last_position;
};

enum class Direction : uint8_t { kForwards, kBackwards };

struct ReadStreamOptions {
  Direction direction = Direction::kForwards;
  // First revision to return (inclusive). nullopt: the start when reading
  // forwards, the end when reading backwards.
  std::optional<StreamRevision> from;
  uint64_t max_count = UINT64_MAX;
};

struct ReadAllOptions {
  Direction direction = Direction::kForwards;
  // First position to return (inclusive). nullopt: start or end.
  std::optional<Position> from;
  // Counts events returned (those passing `filter`), not events scanned.
  uint64_t max_count = UINT64_MAX;
  // Only events passing this filter are returned (see subscription.h).
  EventFilter filter;
};

struct StreamInfo {
  std::string stream;
  StreamRevision last_revision;
  Position last_position;
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
  uint64_t events = 0;          // events in $all
  uint64_t streams = 0;         // distinct streams (exact when indexed)
  uint64_t log_bytes = 0;       // bytes of all log segments
  uint64_t segments = 0;
  uint64_t index_runs = 0;      // persisted index run files
  uint64_t index_bytes = 0;
  uint64_t memtable_entries = 0;
  uint64_t indexed_through = 0;  // positions < this are in persisted runs
  bool read_only = false;
  // Set when this handle's open cut a torn tail (a writer's open only; a
  // read-only open reads up to the writer's durable end and cuts nothing).
  std::optional<TailCut> open_cut;
};

// A stream's metadata: one JSON object per stream, kept as the events of
// the system stream "$$<stream>" (event type "$metadata"), so it is
// versioned like any stream. Recognized keys use KurrentDB's names:
//   "$maxCount" (events kept: the newest N), "$maxAge" (seconds since an
//   event was written), "$tb" (truncate before: revisions below it).
// Every other key is the application's and is kept as given. Retention is
// applied at read time to stream, category and event-type reads (not to
// $all, which shows every stored event until a scavenge removes it).
struct StreamMetadata {
  std::optional<uint64_t> max_count;
  std::optional<uint64_t> max_age_seconds;
  std::optional<uint64_t> truncate_before;
  // A JSON object holding every other key ("{}" when none).
  std::string custom = "{}";

  // The JSON document: custom keys plus the recognized ones.
  std::string ToJson() const;
  // kInvalidArgument naming the key: not an object, nested deeper than 100
  // levels, or a recognized key that is not a non-negative integer
  // ($maxCount must be at least 1).
  static Result<StreamMetadata> Parse(std::string_view json);
};

struct StreamMetadataResult {
  StreamMetadata metadata;
  // Revision of the metadata in "$$<stream>"; nullopt when never set.
  std::optional<StreamRevision> revision;
};

enum class StreamState : uint8_t { kLive, kSoftDeleted, kTombstoned };

struct ListStreamsOptions {
  // Only streams whose name starts with this. A prefix containing '-'
  // names a category and only walks that category's streams.
  std::string prefix;
  // Paging: streams created after this position (the `created` of the last
  // stream of the previous page). nullopt: from the first stream.
  std::optional<Position> after;
  uint64_t limit = 1000;
  // Include soft-deleted and tombstoned streams.
  bool include_deleted = true;
};

struct StreamSummary {
  std::string stream;
  Position created;              // position of its first event (the paging key)
  StreamRevision last_revision;  // StreamRevision::kTombstone when tombstoned
  Position last_position;
  uint64_t event_count = 0;      // events visible to reads (retention applied)
  StreamState state = StreamState::kLive;
};

struct ScavengeProgress {
  const char* phase = "";  // "rewrite", "index", "commit", "done"
  uint64_t segments_total = 0;  // closed segments considered
  uint64_t segments_done = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
};

struct ScavengeOptions {
  // Called after each segment and phase (from the scavenging thread).
  std::function<void(const ScavengeProgress&)> progress;
  // Tests only: called with the name of each step of the commit protocol
  // ("rewritten", "indexed", "intent", "segments", "manifest", "head",
  // "removed"); a non-OK
  // status stops the scavenge right there, files left as a crash would.
  std::function<Status(std::string_view step)> test_hook;
};

struct ScavengeReport {
  uint64_t log_bytes_before = 0, log_bytes_after = 0;
  uint64_t index_bytes_before = 0, index_bytes_after = 0;
  uint64_t segments_rewritten = 0;
  uint64_t records_removed = 0;
  uint64_t events_removed = 0;
  uint64_t events_scrubbed = 0;  // last events kept with data and metadata emptied
  uint64_t bytes_read = 0, bytes_written = 0;
  int64_t duration_ns = 0;
};

// What Store::Backup made.
struct BackupReport {
  // The copy holds every event of the store below this position, exactly as
  // stored, and nothing else: the store's durable head when the copy was
  // taken. Its HeadPosition() says the same.
  Position head;
  uint64_t events = 0;           // events in the copy: its CountAll()
  uint64_t segments_linked = 0;  // closed log segments hard-linked
  // Log segments copied: the one the head ends in (up to the head), and
  // closed ones when the file system could not link them.
  uint64_t segments_copied = 0;
  uint64_t files_linked = 0;  // every file hard-linked: segments and index runs
  // Bytes the copy got by copying rather than linking: copied segments,
  // positions.idx, index runs that could not be linked, MANIFEST and HEAD.
  uint64_t bytes_copied = 0;
  // Tries it took: more than 1 when a scavenge of the writer swapped files,
  // or a merge removed index runs, during a try, which was thrown away.
  int attempts = 0;
};

// One problem found by Verify: which file, at which offset, what is wrong.
struct VerifyProblem {
  std::string file;
  uint64_t offset = 0;
  std::string what;
};

struct VerifyReport {
  uint64_t records_checked = 0;
  uint64_t events_checked = 0;
  uint64_t index_entries_checked = 0;
  std::vector<VerifyProblem> problems;
};

// Called with events in read order; return false to stop early.
using EventVisitor = std::function<bool(const EventView&)>;

class Store {
 public:
  virtual ~Store() = default;

  // Opens (or creates) the store in `dir`. Fails with kLocked when another
  // process writes it, kNotFound when missing and !create_if_missing,
  // kCorruption when its files are damaged beyond a torn tail.
  static Result<std::unique_ptr<Store>> Open(const std::string& dir,
                                             const StoreOptions& options = {});

  // Appends `events` to `stream` if `expected` holds. All events become
  // visible together or not at all. On success the events are durable (per
  // options.durability). Errors: kWrongExpectedRevision (with conflict()),
  // kInvalidArgument (limits, empty type, bad name), kIdempotencyConflict,
  // kIOError/kNoSpace (nothing acknowledged), kReadOnly, kFailedPrecondition.
  virtual Result<AppendResult> Append(std::string_view stream, ExpectedRevision expected,
                                      std::span<const EventData> events) = 0;

  // Appends to several streams atomically: every expectation must hold and
  // all events are written in one record, or nothing is. Results are in the
  // order of `appends`. A stream may appear at most once.
  virtual Result<std::vector<AppendResult>> AppendMulti(
      std::span<const StreamAppend> appends) = 0;

  // Asynchronous appends: the same checks, atomicity and durability as
  // Append / AppendMulti, without a thread waiting per call. The call takes
  // its arguments over and returns at once; the engine's commit thread
  // groups queued appends (one write and one fdatasync per group) and then
  // calls `done` exactly once with what Append would have returned.
  // Appends submitted one after another by the same thread commit in that
  // order, and callbacks run in commit order, one at a time, always on the
  // engine's commit thread. `done` must be quick (it holds up every other
  // completion) and must not throw (that ends the process); it may submit
  // further asynchronous appends and read, but a blocking Append,
  // AppendMulti, metadata write, delete, Checkpoint or Close called from it
  // fails with kFailedPrecondition (it would wait for itself), and the
  // Store must not be destroyed from it (that aborts).
  // Errors found before queueing (closed or read-only store, invalid
  // arguments) are returned and `done` is never called. When more than
  // StoreOptions::max_queued_append_bytes wait for their commit, the call
  // waits for room (never inside `done`, which is always admitted). Close
  // completes every queued append before it returns.
  using AppendCallback = std::function<void(Result<AppendResult>)>;
  using AppendMultiCallback = std::function<void(Result<std::vector<AppendResult>>)>;
  virtual Status AppendAsync(std::string stream, ExpectedRevision expected,
                             std::vector<EventData> events, AppendCallback done) = 0;
  virtual Status AppendMultiAsync(std::vector<StreamAppend> appends,
                                  AppendMultiCallback done) = 0;

  // Writes events of a backup (cairn import) with their revisions, positions
  // and creation times, so that restoring into an empty store gives back
  // the same store: a gap below a revision stays a gap, a position skipped
  // stays a hole (docs/format/log.md, "Holes"), "$$<stream>" metadata and
  // "$streamDeleted" tombstones come back as the events they were. Events
  // must come in $all order. An event is a duplicate, skipped and counted,
  // when its stream already holds it: the same id at its revision, or, with
  // no revision given, its caller id anywhere in the stream (a re-run of an
  // interrupted restore). Otherwise its revision must be above the stream's
  // last one. All events become visible together, or none; they are written
  // with one write and one fdatasync, in several records when their creation
  // times differ, so a crash keeps a prefix of those records.
  // Errors (nothing written): kInvalidArgument (a bad name, type, size or
  // metadata as for Append; a revision not above the stream's last one; a
  // position below an earlier event's; "$"-types other than "$metadata" in
  // "$$<stream>" and "$streamDeleted" at the tombstone revision),
  // kStreamDeleted (a tombstoned stream), kIOError/kNoSpace, kReadOnly. For
  // an error caused by one event, *failed_event (when given) is its index
  // in `events`, else SIZE_MAX. Use from one thread while nothing else
  // appends, as a restore does: another writer's appends may move positions.
  virtual Result<RestoreResult> Restore(std::span<const RestoreEvent> events,
                                        size_t* failed_event = nullptr) = 0;

  // Reads a stream. kNotFound when the stream has no events. The read is a
  // consistent snapshot: it never shows half of an append.
  virtual Status ReadStream(std::string_view stream, const ReadStreamOptions& options,
                            const EventVisitor& visit) = 0;
  Result<std::vector<RecordedEvent>> ReadStream(std::string_view stream,
                                                const ReadStreamOptions& options);

  // Reads $all, a consistent snapshot. An empty store yields no events.
  virtual Status ReadAll(const ReadAllOptions& options, const EventVisitor& visit) = 0;
  Result<std::vector<RecordedEvent>> ReadAll(const ReadAllOptions& options);

  // Events of a category (streams named "<category>-..."; kInvalidArgument
  // for an empty category or one containing '-') or of an event type, in
  // $all order, through the engine's category/type index: the cost grows
  // with the events returned, not with the size of $all. `options` as for
  // ReadAll (from is a position; the filter narrows further).
  virtual Status ReadCategory(std::string_view category, const ReadAllOptions& options,
                              const EventVisitor& visit) = 0;
  Result<std::vector<RecordedEvent>> ReadCategory(std::string_view category,
                                                  const ReadAllOptions& options);
  virtual Status ReadEventType(std::string_view type, const ReadAllOptions& options,
                               const EventVisitor& visit) = 0;
  Result<std::vector<RecordedEvent>> ReadEventType(std::string_view type,
                                                   const ReadAllOptions& options);

  // A catch-up subscription (see subscription.h): history from
  // options.after (or the end), then live. kInvalidArgument for a bad
  // filter or an empty name where one is needed.
  virtual Result<std::unique_ptr<Subscription>> Subscribe(const SubscribeOptions& options) = 0;
  // The same subscription with its messages pushed to `handlers` by the
  // store's dispatcher threads (see PushSubscription in subscription.h).
  // kInvalidArgument as for Subscribe, or when on_message is empty. The
  // returned handle may outlive Close (Close ends every push subscription).
  virtual Result<std::unique_ptr<PushSubscription>> SubscribePush(const SubscribeOptions& options,
                                                                  PushHandlers handlers) = 0;

  // The stream's metadata (defaults and revision nullopt when never set).
  // kStreamDeleted for a tombstoned stream.
  virtual Result<StreamMetadataResult> GetStreamMetadata(std::string_view stream) = 0;
  // Writes the stream's metadata if `expected` holds for the metadata's own
  // revision (NoStream when never set). Takes effect for reads at once.
  // Returns the append to "$$<stream>".
  virtual Result<AppendResult> SetStreamMetadata(std::string_view stream,
                                                 ExpectedRevision expected,
                                                 const StreamMetadata& metadata) = 0;
  // Soft delete: if `expected` holds for the stream, its events become
  // invisible (reads say kNotFound; metadata "$tb" is set past the last
  // revision, other metadata is kept). Appending with NoStream or Any
  // recreates it; revisions continue after the old last one. kNotFound when
  // the stream does not exist. Returns the metadata append.
  virtual Result<AppendResult> DeleteStream(std::string_view stream, ExpectedRevision expected) = 0;
  // Hard delete: if `expected` holds, appends a tombstone ("$streamDeleted",
  // revision StreamRevision::kTombstone). From then on reads, appends and
  // metadata writes of the stream fail with kStreamDeleted, forever.
  virtual Result<AppendResult> TombstoneStream(std::string_view stream,
                                               ExpectedRevision expected) = 0;

  // Streams in creation order (see ListStreamsOptions): the position of a
  // stream's first stored event (its tombstone, for a stream tombstoned
  // without ever holding an event).
  virtual Result<std::vector<StreamSummary>> ListStreams(const ListStreamsOptions& options) = 0;
  // Events stored in $all (every event, system events included).
  virtual Result<uint64_t> CountAll() = 0;
  // Events of a stream visible to reads; kNotFound / kStreamDeleted as for
  // ReadStream.
  virtual Result<uint64_t> CountStream(std::string_view stream) = 0;
  // Events of a category visible to reads (through the category index).
  virtual Result<uint64_t> CountCategory(std::string_view category) = 0;

  // Last revision and position of a stream; kNotFound when absent or soft
  // deleted, kStreamDeleted when tombstoned.
  virtual Result<StreamInfo> GetStreamInfo(std::string_view stream) = 0;

  // The event of `stream` whose caller-supplied id is `id` (through the
  // event-id index, at any revision: what a retry finds), or nullopt. Ids
  // the engine generated are not indexed. Retention does not hide the event
  // (it is stored); a scavenge removes it. kStreamDeleted when tombstoned.
  virtual Result<std::optional<RecordedEvent>> FindEvent(std::string_view stream,
                                                         const Uuid& id) = 0;

  // Number of events visible in $all (the next position to be assigned).
  // A read-only handle first catches up with its writer and returns what
  // stops it (a scavenge it could not adopt, damaged index files) rather
  // than a stale head. kFailedPrecondition "store is closed" after Close.
  virtual Result<Position> HeadPosition() = 0;

  virtual Result<StoreStats> Stats() = 0;

  // Removes from the log what reads can no longer show: events of
  // tombstoned streams (the tombstone stays), of soft-deleted streams,
  // before "$tb", beyond "$maxCount" or "$maxAge", and superseded metadata,
  // as decided at the scavenge's start. The last event of a stream is kept
  // with its data and metadata emptied, so its revision (which appends
  // continue from) survives. Closed segments are rewritten, the index is
  // rebuilt for them and everything is swapped in atomically (a crash at
  // any point leaves the old or the new store). Appends, reads and
  // subscriptions go on meanwhile; only the final swap pauses them briefly.
  // Surviving events keep their positions and revisions. One at a time:
  // kFailedPrecondition while another runs. A Close that begins before the
  // scavenge's commit point stops it (kFailedPrecondition "scavenge
  // stopped: the store is closing; nothing was changed"); after it, Close
  // waits for the swap to finish. A read-only process that has
  // the store open goes on reading the files it mapped, then adopts the
  // rewritten ones when it next looks at the manifest (docs/format/index.md,
  // "Read-only processes and a scavenge").
  virtual Result<ScavengeReport> Scavenge(const ScavengeOptions& options = {}) = 0;

  // Copies the store into `dest` while it stays in use, as of its durable
  // head when the copy is taken (BackupReport::head): every event below it,
  // exactly as stored (positions, revisions, ids, creation times, holes,
  // metadata, tombstones), and nothing else. The copy is a store of its
  // own: it opens read-only or for writing (docs/operations.md, "Backup and
  // restore"), and appends, checkpoints and scavenges of either store never
  // change the other.
  // Works from any handle, read-only ones included, and beside the store's
  // writer, in this process or another: it reads only what the writer keeps
  // on disk for read-only processes (HEAD, MANIFEST; docs/format/index.md),
  // so appends neither wait for it nor make it wait. Closed log segments
  // and index runs, which nothing writes again, are hard-linked (copied
  // when `dest` is on another file system); the segment the head ends in
  // and positions.idx are copied up to the head. A scavenge swapping files
  // meanwhile, or a merge removing runs, makes it start over (bounded).
  // Everything written to `dest` is fsynced, with its directories; `log/`
  // gets its name last, so a crash leaves no store in `dest` (only files to
  // delete). Linked files are as durable as the store made them.
  // `dest` must not exist (its parent directories are created) or be an
  // empty directory. On failure nothing is left in `dest`: what the call
  // created there is removed (an empty directory given stays).
  // Errors: kInvalidArgument (`dest` exists and is not an empty directory,
  // or is empty), kFailedPrecondition (a scavenge kept swapping files, or
  // one was interrupted by a crash and waits for a writer's open to finish
  // it; the writer kept changing files through every try; or the store is
  // closed), kCorruption (the store's HEAD, MANIFEST or log tail is
  // damaged), kIOError / kNoSpace.
  virtual Result<BackupReport> Backup(const std::string& dest) = 0;

  // Checks every record checksum and every index entry against the log.
  // Returns OK with problems listed in `report`; an error only when the check
  // itself could not run.
  virtual Status Verify(VerifyReport* report) = 0;

  // Persists the in-memory index so the next open re-reads no log. Called
  // by Close. Not available read-only.
  virtual Status Checkpoint() = 0;

  // Checkpoints and releases the lock. Idempotent. Safe while other threads
  // use the store: calls already in flight finish first (Close waits for
  // them, a read's visitor included, and for queued asynchronous appends);
  // calls that start once Close has begun fail with kFailedPrecondition
  // "store is closed", and subscriptions end with that error (push ones
  // deliver nothing more from when Close begins). A second Close racing
  // the first waits until the store is closed.
  // kFailedPrecondition when called from inside a call of the same store
  // (a visitor, an append callback or a push handler), which it would wait
  // for. Destroying the store while another thread still uses it is not
  // allowed (Close first).
  virtual Status Close() = 0;
};

}  // namespace cairn
