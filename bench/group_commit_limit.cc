// disk-group-commit: the raw limit of append-concurrent. 64 threads each
// append one 256-byte record at a time and wait until it is durable, with
// nothing of the engine in between: a committer thread writes everything
// queued with one write + fdatasync (through the default Env, into a
// zero-filled file, as the log takes small durable appends) and a waker
// thread wakes the committed writers, all of one queue generation with one
// notify_all, while the committer goes on. That is the best scheme found for
// blocking threads on this project's 2-vCPU machine (BENCHMARKS.md
// "Blocking appends wake by generation"): what a thread-per-append API can
// reach here when its appends cost nothing but the disk and the wake-ups.

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/workload.h"
#include "cairn/env.h"

namespace cairn::bench {
namespace {

constexpr size_t kRecordBytes = 256;
constexpr size_t kWords = 64;

struct Waiter {
  uint64_t gen = 0;
  std::atomic<bool> done{false};
};

class RawGroupCommit {
 public:
  explicit RawGroupCommit(WritableFile* file) : file_(file) {}

  // Queues one record and blocks until its fdatasync returned.
  void Append() {
    Waiter w;
    {
      std::lock_guard l(mu_);
      w.gen = takes_;
      queue_.push_back(&w);
      work_cv_.notify_one();
    }
    std::atomic<uint32_t>& word = words_[w.gen % kWords];
    for (;;) {
      const uint32_t seen = word.load(std::memory_order_acquire);
      if (w.done.load(std::memory_order_acquire)) return;
      word.wait(seen, std::memory_order_acquire);
    }
  }

  void Start() {
    committer_ = std::thread([this] { Commit(); });
    waker_ = std::thread([this] { Wake(); });
  }

  // Stops both threads once everything queued is committed; the first
  // failed write or fdatasync.
  Status Stop() {
    {
      std::lock_guard l(mu_);
      stop_ = true;
      work_cv_.notify_one();
    }
    committer_.join();
    {
      std::lock_guard l(wake_mu_);
      wake_stop_ = true;
      wake_cv_.notify_one();
    }
    waker_.join();
    return status_;
  }

 private:
  void Commit() {
    std::string buf;
    for (;;) {
      std::vector<Waiter*> batch;
      {
        std::unique_lock l(mu_);
        work_cv_.wait(l, [&] { return !queue_.empty() || stop_; });
        if (queue_.empty()) return;
        batch.assign(queue_.begin(), queue_.end());
        queue_.clear();
        ++takes_;
      }
      buf.assign(batch.size() * kRecordBytes, 'r');
      if (status_.ok()) status_ = file_->Append(buf);
      if (status_.ok()) status_ = file_->Sync();
      std::lock_guard l(wake_mu_);
      wakes_.insert(wakes_.end(), batch.begin(), batch.end());
      wake_cv_.notify_one();
    }
  }

  void Wake() {
    std::unique_lock l(wake_mu_);
    for (;;) {
      wake_cv_.wait(l, [&] { return !wakes_.empty() || wake_stop_; });
      if (wakes_.empty()) return;
      std::vector<Waiter*> ready;
      ready.swap(wakes_);
      l.unlock();
      std::vector<uint64_t> gens;
      for (Waiter* w : ready) {
        if (gens.empty() || gens.back() != w->gen) gens.push_back(w->gen);
      }
      for (Waiter* w : ready) w->done.store(true, std::memory_order_release);
      for (uint64_t g : gens) {
        words_[g % kWords].fetch_add(1, std::memory_order_release);
        words_[g % kWords].notify_all();
      }
      l.lock();
    }
  }

  WritableFile* file_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::deque<Waiter*> queue_;  // guarded by mu_
  uint64_t takes_ = 0;         // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  Status status_;              // the committer's; read after it is joined
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  std::vector<Waiter*> wakes_;  // guarded by wake_mu_
  bool wake_stop_ = false;      // guarded by wake_mu_
  std::array<std::atomic<uint32_t>, kWords> words_{};
  std::thread committer_;
  std::thread waker_;
};

}  // namespace

Result<Measurement> DiskGroupCommit(const WorkloadContext& ctx) {
  Env* env = Env::Default();
  const std::string path = ctx.scratch + "/group.dat";
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->OpenWritable(path));
  CAIRN_RETURN_IF_ERROR(file->WriteZeros(ctx.events * kRecordBytes));
  CAIRN_RETURN_IF_ERROR(file->Sync());

  Measurement m;
  m.workload = ctx.name;
  m.system = "disk";
  m.durable = true;
  ResetPeakRss();
  RawGroupCommit group(file.get());
  group.Start();
  const int writers = kConcurrentWriters;
  std::vector<Histogram> latencies(writers);
  std::latch ready(writers + 1);
  std::latch go(1);
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t) {
    const uint64_t share = ctx.events / writers + (static_cast<uint64_t>(t) < ctx.events % writers);
    threads.emplace_back([&, t, share] {
      ready.count_down();
      go.wait();
      for (uint64_t i = 0; i < share; ++i) {
        const int64_t t0 = NowNanos();
        group.Append();
        latencies[t].Record(NowNanos() - t0);
      }
    });
  }
  ready.arrive_and_wait();
  const int64_t start = NowNanos();
  go.count_down();
  for (auto& th : threads) th.join();
  m.seconds = static_cast<double>(NowNanos() - start) / 1e9;
  CAIRN_RETURN_IF_ERROR(group.Stop());
  m.SampleRss();
  for (const Histogram& h : latencies) m.latency.Merge(h);
  m.events = ctx.events;
  m.payload_bytes = ctx.events * kRecordBytes;
  CAIRN_RETURN_IF_ERROR(file->Close());
  (void)env->RemoveFile(path);
  m.Add("writers", std::to_string(writers));
  m.Add("record_bytes", std::to_string(kRecordBytes));
  return m;
}

}  // namespace cairn::bench
