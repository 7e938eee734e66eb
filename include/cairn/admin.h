#pragma once
// StoreAdmin: operations of a store's operator rather than its
// applications: restoring a backup, removing what reads no longer show,
// copying a running store, checking every byte. A backend offers what it
// can; the rest fails with kUnimplemented. The native engine offers all of
// them (native.h). Get it from any Store with AdminOf.
//
// Thread safety: as the Store the interface belongs to.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"
#include "cairn/store_types.h"
#include "cairn/types.h"

namespace cairn {

class Store;

// One event for StoreAdmin::Restore: an event of a backup, with what it had
// in the store it came from. Every optional left empty is chosen as an
// append would choose it.
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
  EventData event;                    // id nullopt: a new random id
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

struct ScavengeProgress {
  const char* phase = "";       // "rewrite", "index", "done"
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
  // "removed"); a non-OK status stops the scavenge right there, files left
  // as a crash would.
  std::function<Status(std::string_view step)> test_hook;
  // When set, and true at one of the scavenge's checks before its commit
  // point (after each segment and phase), the scavenge stops: kCancelled
  // "scavenge stopped: asked to stop; nothing was changed", its scratch
  // removed. After the commit point it completes. Must outlive the call.
  const std::atomic<bool>* stop = nullptr;
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

// What StoreAdmin::Backup made.
struct BackupReport {
  // The copy holds every event of the store below this position, exactly as
  // stored, and nothing else: the store's durable head when the copy was
  // taken. Its HeadPosition() says the same.
  Position head;
  uint64_t events = 0;           // events in the copy: its Count(CountOf::All())
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

class StoreAdmin {
 public:
  virtual ~StoreAdmin() = default;

  // Writes events of a backup (cairn import) with their revisions, positions
  // and creation times, so that restoring into an empty store gives back
  // the same store: a gap below a revision stays a gap, a position skipped
  // stays a hole (docs/format/log.md, "Holes"), "$$<stream>" metadata and
  // "$streamDeleted" tombstones come back as the events they were. Events
  // must come in $all order. An event is a duplicate, skipped and counted,
  // when its stream already holds it: the same id at its revision, or, with
  // no revision given, its caller id anywhere in the stream (a re-run of an
  // interrupted restore). Otherwise its revision must be above the stream's
  // last one. All events become visible together, or none; the native
  // engine writes them with one write and one fdatasync, in several records
  // when their creation times differ, so a crash keeps a prefix of those
  // records.
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

  // Appends to a system stream: a name starting with '$' but not "$$"
  // (metadata goes through Store::SetStreamMetadata), whose event types may
  // start with '$' too. For a server's own records (its users, its
  // settings), which applications cannot write through Store::Append.
  // Otherwise as Store::Append: the same checks, atomicity, durability and
  // errors; kInvalidArgument naming the stream when it does not start with
  // a single '$'.
  virtual Result<AppendResult> AppendSystem(std::string_view stream, ExpectedRevision expected,
                                            std::span<const EventData> events) = 0;

  // Removes from storage what reads can no longer show: events of
  // tombstoned streams (the tombstone stays), of soft-deleted streams,
  // before "$tb", beyond "$maxCount" or "$maxAge", and superseded metadata,
  // as decided at the scavenge's start. The last event of a stream is kept
  // with its data and metadata emptied, so its revision (which appends
  // continue from) survives. Surviving events keep their positions and
  // revisions; a crash at any point leaves the old or the new store.
  // Appends, reads and subscriptions go on meanwhile. One at a time: kBusy
  // while another runs; kReentrantCall from a read's visitor of the same
  // store (its swap would wait for that read). A Close that begins before the scavenge's commit
  // point stops it (kClosed "scavenge stopped: the store is closing;
  // nothing was changed"); after it, Close waits for the swap to finish.
  // The native engine's protocol: docs/format/index.md, "Scavenge".
  virtual Result<ScavengeReport> Scavenge(const ScavengeOptions& options = {}) = 0;

  // Copies the store into `dest` while it stays in use, as of its durable
  // head when the copy is taken (BackupReport::head): every event below it,
  // exactly as stored (positions, revisions, ids, creation times, holes,
  // metadata, tombstones), and nothing else. The copy is a store of its
  // own (docs/operations.md, "Backup and restore"). The native engine
  // works from any handle, read-only ones included, beside the store's
  // writer in this process or another, without making appends wait: closed
  // log segments and index runs are hard-linked (copied across file
  // systems), the rest copied up to the head; everything written is
  // fsynced and `log/` gets its name last, so a crash leaves no store in
  // `dest`. `dest` must not exist (its parent directories are created) or
  // be an empty directory. On failure nothing is left in `dest`.
  // Errors: kInvalidArgument (`dest` exists and is not an empty directory,
  // or is empty), kBusy (a scavenge kept swapping files, or one was
  // interrupted by a crash and waits for a writer's open to finish it; the
  // writer kept changing files through every try), kClosed, kCorruption
  // (the store's HEAD, MANIFEST or log tail is damaged), kIOError /
  // kNoSpace.
  virtual Result<BackupReport> Backup(const std::string& dest) = 0;

  // Checks every record checksum and every index entry against the log.
  // Returns OK with problems listed in `report`; an error only when the check
  // itself could not run.
  virtual Status Verify(VerifyReport* report) = 0;
};

// The store's administration interface, or nullptr when its backend has
// none. The pointer lives as long as the store.
StoreAdmin* AdminOf(Store* store);

}  // namespace cairn
