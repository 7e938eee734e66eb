// Index checkpoints (memtable -> run files + MANIFEST) and size-tiered
// merges of runs, as IndexMaintenance's worker (index_maintenance.h runs
// them on its threads); Checkpoint and Close.
#include <algorithm>
#include <chrono>
#include <functional>

#include "src/base/check.h"
#include "src/store/paths.h"
#include "src/store/push.h"
#include "src/store/store_impl.h"

namespace cairn {

Status StoreImpl::FlushOne() {
  std::lock_guard cl(checkpoint_mu_);
  Frozen f;
  {
    std::shared_lock l(index_mu_);
    if (index_.frozen.empty()) return Status::OK();
    f = index_.frozen.front();
  }
  index::Manifest m = manifest_;
  std::shared_ptr<const index::IndexRun> run, id_run, tag_run;
  // Run files written for a checkpoint that then fails are nobody's: remove
  // them at once rather than hold a full disk's space until the next open.
  std::vector<std::string> written;
  bool installed = false;
  struct Orphans {
    std::function<void()> remove;
    ~Orphans() { remove(); }
  } orphans{[&] {
    if (installed) return;
    for (const std::string& path : written) (void)env_->RemoveFile(path);
  }};
  if (!f.table->empty()) {
    index::RunInfo info;
    info.min_position = m.indexed_through;
    info.end_position = f.end_position;
    uint64_t id = m.next_run_id++;
    std::string path = IndexDir(dir_) + "/" + index::RunFileName(id);
    std::vector<index::IndexEntry> sorted = f.table->Sorted();
    info.new_streams = f.table->creations();
    if (!f.table->HoldsRetentionKeys()) info.flags = index::kRunNoRetentionKeys;
    CAIRN_RETURN_IF_ERROR(index::IndexRun::Write(env_, path, sorted, info));
    written.push_back(path);
    info.flags = 0;  // the id and tag runs below hold no stream entries
    CAIRN_ASSIGN_OR_RETURN(run, index::IndexRun::Open(env_, path));
    m.runs.push_back(id);
    std::vector<index::IndexEntry> ids = f.table->SortedIds();
    if (!ids.empty()) {  // only caller-supplied ids are indexed
      uint64_t ids_id = m.next_run_id++;
      std::string ids_path =
          IndexDir(dir_) + "/" + index::RunFileName(ids_id, index::RunKind::kIds);
      info.new_streams = 0;
      CAIRN_RETURN_IF_ERROR(index::IndexRun::Write(env_, ids_path, ids, info));
      written.push_back(ids_path);
      CAIRN_ASSIGN_OR_RETURN(id_run, index::IndexRun::Open(env_, ids_path));
      m.id_runs.push_back(ids_id);
    }
    std::vector<index::IndexEntry> tags = f.table->SortedTags();
    if (!tags.empty()) {
      uint64_t tag_id = m.next_run_id++;
      std::string tag_path =
          IndexDir(dir_) + "/" + index::RunFileName(tag_id, index::RunKind::kTags);
      info.new_streams = 0;
      CAIRN_RETURN_IF_ERROR(index::IndexRun::Write(env_, tag_path, tags, info));
      written.push_back(tag_path);
      CAIRN_ASSIGN_OR_RETURN(tag_run, index::IndexRun::Open(env_, tag_path));
      m.tag_runs.push_back(tag_id);
    }
  }
  CAIRN_RETURN_IF_ERROR(positions_.Persist(f.position_entries - positions_.persisted()));
  m.generation++;
  m.indexed_through = f.end_position;
  m.position_entries = f.position_entries;
  m.resume_address = f.resume_address;
  m.holes += f.holes;
  CAIRN_RETURN_IF_ERROR(env_->WriteFileAtomic(ManifestPath(dir_), index::EncodeManifest(m)));
  installed = true;
  SetManifest(m);
  {
    std::unique_lock l(index_mu_);
    if (run) index_.runs.stream.push_back(std::move(run));
    if (id_run) index_.runs.ids.push_back(std::move(id_run));
    if (tag_run) index_.runs.tags.push_back(std::move(tag_run));
    index_.frozen.pop_front();
  }
  maintenance_.Flushed(f.table->entries());
  return Status::OK();
}

Result<bool> StoreImpl::CompactOnce(const std::atomic<bool>* stop) {
  bool merged = false;
  for (auto kind : {index::RunKind::kStream, index::RunKind::kIds, index::RunKind::kTags}) {
    std::lock_guard pause(compact_mu_);  // a scavenge holds it while it works
    CAIRN_ASSIGN_OR_RETURN(bool m, CompactList(kind, stop));
    merged = merged || m;
  }
  return merged;
}

Result<bool> StoreImpl::CompactList(index::RunKind kind, const std::atomic<bool>* stop) {
  RunList group;
  std::vector<uint64_t> group_ids;
  uint64_t id = 0;
  {
    std::lock_guard cl(checkpoint_mu_);
    RunList runs;
    {
      std::shared_lock l(index_mu_);
      runs = index_.runs.Of(kind);
    }
    // Size-tiered: merge the newest runs once four of similar size pile up,
    // so lookups touch O(log n) runs and each entry is rewritten O(log n) times.
    const size_t n = runs.size();
    if (n < 2) return false;
    size_t first = n - 1;
    while (first > 0 && runs[first - 1]->count() <= 2 * runs[first]->count()) --first;
    if (n - first < 4) {
      if (n <= 12) return false;
      first = n - 2;  // too many runs of mixed sizes: fold the newest two
    }
    group.assign(runs.begin() + static_cast<std::ptrdiff_t>(first), runs.end());
    const auto& ids = index::RunIds(manifest_, kind);
    group_ids.assign(ids.begin() + static_cast<std::ptrdiff_t>(first), ids.end());
    id = manifest_.next_run_id++;  // reserved; written with the next manifest
  }
  // The merge runs without locks: flushes go on appending newer runs.
  std::string path = IndexDir(dir_) + "/" + index::RunFileName(id, kind);
  CAIRN_RETURN_IF_ERROR(index::IndexRun::Merge(env_, path, group, stop));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<const index::IndexRun> merged,
                         index::IndexRun::Open(env_, path));
  {
    std::lock_guard cl(checkpoint_mu_);
    index::Manifest m = manifest_;
    std::vector<uint64_t>& ids = index::RunIds(m, kind);
    auto at = std::find(ids.begin(), ids.end(), group_ids.front());
    CAIRN_CHECK(at != ids.end() && static_cast<size_t>(ids.end() - at) >= group_ids.size() &&
                std::equal(group_ids.begin(), group_ids.end(), at));
    const auto pos = at - ids.begin();
    ids.erase(at, at + static_cast<std::ptrdiff_t>(group_ids.size()));
    ids.insert(ids.begin() + pos, id);
    m.generation++;
    CAIRN_RETURN_IF_ERROR(env_->WriteFileAtomic(ManifestPath(dir_), index::EncodeManifest(m)));
    SetManifest(m);
    std::unique_lock l(index_mu_);
    RunList& live = index_.runs.Of(kind);
    CAIRN_CHECK(live.size() >= static_cast<size_t>(pos) + group.size() && live[pos] == group[0]);
    live.erase(live.begin() + pos, live.begin() + pos + static_cast<std::ptrdiff_t>(group.size()));
    live.insert(live.begin() + pos, std::move(merged));
  }
  // Readers still holding the old runs keep their mappings alive.
  for (uint64_t old : group_ids) {
    (void)env_->RemoveFile(IndexDir(dir_) + "/" + index::RunFileName(old, kind));
  }
  return true;
}

