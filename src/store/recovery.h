#pragma once
// Recovery: bringing a store's in-memory state up from its files, at open
// and, in a read-only process, again and again as its writer commits,
// checkpoints and scavenges. It owns what only that needs (where the log
// was indexed to, the reader's adoption state, the Follower thread that
// watches the writer) and works on the store's shared state (the log, the
// position index, IndexState, the MANIFEST copy, the visible head) as a
// friend of StoreImpl, the way Scavenger does.
//
// Open (Recover, writer or reader):
//   1. CheckDirectory: a store, the skeleton of one, or nothing to create
//      (directory.cc); another program's files are never touched.
//   2. writer: log/ and index/ created, LOCK taken, an interrupted
//      scavenge finished (its intent file rolls it forward); reader: an
//      intent file is kFailedPrecondition.
//   3. MANIFEST read; CheckLogFilesReach (before the log is opened: every
//      acknowledged record's file still there and long enough); log opened;
//      LoadRuns; positions.idx mapped; CheckLogReaches; orphan run and
//      .tmp files of a crash removed (writer); the tag index built if the
//      store has none (writer).
//   4. ReplayTail: the log past the manifest's checkpoint re-indexed into
//      the memtable; a torn last write cut (writer, CutTornTail) or ignored
//      (reader); damage with valid records after it, or below the durable
//      end HEAD recorded, is kCorruption naming file and offset.
// Reader processes (Refresh, before each read and on the Follower's wake):
//   reads HEAD; refuses a replaced store; indexes the writer's new log tail;
//   after a checkpoint, installs the new runs and empties the memtable;
//   after a scavenge (another log generation), AdoptScavenge maps the
//   rewritten files and installs them at once under swap_mu_ exclusive.
//   Whatever it maps is installed only if no swap began or ended meanwhile
//   (SwapFree); otherwise the old view stays and the next refresh retries.
//
// Thread safety: Recover runs alone, before the store is shared.
// Refresh serialises on refresh_mu_ (lock order in store_impl.h: a push
// handler's run_mu -> refresh_mu_ -> swap_mu_ -> index_mu_); a thread
// already inside a read of the store (swap_mu_ shared) only try_locks it
// and skips the refresh, and never adopts a scavenge. The fields below are
// guarded by refresh_mu_ once the store is open.

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "cairn/admin.h"
#include "cairn/env.h"
#include "cairn/native.h"
#include "src/index/manifest.h"
#include "src/store/follower.h"
#include "src/store/head.h"
#include "src/store/index_state.h"

namespace cairn {

class StoreImpl;

class Recovery {
 public:
  // `on_writer_changed` runs on the Follower's thread (read-only processes).
  Recovery(StoreImpl* store, std::function<void()> on_writer_changed);
  Recovery(const Recovery&) = delete;
  Recovery& operator=(const Recovery&) = delete;

  // Opens the store's files and indexes its log (steps 1-4 above). A
  // failure leaves the store unusable (Open discards it).
  Status Recover();
  // After a failed read-only Recover: whether a scavenge swap began or ended
  // since it read the manifest (an intent file, or another log generation),
  // so the open is to be tried again rather than reported.
  bool SwapOverlapped();
  // Read-only processes: brings the store up to its writer's durable end.
  // OK with nothing done when a swap is under way or a nested read cannot
  // wait; kFailedPrecondition (every call from then on) when the store
  // was replaced; kCorruption when adopting a scavenge failed after the
  // old index was dropped.
  Status Refresh();
  // The torn tail Recover cut (a writer's open), if any.
  const std::optional<TailCut>& open_cut() const { return open_cut_; }
  // The thread that calls `on_writer_changed` (read-only processes).
  Follower& follower() { return follower_; }

