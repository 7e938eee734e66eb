// The group-commit queue: see commit_queue.h.
#include "src/store/commit_queue.h"

#include <algorithm>

namespace cairn {

namespace {
constexpr size_t kMaxBatchBytes = 8u << 20;  // a leader stops adding writers past this

// The queue whose append callbacks this thread is running, if any.
thread_local const CommitQueue* t_in_callback = nullptr;

// An exception escaping a callback ends the process at once (rather than
// leaving a batch half completed and Close waiting forever).
void RunCallback(const Store::AppendMultiCallback& done,
                 Result<std::vector<AppendResult>> r) noexcept {
  done(std::move(r));
}
}  // namespace

bool InAppendCallback() { return t_in_callback != nullptr; }

CommitQueue::CommitQueue(Env* env, Committer* committer, uint64_t max_queued_bytes)
    : env_(env), committer_(committer), max_queued_bytes_(max_queued_bytes) {}

CommitQueue::~CommitQueue() = default;

Status CommitQueue::CheckNotInCallback() const {
  if (t_in_callback != this) return Status::OK();
  return Status(ErrorCode::kReentrantCall,
                "a blocking append, metadata write, delete, checkpoint or close was called from "
                "an append callback of the same store, where it would wait for itself; use "
                "AppendAsync there");
}

void CommitQueue::SetFailed(Status s) {
  std::lock_guard l(mu_);
  failed_ = std::move(s);
}

Status CommitQueue::failed() {
  std::lock_guard l(mu_);
  return failed_;
}

Status CommitQueue::Run(CommitWriter* w) {
  CAIRN_RETURN_IF_ERROR(CheckNotInCallback());
  {
    std::unique_lock l(mu_);
    w->gen = takes_;
    queue_.push_back(w);
    if (leader_active_) {
      l.unlock();
      WaitDone(w);
      return Status::OK();
    }
    leader_active_ = true;
  }
  Lead(w);  // until its own append is done
  return Status::OK();
}

Status CommitQueue::Enqueue(std::unique_ptr<CommitWriter> w) {
  const uint64_t bytes = w->owned->bytes;
  {
    std::unique_lock l(async_mu_);
    // A callback is always admitted: waiting there would hold up the very
    // commits that make room.
    if (t_in_callback != this) {
      room_cv_.wait(l, [&] {
        return async_closing_ || queued_async_bytes_ == 0 ||
               queued_async_bytes_ + bytes <= max_queued_bytes_;
      });
    }
    if (async_closing_) return Status(ErrorCode::kClosed, "store is closed");
    queued_async_bytes_ += bytes;
    ++async_inflight_;
    StartCommitThreadLocked();
  }
  bool lead = false;
  {
    std::lock_guard l(mu_);
    queue_.push_back(w.get());
    if (!leader_active_) lead = leader_active_ = true;
  }
  (void)w.release();  // owned by the queue now; RunCompletions deletes it
  if (lead) {
    std::lock_guard l(async_mu_);
    commit_lead_ = true;
    commit_cv_.notify_one();
  }
  return Status::OK();
}

void CommitQueue::CommitLoop() {
  std::unique_lock l(async_mu_);
  for (;;) {
    commit_cv_.wait(l, [&] { return commit_lead_ || !completions_.empty() || commit_stop_; });
    if (!completions_.empty()) {
      l.unlock();
      RunCompletions();
      l.lock();
      continue;
    }
    if (commit_lead_) {
      commit_lead_ = false;
      l.unlock();
      Lead(nullptr);
      l.lock();
      continue;
    }
    return;  // stop, with no leadership granted and nothing to complete
  }
}

void CommitQueue::StartCommitThreadLocked() {
  if (commit_thread_.joinable()) return;
  commit_thread_ = env_->StartThread("cairn-commit", [this] { CommitLoop(); });
  waker_ = env_->StartThread("cairn-waker", [this] { WakeLoop(); });
}

void CommitQueue::WakeLoop() {
  std::unique_lock l(wake_mu_);
  for (;;) {
    wake_cv_.wait(l, [&] { return !wakes_.empty() || wake_stop_; });
    if (wakes_.empty()) return;
    std::vector<CommitWriter*> ready;
    ready.swap(wakes_);
    l.unlock();
    WakeDone(ready);
    l.lock();
  }
}

void CommitQueue::Drain() {
  std::thread commit_thread;
  std::thread waker;
  {
    std::unique_lock l(async_mu_);
    async_closing_ = true;
    room_cv_.notify_all();
    room_cv_.wait(l, [&] { return async_inflight_ == 0; });
    commit_stop_ = true;
    commit_cv_.notify_one();
    commit_thread = std::move(commit_thread_);
    waker = std::move(waker_);
  }
  if (commit_thread.joinable()) commit_thread.join();
  {
    // After the commit thread: it is the one that hands the waker work.
    std::lock_guard l(wake_mu_);
    wake_stop_ = true;
    wake_cv_.notify_one();
  }
  if (waker.joinable()) waker.join();
}

bool CommitQueue::HandOverToCommitter() {
  std::lock_guard l(async_mu_);
  if (commit_stop_) return false;
  StartCommitThreadLocked();
  commit_lead_ = true;
  commit_cv_.notify_one();
  return true;
}

void CommitQueue::RunCompletions() {
  for (;;) {
    std::deque<CommitWriter*> ready;
    {
      std::lock_guard l(async_mu_);
      if (completions_.empty()) return;
      ready.swap(completions_);
    }
    for (CommitWriter* w : ready) {
      std::unique_ptr<CommitWriter> own(w);
      const CommitQueue* outer = t_in_callback;
      t_in_callback = this;
      if (w->status.ok()) {
        RunCallback(w->owned->done, std::move(w->results));
      } else {
        RunCallback(w->owned->done, w->status);
      }
      t_in_callback = outer;
      std::lock_guard l(async_mu_);
      queued_async_bytes_ -= w->owned->bytes;
      --async_inflight_;
      room_cv_.notify_all();
    }
  }
}

void CommitQueue::WaitDone(CommitWriter* w) {
  std::atomic<uint32_t>& word = done_words_[w->gen % kDoneWords];
  for (;;) {
    // The word is read before `done`: a WakeDone after this read changes
    // it, so the wait below cannot miss the wake-up.
    const uint32_t seen = word.load(std::memory_order_acquire);
    if (w->done.load(std::memory_order_acquire)) return;
    word.wait(seen, std::memory_order_acquire);
  }
}

void CommitQueue::WakeDone(std::span<CommitWriter* const> blocking) {
  // Generations first: a writer may be gone once its `done` is set. They
  // never decrease along the queue, so equal ones are neighbours.
  std::vector<uint64_t> gens;
  for (CommitWriter* q : blocking) {
    if (gens.empty() || gens.back() != q->gen) gens.push_back(q->gen);
  }
  for (CommitWriter* q : blocking) q->done.store(true, std::memory_order_release);
  for (uint64_t g : gens) {
    std::atomic<uint32_t>& word = done_words_[g % kDoneWords];
    word.fetch_add(1, std::memory_order_release);
    word.notify_all();
  }
}

void CommitQueue::Lead(CommitWriter* self) {
  for (;;) {
    std::vector<CommitWriter*> batch;
    Status failed;
    {
      std::lock_guard l(mu_);
      size_t bytes = 0;
      while (!queue_.empty()) {
        CommitWriter* q = queue_.front();
        // A barrier or a system append goes alone.
        if ((q->checkpoint || q->system) && !batch.empty()) break;
        queue_.pop_front();
        batch.push_back(q);
        if (q->checkpoint || q->system) break;
        for (const auto& a : q->appends) {
          for (const auto& e : a.events) bytes += e.data.size() + e.metadata.size() + 64;
        }
        if (bytes > kMaxBatchBytes) break;
      }
      ++takes_;  // writers queued from now on are a new generation
      failed = failed_;
    }
    committer_->CommitBatch(batch, std::move(failed));
    const bool self_done =
        self != nullptr && std::find(batch.begin(), batch.end(), self) != batch.end();
    // Asynchronous appends complete on the commit thread, in commit order
    // (queued before leadership moves on, so a later batch's callbacks can
    // never run first), whoever led their batch.
    // Once queued, an asynchronous writer may be completed and deleted by
    // the commit thread at any moment: the blocking ones to wake are picked
    // out first, and the batch's writers are not touched afterwards.
    bool async_done = false;
    std::vector<CommitWriter*> blocking;
    blocking.reserve(batch.size());
    for (CommitWriter* q : batch) {
      if (q->owned == nullptr && q != self) blocking.push_back(q);
    }
    {
      std::lock_guard l(async_mu_);
      for (CommitWriter* q : batch) {
        if (q->owned != nullptr) {
          completions_.push_back(q);
          async_done = true;
        }
      }
      if (async_done && self != nullptr) commit_cv_.notify_one();
    }
    // A blocking writer stops leading once its own append is done; what is
    // still queued then goes to the commit thread, which leads until the
    // queue is empty (so each writer under load only waits, and a busy
    // queue never waits for a thread to wake up to lead it).
    bool stop = false;
    bool hand_over = false;
    {
      std::lock_guard l(mu_);
      if (queue_.empty()) {
        leader_active_ = false;
        stop = true;
      } else if (self_done) {
        hand_over = true;
      }
    }
    if (hand_over) stop = HandOverToCommitter();  // before waking the batch
    if (self == nullptr && !blocking.empty()) {
      // The commit thread leads a busy queue: waking a batch's writers
      // (notify_all makes the kernel wake each one) would hold up the next
      // batch, so the waker thread does it while this one goes on.
      std::lock_guard l(wake_mu_);
      wakes_.insert(wakes_.end(), blocking.begin(), blocking.end());
      wake_cv_.notify_one();
    } else {
      WakeDone(blocking);
    }
    // Also callbacks a blocking leader queued before it handed over: a
    // busy queue may keep this thread leading for long.
    if (self == nullptr) RunCompletions();
    if (stop) return;
  }
}

}  // namespace cairn
