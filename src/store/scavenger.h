#pragma once
// Scavenger: one run of StoreImpl::Scavenge, as the steps of its protocol
// (numbered and named at the top of src/store/scavenge.cc; the commit
// protocol in docs/format/scavenge-intent.md). Used only by scavenge.cc; a
// friend of StoreImpl.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cairn/admin.h"
#include "src/index/index_run.h"
#include "src/index/manifest.h"
#include "src/store/store_impl.h"

namespace cairn {

// One run of Scavenge: a method per step, called in order by Run. Used by
// the scavenging thread only, which holds the store's Op and scavenge_mu_
// for the Scavenger's whole life. Its members are what one step hands to the
// next. They are declared in the order the steps first need them and so
// released in the reverse order: what the steps still hold (the merge pause,
// the handles and maps of scratch files) goes before cleanup_ removes the
// scratch of a run that failed before its commit point.
class Scavenger {
 public:
  Scavenger(StoreImpl* store, const ScavengeOptions& options)
      : store_(store), options_(options), started_ns_(store->env_->MonotonicNanos()) {}
  Scavenger(const Scavenger&) = delete;
  Scavenger& operator=(const Scavenger&) = delete;

  // Runs every step; ScavengeOptions::progress and test_hook are called
  // from this thread. On failure the store is the old one (before the
  // intent file, scratch removed unless test_hook stopped the run) or one
  // the next writer's open rolls forward (after it).
  Result<ScavengeReport> Run();

 private:
  using Retention = StoreImpl::Retention;
  enum Fate { kKeep, kScrub, kDrop };  // what happens to one event
  // Streaming writer of a sorted-run chunk list: entries gathered, sorted
  // and written in chunks of `memtable_entries` entries, each chunk one run.
  struct RunBuilder {
    index::RunKind kind;
    std::vector<index::IndexEntry> chunk;
    uint64_t chunk_start = 0;
    std::vector<uint64_t> ids;
    uint64_t creations = 0;       // events of the chunk that create their stream
    bool retention_keys = false;  // the chunk holds a tombstone or a "$$" stream entry
  };
  // Runs RemoveScratch when the Scavenger goes (see the class comment).
  struct ScratchCleanup {
    Scavenger* owner;
    ~ScratchCleanup() { owner->RemoveScratch(); }
  };

  // Step 0. Before: nothing held but the Op and scavenge_mu_. Reads Stats,
  // checkpoints with a log roll (through the commit queue, waiting for the
  // flusher), then takes compact_mu_ (merges paused) and keeps it to the
  // end. After: every segment below cut_ is closed and indexed; m0_ (read
  // under checkpoint_mu_), cut_ and snapshot_ are set.
  Status Plan();
  // Step 1 ("rewritten"). Each closed segment holding something to remove
  // becomes a synced <seg>.scav; swap_mu_ shared while a segment is read,
  // progress "rewrite" after each one, kClosed once Close begins. After:
  // rewritten_ lists them and the report counts them; nothing the store
  // reads has changed.
  Status RewriteSegments();
  // Pass 1 over segment `seg` (at `path`): whether it holds anything to
  // remove or re-mark.
  Result<bool> HasChanges(uint32_t seg, const std::string& path);
  // Pass 2: writes, syncs and closes `path`.scav; appends `seg` to rewritten_.
  Status RewriteSegment(uint32_t seg, const std::string& path);
  // One record of it into *buf (flushed to `out` past 1 MiB).
  Status RewriteRecord(const std::string& path, uint64_t address, std::string_view body,
                       size_t framed, WritableFile* out, std::string* buf);
  // Step 2 ("indexed"). Before: rewritten_ is not empty. Writes the new runs
  // (run ids reserved under checkpoint_mu_) and positions.idx.scav for
  // [0, m0_.indexed_through) from the new log view; no swap lock. After:
  // builders_ name the runs; positions_out_ is open, its tail in pos_buf_.
  Status BuildIndex();
  Status IndexSegment(uint32_t seg, uint32_t last_indexed);
  Status IndexRecord(uint64_t address, std::string_view body, const std::string& where);
  // Writes `b`'s chunk as a run ending at `end_position` (if it has any).
  Status FlushChunk(RunBuilder& b, uint64_t end_position);
  // After step 2, no lock: the runs BuildIndex wrote opened into new_lists_.
  Status OpenNewRuns();
  // Steps 3 to 7 and the in-memory swap, in the methods below in order.
  // Holds checkpoint_mu_ throughout (no flush changes the manifest) and,
  // from the intent on, swap_mu_ exclusively (no read and no commit batch).
  // After: the store is the scavenged one, on disk and in memory; retired_
  // holds the old segments' maps, to unmap once both locks are released.
  Status Commit();
  // Under checkpoint_mu_: positions.idx.scav completed with the entries
  // flushes persisted since m0_ (up to `persisted_now`), synced and closed.
  Status FinishPositionIndex(uint64_t persisted_now);
  // Under checkpoint_mu_: m1_, the manifest to install (the new runs in
  // place of m0_'s). kBusy when the run lists changed other than at their end.
  Status ChooseManifest(uint64_t persisted_now);
  // Steps 3 to 7 run under checkpoint_mu_ and swap_mu_ exclusive.
  // Step 3 ("intent"): the commit point, index/SCAVENGE written atomically.
  Status WriteIntent(const std::string& manifest_bytes);
  // Step 4 ("segments"): the .scav files renamed over the live ones.
  Status SwapSegments();
  // Step 5 ("manifest"): MANIFEST replaced by m1_.
  Status WriteManifest(const std::string& manifest_bytes);
  // Step 6 ("head"): HEAD for the new log generation (best effort).
  Status WriteHead();
  // Step 7 ("removed"): the intent file removed, index/ synced.
  Status RemoveIntent();
  // Under both locks still: the new segments, position index, runs and
  // manifest installed in memory; index_mu_ exclusive while the runs change.
  Status InstallInMemory();
  // After Commit, no lock: m0_'s run files removed (errors ignored).
  void RemoveOldRuns();
  // The report with its duration, after telling "done".
  ScavengeReport Done();