 private:
  // Before anything is written (directory.cc): whether the directory is to
  // be created (missing, empty, or the skeleton of a creation cut short).
  // kInvalidArgument for a directory that is not a Cairn store (another
  // program's files are never touched); kCorruption for a store that lost
  // its log; kNotFound for a missing store that is not to be created. Sets
  // *head to the HEAD file read (before the log is listed), if valid.
  Result<bool> CheckDirectory(std::optional<Head>* head);
  // Before the log is opened (a writer's open drops a last segment shorter
  // than its header, what a crash while rolling over leaves, and starts it
  // afresh): the segment files must still reach the manifest's resume
  // address and HEAD's end, or a short file is what is left of
  // acknowledged records. kCorruption names the file and what is missing;
  // nothing has been written then (but a writer's pid in LOCK).
  Status CheckLogFilesReach(const index::Manifest& m, bool has_manifest,
                            const std::optional<Head>& head);
  // After the log and position index are open: every closed segment still
  // holds its last indexed record. kCorruption names the file; nothing has
  // been written then.
  Status CheckLogReaches();
  // Step 2: the writer's directories, LOCK and interrupted scavenge; a
  // reader's refusal of an interrupted scavenge.
  Status PrepareDirectory(bool create);
  // Step 3: reads the MANIFEST into *m and opens what it lists.
  Status OpenFiles(const std::optional<Head>& head, index::Manifest* m);
  // Step 4: the store's state set from `m`, then the log past m's
  // checkpoint replayed (up to HEAD's durable end in a reader).
  Status ReplayFromCheckpoint(const index::Manifest& m, const std::optional<Head>& head);
  // Writer: removes run files no MANIFEST lists and .tmp files (a crash's).
  Status RemoveOrphans(const index::Manifest& m);
  // Indexes the records in [from, to) into the memtable and position index.
  // `durable_to`: everything below `to` is known durable (a reader following
  // HEAD), so a bad frame there is corruption, never a torn tail.
  // `first_position`: the position of the record at `from` when it is not
  // the visible head (a reader re-indexing after adopting a scavenge).
  Status ReplayTail(uint64_t from, uint64_t to, bool durable_to,
                    std::optional<uint64_t> first_position = std::nullopt);
  // Handles a bad frame found by recovery at `bad_address`: cuts a torn tail,
  // or returns kCorruption when valid records follow (damage mid-log).
  Status CutTornTail(const Status& scan_error, uint64_t bad_address, uint64_t next);
  // The writer checkpointed or scavenged since the last look: maps what
  // its MANIFEST lists and installs it (Refresh's slow path). `nested`:
  // called from inside a read (never waits for swap_mu_).
  Status Reload(const Head& head, bool new_segment, bool nested);
  // The writer scavenged (manifest `m` has a new log generation). Maps the
  // rewritten segments, the new position index and runs, and installs them
  // once no swap began or ended meanwhile; then re-indexes from m's
  // checkpoint to `head`. Called with refresh_mu_ held and no swap lock;
  // takes swap_mu_ exclusively. Installs nothing (and returns OK) when a
  // swap overlapped.
  Status AdoptScavenge(index::Manifest m, const Head& head);
  // No scavenge swap is under way (no intent file) and the manifest's log
  // generation is still `log_generation`.
  Result<bool> SwapFree(uint64_t log_generation);
  // Opens the run files `m` lists; read-only processes re-read the manifest
  // (updating *m) when the writer merged runs away meanwhile. A writer
  // missing a tag run drops the tag index from *m (rebuilt from the log).
  Status LoadRuns(index::Manifest* m, RunSet* runs);

  StoreImpl* const store_;
  Env* const env_;
  const std::string& dir_;
  const NativeOptions& options_;

  uint64_t recovered_generation_ = 0;  // the log generation Recover read
  uint64_t scanned_address_ = 0;       // the log is indexed up to here
  std::mutex refresh_mu_;              // reader processes: one refresh at a time
  bool manifest_check_due_ = false;    // reader: segments mapped since the last manifest check
  Status adopt_error_;                 // reader: the store was replaced, or adopting failed
  std::string dir_identity_;           // reader: Env::FileIdentity of dir_ at open ("" unknown)
  std::optional<TailCut> open_cut_;    // set by Recover only (CutTornTail), then read-only
  // Writer, while Recover replays the log: the end HEAD recorded (every
  // record below it was acknowledged), so damage there is never cut as a
  // torn tail. 0: unknown.
  uint64_t acknowledged_end_ = 0;
  // Declared last: its thread calls Refresh (through on_writer_changed),
  // so it is destroyed, and its thread joined, first.
  Follower follower_;
};

}  // namespace cairn
