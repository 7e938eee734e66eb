#pragma once
// Store: an event store, whatever keeps it. The interface holds the logical
// operations only (append, read, subscribe, metadata and lifecycle, list,
// count); every backend implements all of them with the same meaning, so
// no caller knows which backend it has. Backend-specific things live apart:
// administration (admin.h: restore, scavenge, backup, verify) and the
// embedded engine's own knobs (native.h).
//
// Open one with OpenStore(url). A Store is thread-safe: many threads may
// append and read at once.
//
// Positions (types.h): every backend gives each event a Position strictly
// increasing in the order readers see commits; a reader never sees them
// reordered and never skips one it could have seen. Positions need not be
// contiguous (a PostgreSQL sequence or a KurrentDB log position has gaps):
// compare them, never count with them. The native engine's positions have
// no gaps except where events were removed or a restore left holes.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"
#include "cairn/store_types.h"
#include "cairn/subscription.h"
#include "cairn/types.h"

namespace cairn {

class Store {
 public:
  virtual ~Store() = default;

  // Appends `events` to `stream` if `expected` holds. All events become
  // visible together or not at all; on success they are durable (as the
  // backend defines it: fdatasync by default for the native engine).
  // Errors: kWrongExpectedRevision (with conflict()), kInvalidArgument
  // (limits, empty type, bad name), kIdempotencyConflict, kStreamDeleted,
  // kIOError/kNoSpace (nothing acknowledged), kReadOnly, kClosed,
  // kFailedPrecondition (writes refused after a failed fsync).
  virtual Result<AppendResult> Append(std::string_view stream, ExpectedRevision expected,
                                      std::span<const EventData> events) = 0;

  // Appends to several streams atomically: every expectation must hold and
  // all events are written, or nothing is. Results are in the order of
  // `appends`. A stream may appear at most once.
  virtual Result<std::vector<AppendResult>> AppendMulti(std::span<const StreamAppend> appends) = 0;

  // Asynchronous appends: the same checks, atomicity and durability as
  // Append / AppendMulti, without a thread waiting per call. The call takes
  // its arguments over and returns at once; `done` is called exactly once
  // with what Append would have returned. Appends submitted one after
  // another by the same thread commit in that order, and callbacks run in
  // commit order, one at a time, on a thread of the store's. `done` must be
  // quick and must not throw; it may submit further asynchronous appends
  // and read, but a blocking append, metadata write, delete or Close called
  // from it fails with kReentrantCall (it would wait for itself), and the
  // Store must not be destroyed from it. Errors found before queueing
  // (closed or read-only store, invalid arguments) are returned and `done`
  // is never called. Too many queued bytes make the call wait for room
  // (never inside `done`). Close completes every queued append first.
  using AppendCallback = std::function<void(Result<AppendResult>)>;
  using AppendMultiCallback = std::function<void(Result<std::vector<AppendResult>>)>;
  virtual Status AppendAsync(std::string stream, ExpectedRevision expected,
                             std::vector<EventData> events, AppendCallback done) = 0;
  virtual Status AppendMultiAsync(std::vector<StreamAppend> appends, AppendMultiCallback done) = 0;

  // Reads a stream. kNotFound when the stream has no visible events,
  // kStreamDeleted when tombstoned. A consistent snapshot: it never shows
  // half of an append.
  virtual Status ReadStream(std::string_view stream, const ReadStreamOptions& options,
                            const EventVisitor& visit) = 0;

  // Reads $all, a consistent snapshot. An empty store yields no events.
  virtual Status ReadAll(const ReadAllOptions& options, const EventVisitor& visit) = 0;

  // Events of a category (streams named "<category>-..."; kInvalidArgument
  // for an empty category or one containing '-') or of an event type, in
  // $all order; the cost grows with the events returned, not with the size
  // of $all. `options` as for ReadAll (from is a position; the filter
  // narrows further).
  virtual Status ReadCategory(std::string_view category, const ReadAllOptions& options,
                              const EventVisitor& visit) = 0;
  virtual Status ReadEventType(std::string_view type, const ReadAllOptions& options,
                               const EventVisitor& visit) = 0;

  // The same reads, collected (each event copied once).
  Result<std::vector<RecordedEvent>> ReadStream(std::string_view stream,
                                                const ReadStreamOptions& options);
  Result<std::vector<RecordedEvent>> ReadAll(const ReadAllOptions& options);
  Result<std::vector<RecordedEvent>> ReadCategory(std::string_view category,
                                                  const ReadAllOptions& options);
  Result<std::vector<RecordedEvent>> ReadEventType(std::string_view type,
                                                   const ReadAllOptions& options);

  // A catch-up subscription (see subscription.h): history from where
  // `options` starts, then live. kInvalidArgument for a bad filter, an
  // empty name where one is needed, or a start point of the wrong kind.
  virtual Result<std::unique_ptr<Subscription>> Subscribe(const SubscribeOptions& options) = 0;
  // The same subscription with its messages pushed to `handlers` by the
  // store's threads (see PushSubscription in subscription.h).
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
  virtual Result<AppendResult> SetStreamMetadata(std::string_view stream, ExpectedRevision expected,
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
  // Events of $all, a stream or a category (CountOf). For a stream,
  // kNotFound / kStreamDeleted as for ReadStream; kInvalidArgument for an
  // empty stream or an invalid category name.
  virtual Result<uint64_t> Count(const CountOf& what) = 0;

  // Last revision and position of a stream; kNotFound when absent or soft
  // deleted, kStreamDeleted when tombstoned.
  virtual Result<StreamInfo> GetStreamInfo(std::string_view stream) = 0;

  // The event of `stream` whose caller-supplied id is `id` (at any
  // revision: what a retry finds), or nullopt. Ids the store generated are
  // not found. Retention does not hide the event (it is stored); removing
  // it for good does. kStreamDeleted when tombstoned.
  virtual Result<std::optional<RecordedEvent>> FindEvent(std::string_view stream,
                                                         const Uuid& id) = 0;

  // The position after the last event visible in $all: every later event
  // gets a position at or above it. A read-only handle first catches up
  // with its writer and returns what stops it rather than a stale head.
  // kClosed after Close.
  virtual Result<Position> HeadPosition() = 0;

  // Finishes and releases the store. Idempotent. Safe while other threads
  // use it: calls in flight finish first (a read's visitor and queued
  // asynchronous appends included); calls that start once Close has begun
  // fail with kClosed "store is closed", and subscriptions end with that
  // error. A second Close racing the first waits until the store is
  // closed. kReentrantCall when called from inside a call of the same
  // store (a visitor, an append callback or a push handler), which it would
  // wait for. Destroying the store while another thread still uses it is
  // not allowed (Close first).
  virtual Status Close() = 0;
};

// Opens the store named by `url`, choosing its backend by the URL's scheme:
// a path or "file:///abs/path" is the native engine (native.h, with its
// default NativeOptions). Other schemes (#8: "postgresql://",
// "kurrentdb://") open when their backend library is linked and registered
// (backend.h). Errors: kInvalidArgument (a malformed URL), kUnimplemented
// (no backend for the scheme), or the backend's own open errors (kLocked,
// kNotFound when missing and !create_if_missing, kCorruption...).
Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const OpenOptions& options = {});

}  // namespace cairn
