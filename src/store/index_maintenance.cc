// The flusher, the compactor and their waits: see index_maintenance.h.
#include "src/store/index_maintenance.h"

#include <chrono>
#include <string>

namespace cairn {

namespace {
constexpr auto kFlushRetry = std::chrono::milliseconds(200);
constexpr auto kCompactRetry = std::chrono::milliseconds(500);
}  // namespace

IndexMaintenance::IndexMaintenance(Env* env, Worker* worker, uint64_t max_unflushed_entries)
    : env_(env), worker_(worker), max_unflushed_entries_(max_unflushed_entries) {}

IndexMaintenance::~IndexMaintenance() = default;

void IndexMaintenance::Start() {
  flusher_ = env_->StartThread("cairn-flusher", [this] { FlushLoop(); });
  compactor_ = env_->StartThread("cairn-compactor", [this] { CompactLoop(); });
}

void IndexMaintenance::Stop() {
  stop_compaction_.store(true);
  {
    std::lock_guard l(mu_);
    stop_ = true;
    flush_cv_.notify_all();
    compact_cv_.notify_all();
  }
  if (flusher_.joinable()) flusher_.join();
  if (compactor_.joinable()) compactor_.join();
}

void IndexMaintenance::Frozen(uint64_t entries) {
  frozen_entries_.fetch_add(entries);
  frozen_pending_.fetch_add(1);
}

void IndexMaintenance::Flushed(uint64_t entries) {
  frozen_entries_.fetch_sub(entries);
  frozen_pending_.fetch_sub(1);
}

void IndexMaintenance::Wake() {
  std::lock_guard l(mu_);
  flush_cv_.notify_all();
}

void IndexMaintenance::FlushLoop() {
  std::unique_lock l(mu_);
  for (;;) {
    flush_cv_.wait(l, [&] { return stop_ || frozen_pending_.load() > 0; });
    if (frozen_pending_.load() == 0 && stop_) return;
    l.unlock();
    Status s = worker_->FlushOne();
    l.lock();
    flush_error_ = s;
    ++flush_attempts_;
    flush_done_cv_.notify_all();
    if (s.ok()) {
      compact_requested_ = true;
      compact_cv_.notify_all();
    } else {
      if (stop_) return;
      flush_cv_.wait_for(l, kFlushRetry);  // retry later (disk full?)
    }
  }
}

void IndexMaintenance::CompactLoop() {
  std::unique_lock l(mu_);
  for (;;) {
    compact_cv_.wait(l, [&] { return stop_ || compact_requested_; });
    if (stop_) return;
    compact_requested_ = false;
    l.unlock();
    Status s;
    // Merge until no tier is full: flushes may have piled up meanwhile.
    for (bool merged = true; merged && s.ok() && !stop_compaction_.load();) {
      auto r = worker_->CompactOnce(&stop_compaction_);
      s = r.status();
      merged = r.has_value() && *r;
    }
    l.lock();
    if (!s.ok() && s.code() != ErrorCode::kCancelled) {
      compact_requested_ = true;  // retry after a pause (disk full?)
      compact_cv_.wait_for(l, kCompactRetry);
    }
  }
}

Status IndexMaintenance::WaitForRoom() {
  if (frozen_entries_.load() < max_unflushed_entries_) return Status::OK();
  // Memory is bounded: wait for the flusher. It retries a failed checkpoint
  // every 200 ms; refuse the append once two more attempts have failed.
  std::unique_lock l(mu_);
  const uint64_t start = flush_attempts_;
  flush_done_cv_.wait(l, [&] {
    return frozen_entries_.load() < max_unflushed_entries_ || stop_ ||
           (flush_attempts_ >= start + 2 && !flush_error_.ok());
  });
  if (frozen_entries_.load() < max_unflushed_entries_) return Status::OK();
  Status e = flush_error_.ok() ? Status::IOError("store is closing") : flush_error_;
  return Status(e.code(),
                "append refused: index checkpoints keep failing and " +
                    std::to_string(frozen_entries_.load()) +
                    " index entries wait in memory (max_unflushed_entries): " + e.message());
}

Status IndexMaintenance::WaitForCheckpoint(const std::function<bool()>& done) {
  std::unique_lock l(mu_);
  flush_cv_.notify_all();  // also cuts short the flusher's pause after a failure
  const uint64_t attempts = flush_attempts_;
  flush_done_cv_.wait(l,
                      [&] { return done() || (flush_attempts_ > attempts && !flush_error_.ok()); });
  return done() ? Status::OK() : flush_error_;
}

}  // namespace cairn