  // ScavengeOptions::test_hook at `step`; a stop leaves the scratch.
  Status Hook(std::string_view step);
  // kClosed once Close has begun: before its commit point a scavenge stops
  // rather than make Close wait for the whole run.
  Status StopIfClosing() const;  // also ScavengeOptions::stop
  // ScavengeOptions::progress with `phase`.
  void Tell(const char* phase);
  // Retention of `stream` at snapshot_ (cached); null with decide_error_ set
  // on failure. Callers hold swap_mu_ shared.
  const Retention* RetentionAt(std::string_view stream);
  Fate FateOf(const EventView& e);
  // Whether `e` takes over the creation of a stream whose carrier was dropped.
  bool TakesCreation(const EventView& e, bool creates) const;
  // Removes the scratch of a run that failed before its commit point.
  void RemoveScratch();

  StoreImpl* const store_;
  const ScavengeOptions& options_;
  const int64_t started_ns_;   // the Env's monotonic clock
  bool hook_stopped_ = false;  // the test hook stopped the run, as a crash would
  ScratchCleanup cleanup_{this};
  ScavengeReport report_;
  ScavengeProgress progress_;
  std::unique_lock<std::mutex> no_merges_;  // compact_mu_, from step 0 on
  index::Manifest m0_;                      // the manifest at the cut
  uint32_t cut_ = 0;                        // segments below it are scavenged
  // Retention as of the cut: every stream's last event at the snapshot then
  // lies in a closed segment, so a stream keeps a stored event below the cut.
  uint64_t snapshot_ = 0;
  std::unordered_map<std::string, Retention> cache_;
  Status decide_error_;  // RetentionAt's failure
  // A stream's creation (what ListStreams and Stats count) is carried by
  // its first stored event: revision 0, or the event a scavenge marked
  // first stored (kFirstStoredFlag). When the carrier goes, the stream's
  // next kept event takes the mark. `orphaned_` holds the streams (by hash)
  // whose carrier was dropped and whose next kept event is still ahead in
  // the scan: its memory follows the streams losing their first events in
  // this scavenge, not the store.
  std::unordered_set<uint64_t> orphaned_;
  std::vector<uint32_t> rewritten_;                    // segment ids, ascending
  std::vector<std::unique_ptr<MappedFile>> new_maps_;  // by segment id: the .scav files
  RunBuilder builders_[3] = {{index::RunKind::kStream, {}, 0, {}},
                             {index::RunKind::kIds, {}, 0, {}},
                             {index::RunKind::kTags, {}, 0, {}}};
  std::unique_ptr<WritableFile> positions_out_;  // positions.idx.scav
  std::string pos_buf_;                          // its bytes not yet appended
  uint64_t new_position_entries_ = 0;
  uint64_t next_position_ = 0;  // one past the last event indexed
  index::Manifest m1_;          // the manifest installed
  RunList new_lists_[3];
  std::vector<std::unique_ptr<MappedFile>> retired_;  // unmapped after the swap
};

}  // namespace cairn
