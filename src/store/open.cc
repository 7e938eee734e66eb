// Opening the native engine (the checks and the replay are Recovery's,
// recovery.h), destroying it, and Stats.
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "src/store/push.h"
#include "src/store/store_impl.h"

namespace cairn {

Result<std::unique_ptr<NativeStore>> NativeStore::Open(const std::string& dir,
                                                       const NativeOptions& options) {
  return StoreImpl::Open(dir, options);
}

StoreImpl::StoreImpl(std::string dir, const NativeOptions& options, Env* env)
    : dir_(std::move(dir)),
      options_(options),
      env_(env),
      commits_(env, this, options.max_queued_append_bytes),
      maintenance_(env, this, options.max_unflushed_entries),
      recovery_(this, [this] { OnWriterChanged(); }) {}

StoreImpl::~StoreImpl() {
  // Close would have to wait for the very thread destroying the store.
  if (!CheckNotInCallback().ok() || PushHub::OnDispatcherOf(this)) {
    std::fprintf(stderr,
                 "cairn: a Store was destroyed from one of its own append callbacks or push "
                 "handlers; this cannot be done safely\n");
    std::abort();
  }
  (void)Close();
}

Result<std::unique_ptr<NativeStore>> StoreImpl::Open(const std::string& dir,
                                                     const NativeOptions& options) {
  if (dir.empty()) return Status::InvalidArgument("store directory is empty");
  if (options.max_stream_name_bytes == 0 || options.max_stream_name_bytes > 65535) {
    return Status::InvalidArgument("max_stream_name_bytes must be in 1..65535");
  }
  if (options.segment_bytes + options.max_append_bytes + 64 >= (1ull << 32)) {
    // Log offsets are 32-bit: a segment plus one largest record must fit.
    return Status::InvalidArgument("segment_bytes + max_append_bytes must stay below 4 GiB");
  }
  if (options.push_threads < 1 || options.push_threads > 64) {
    return Status::InvalidArgument("push_threads must be in 1..64");
  }
  if (options.memtable_entries == 0) {
    return Status::InvalidArgument("memtable_entries must be positive");
  }
  Env* env = options.env ? options.env : Env::Default();
  std::unique_ptr<StoreImpl> store;
  for (int attempt = 0;; ++attempt) {
    store.reset(new StoreImpl(dir, options, env));
    Status recovered = store->recovery_.Recover();
    if (recovered.ok()) break;
    // A read-only open that overlapped a writer's scavenge swap may have
    // read files of both sides (the old manifest, the new segments) and
    // found them inconsistent, or found its intent file: neither is damage
    // nor a crashed scavenge. Open again (for half a second at most: a swap
    // takes milliseconds; an intent file that stays is a crashed scavenge).
    const bool swap_seen = (recovered.code() == ErrorCode::kCorruption ||
                            recovered.code() == ErrorCode::kFailedPrecondition) &&
                           store->recovery_.SwapOverlapped();
    if (!options.read_only || attempt >= 50 || !swap_seen) return recovered;
    env->SleepForMicroseconds(10'000);
  }
  if (!options.read_only) {
    store->maintenance_.Start();
  }
  return std::unique_ptr<NativeStore>(std::move(store));
}

void StoreImpl::SetManifest(const index::Manifest& m) {
  manifest_ = m;
  indexed_through_.store(m.indexed_through);
}

Result<StoreStats> StoreImpl::Stats() {
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  if (options_.read_only) CAIRN_RETURN_IF_ERROR(recovery_.Refresh());
  SwapReadLock swap(swap_mu_);  // a reader's adoption of a scavenge swaps manifest_
  StoreStats st;
  const uint64_t head = visible_.load();
  st.events = head - std::min(head, holes_.load());
  st.read_only = options_.read_only;
  st.log_bytes = log_->TotalBytes();
  st.segments = log_->SegmentCount();
  std::shared_lock l(index_mu_);
  auto count_new = [&](const index::Memtable& t) {
    st.streams += t.creations();
    st.memtable_entries += t.entries();
  };
  for (const auto& r : index_.runs.stream) {
    st.streams += r->info().new_streams;
    st.index_bytes += r->bytes();
  }
  for (const auto& r : index_.runs.ids) st.index_bytes += r->bytes();
  for (const auto& r : index_.runs.tags) st.index_bytes += r->bytes();
  for (const auto& f : index_.frozen) count_new(*f.table);
  count_new(*index_.active);
  // Not yet durable (or never to be, after a failed fsync): not counted.
  st.memtable_entries -= std::min(st.memtable_entries, index_.unpublished_entries);
  st.streams -= std::min(st.streams, index_.unpublished_streams);
  st.index_runs = index_.runs.stream.size();
  st.index_bytes += positions_.file_bytes();
  st.indexed_through = indexed_through_.load();
  st.open_cut = recovery_.open_cut();
  return st;
}

}  // namespace cairn