Status StoreImpl::DoCheckpoint(bool roll, Status* trim) {
  Writer w;
  w.checkpoint = true;
  w.roll = roll;
  w.trim = trim != nullptr;
  CAIRN_RETURN_IF_ERROR(commits_.Run(&w));
  if (trim != nullptr) *trim = w.trim_status;
  CAIRN_RETURN_IF_ERROR(w.status);
  // Done once what the barrier froze is flushed; appends that keep freezing
  // newer memtables meanwhile do not hold the checkpoint up.
  return maintenance_.WaitForCheckpoint([&] {
    return maintenance_.frozen_pending() == 0 || indexed_through_.load() >= w.checkpoint_target;
  });
}

Status StoreImpl::Checkpoint() {
  if (options_.read_only) return Status(ErrorCode::kReadOnly, "checkpoint of a read-only store");
  // A visitor holds swap_mu_ shared; a checkpoint waits for the flusher,
  // which a scavenge waiting for that lock holds up (store_impl.h).
  if (SwapReadLock::Held(swap_mu_)) {
    return Status(ErrorCode::kReentrantCall,
                  "Checkpoint was called from inside a call of the same store (a read's "
                  "visitor), where it could wait for itself");
  }
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  return DoCheckpoint();
}

Status StoreImpl::Close() {
  if (close_done_.load()) return Status::OK();
  CAIRN_RETURN_IF_ERROR(CheckNotInCallback());
  if (PushHub::OnDispatcherOf(this)) {
    return Status(ErrorCode::kReentrantCall,
                  "Close was called from a push subscription handler of the same store, whose "
                  "dispatcher Close must stop");
  }
  if (InOpOnThisThread()) {
    return Status(ErrorCode::kReentrantCall,
                  "Close was called from inside a call of the same store (a read's visitor), "
                  "which it would wait for");
  }
  // From here new calls are refused; waiting subscriptions wake, and the
  // calls in flight end before anything they use goes away. One Close does
  // the work; one racing it waits until it is done.
  if (closing_.exchange(true, std::memory_order_seq_cst)) {
    std::unique_lock l(ops_mu_);
    ops_cv_.wait(l, [&] { return close_done_.load(); });
    return Status::OK();
  }
  WakeWaiters();
  {
    std::unique_lock l(ops_mu_);
    ops_cv_.wait(l, [&] { return ops_.load(std::memory_order_seq_cst) == 0; });
  }
  Status s;
  if (!options_.read_only) {
    commits_.Drain();  // every queued asynchronous append completes first
    const bool failed = !commits_.failed().ok();
    // The active segment ends at its last record again (after a crash
    // recovery would cut the reserved zeros as a torn tail).
    Status trim;
    if (!failed) s = DoCheckpoint(/*roll=*/false, &trim);
    if (s.ok()) s = trim;
    maintenance_.Stop();
  }
  closed_.store(true);
  WakeWaiters();
  StopPush();  // push subscriptions end (their reads now fail: store closed)
  recovery_.follower().Stop();
  head_.reset();
  log_.reset();
  lock_.reset();
  {
    std::lock_guard l(ops_mu_);
    close_done_.store(true);
  }
  ops_cv_.notify_all();
  return s;
}

}  // namespace cairn
