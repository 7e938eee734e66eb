#pragma once
// FaultInjectionEnv: wraps a real Env and simulates the failures a store must
// survive: a failed write or fsync (any errno, e.g. EIO or ENOSPC), a torn
// write (a prefix of the bytes reaches the disk, then the machine dies), and
// power loss (every byte not covered by a completed Sync is lost).
//
// Thread-safe: all state is guarded by mu_.

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cairn/env.h"

namespace cairn {

class FaultInjectionEnv final : public Env {
 public:
  explicit FaultInjectionEnv(Env* base) : base_(base) {}

  // The n-th next Append (1 = the very next) fails with `err`; nothing of it
  // is written.
  void FailAppendAt(int n, int err);
  // The n-th next Sync fails with `err`. Bytes it should have made durable
  // stay unsynced (power loss drops them).
  void FailSyncAt(int n, int err);
  // The n-th next Append writes only its first `keep` bytes, which are then
  // treated as durable (they reached the platter), and fails with EIO; from
  // then on every write and sync fails, as on a machine going down.
  void TearAppendAt(int n, size_t keep);
  // Every Sync of a file whose path contains `part` fails with `err` until
  // ClearFaults (a persistently failing disk region).
  void FailSyncsOf(const std::string& part, int err);
  // Every Preallocate and WriteZeros fails with `err` (0: they work again)
  // until ClearFaults; a failing WriteZeros first writes half of the zeros
  // asked for, as a disk filling up part-way would leave them.
  void FailReservations(int err);
  // LinkFile answers "cannot link" (false, as for a file on another file
  // system) while set, so callers take their copying path; until
  // ClearFaults.
  void FailLinks(bool fail);
  // Every write and sync fails with EIO (true) or works again (false).
  void SetDown(bool down);
  // Power loss: truncates every file written through this Env to the size
  // it had at its last completed Sync. Call with no store open.
  Status DropUnsyncedData();
  // Clears pending faults and the down flag (not the unsynced tracking).
  void ClearFaults();
  bool IsDown() const;
  // Moves the wall clock (NowNanos) forward by `ns` (tests of time rules).
  void AdvanceClock(int64_t ns) { clock_offset_ns_ += ns; }
  // From now on WatchDirectory gives simulated watches: they report a
  // change only when NotifyDirectoryWatches is called, and never time out
  // (the simulated clock does not move by itself), so a test decides when
  // a follower learns of its writer's commits.
  void SimulateDirectoryWatches();
  // Every simulated watch reports one change at its next Wait.
  void NotifyDirectoryWatches();
  // Names of the threads started through this Env, in order, and how many
  // of them are still running.
  std::vector<std::string> threads_started() const;
  int threads_running() const { return threads_running_.load(); }
  int appends() const;
  int syncs() const;
  // Calls of Preallocate and of WriteZeros on files of this Env (how the
  // log reserved space) that asked for space past the file's append point.
  int preallocations() const { return preallocations_.load(); }
  int zero_fills() const { return zero_fills_.load(); }

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override {
    return base_->OpenRandomAccess(path);
  }
  Result<std::unique_ptr<MappedFile>> MapFile(const std::string& path, uint64_t length,
                                              bool random_access) override {
    return base_->MapFile(path, length, random_access);
  }
  Status WriteFileAtomic(const std::string& path, std::string_view data) override;
  Result<std::string> ReadFile(const std::string& path) override { return base_->ReadFile(path); }
  Status WriteAt(const std::string& path, uint64_t offset, std::string_view data) override {
    return base_->WriteAt(path, offset, data);
  }
  Status CreateDirs(const std::string& path) override { return base_->CreateDirs(path); }
  Status SyncDir(const std::string& path) override;
  Result<bool> FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Result<bool> LinkFile(const std::string& from, const std::string& to) override;
  Status RemoveDir(const std::string& path) override { return base_->RemoveDir(path); }
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  Result<std::string> FileIdentity(const std::string& path) override {
    return base_->FileIdentity(path);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }
  int64_t NowNanos() override { return base_->NowNanos() + clock_offset_ns_.load(); }
  int64_t MonotonicNanos() override { return base_->MonotonicNanos(); }
  void SleepForMicroseconds(int64_t micros) override { base_->SleepForMicroseconds(micros); }
  Result<std::unique_ptr<DirectoryWatch>> WatchDirectory(const std::string& path) override;
  std::thread StartThread(std::string name, std::function<void()> body) override;

  // What simulated watches share: a count of notifications.
  struct WatchHub {
    std::mutex mu;
    std::condition_variable cv;
    uint64_t notifications = 0;  // guarded by mu
  };

 private:
  friend class FaultWritableFile;
  enum class AppendFault { kNone, kFail, kTear };
  // Decides the fate of one append: returns the fault and its errno/keep.
  AppendFault NextAppend(int* err, size_t* keep);
  // Returns 0 or the errno the next sync must fail with.
  int NextSync(const std::string& path = "");
  void OnSynced(const std::string& path, uint64_t size);
  void OnDurableSize(const std::string& path, uint64_t size);
  int ReservationFault() const;

  Env* const base_;
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> synced_size_;  // guarded by mu_
  // The file's length at that sync (>= synced_size_: space reserved with
  // fallocate is durable once synced, and reads back as zeros).
  std::map<std::string, uint64_t> synced_length_;  // guarded by mu_
  int appends_ = 0;                                // guarded by mu_
  int syncs_ = 0;                                  // guarded by mu_
  int fail_append_at_ = 0, fail_append_err_ = 0;   // guarded by mu_
  int fail_sync_at_ = 0, fail_sync_err_ = 0;       // guarded by mu_
  int tear_at_ = 0;                                // guarded by mu_
  size_t tear_keep_ = 0;                           // guarded by mu_
  bool down_ = false;                              // guarded by mu_
  std::string fail_syncs_of_;                      // guarded by mu_
  int fail_syncs_of_err_ = 0;                      // guarded by mu_
  int fail_reservations_err_ = 0;                  // guarded by mu_
  bool fail_links_ = false;                        // guarded by mu_
  bool simulate_watches_ = false;                  // guarded by mu_
  std::vector<std::string> threads_started_;       // guarded by mu_
  std::atomic<int> threads_running_{0};
  const std::shared_ptr<WatchHub> watch_hub_ = std::make_shared<WatchHub>();
  std::atomic<int64_t> clock_offset_ns_{0};
  std::atomic<int> preallocations_{0};
  std::atomic<int> zero_fills_{0};
};

}  // namespace cairn
