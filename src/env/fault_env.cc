#include "src/env/fault_env.h"

#include <algorithm>
#include <cerrno>

namespace cairn {

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionEnv* env, std::unique_ptr<WritableFile> base)
      : env_(env), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    int err = 0;
    size_t keep = 0;
    switch (env_->NextAppend(&err, &keep)) {
      case FaultInjectionEnv::AppendFault::kNone:
        return base_->Append(data);
      case FaultInjectionEnv::AppendFault::kFail:
        return Status::FromErrno(err, "write (injected)", base_->path());
      case FaultInjectionEnv::AppendFault::kTear: {
        if (keep > data.size()) keep = data.size();
        Status s = base_->Append(data.substr(0, keep));
        if (s.ok()) s = base_->Sync();
        if (s.ok()) env_->OnDurableSize(base_->path(), base_->Size());
        return Status::FromErrno(EIO, "write (injected torn write)", base_->path());
      }
    }
    return Status::OK();
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    if (env_->IsDown()) return Status::FromErrno(EIO, "write (injected)", base_->path());
    return base_->WriteAt(offset, data);
  }
  Status Sync() override {
    int err = env_->NextSync(base_->path());
    if (err != 0) return Status::FromErrno(err, "fdatasync (injected)", base_->path());
    Status s = base_->Sync();
    if (s.ok()) env_->OnSynced(base_->path(), base_->Size());
    return s;
  }
  Status Truncate(uint64_t size) override {
    if (env_->IsDown()) return Status::FromErrno(EIO, "truncate (injected)", base_->path());
    return base_->Truncate(size);
  }
  // Reserved blocks hold no data: power loss (DropUnsyncedData) cuts the
  // file back to its last synced appended size, reservation included.
  Status Preallocate(uint64_t size) override {
    if (env_->IsDown()) return Status::FromErrno(EIO, "fallocate (injected)", base_->path());
    if (size > base_->Size()) ++env_->preallocations_;
    if (int err = env_->ReservationFault(); err != 0) {
      return Status::FromErrno(err, "fallocate (injected)", base_->path());
    }
    return base_->Preallocate(size);
  }
  // Written zeros are modelled like a reservation: durable once synced.
  Status WriteZeros(uint64_t size) override {
    if (env_->IsDown()) return Status::FromErrno(EIO, "write (injected)", base_->path());
    if (size > base_->Size()) ++env_->zero_fills_;
    if (int err = env_->ReservationFault(); err != 0) {
      if (size > base_->Size()) (void)base_->WriteZeros(base_->Size() + (size - base_->Size()) / 2);
      return Status::FromErrno(err, "write (injected)", base_->path());
    }
    return base_->WriteZeros(size);
  }
  // Writeback without a sync makes nothing durable in this model either.
  void StartSync() override {
    if (!env_->IsDown()) base_->StartSync();
  }
  Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectionEnv* env_;
  std::unique_ptr<WritableFile> base_;
};

void FaultInjectionEnv::FailAppendAt(int n, int err) {
  std::lock_guard l(mu_);
  fail_append_at_ = n;
  fail_append_err_ = err;
}
void FaultInjectionEnv::FailSyncAt(int n, int err) {
  std::lock_guard l(mu_);
  fail_sync_at_ = n;
  fail_sync_err_ = err;
}
void FaultInjectionEnv::TearAppendAt(int n, size_t keep) {
  std::lock_guard l(mu_);
  tear_at_ = n;
  tear_keep_ = keep;
}
void FaultInjectionEnv::SetDown(bool down) {
  std::lock_guard l(mu_);
  down_ = down;
}
namespace {

// A watch that sees what NotifyDirectoryWatches announces, and nothing else.
class SimulatedWatch final : public DirectoryWatch {
 public:
  explicit SimulatedWatch(std::shared_ptr<FaultInjectionEnv::WatchHub> hub) : hub_(std::move(hub)) {
    std::lock_guard l(hub_->mu);
    seen_ = hub_->notifications;
  }
  Event Wait(int64_t /*timeout_micros: simulated time stands still*/) override {
    std::unique_lock l(hub_->mu);
    hub_->cv.wait(l, [&] { return woken_ || hub_->notifications != seen_; });
    if (woken_) return Event::kWoken;
    seen_ = hub_->notifications;
    return Event::kChanged;
  }
  void Wake() override {
    {
      std::lock_guard l(hub_->mu);
      woken_ = true;
    }
    hub_->cv.notify_all();
  }

 private:
  const std::shared_ptr<FaultInjectionEnv::WatchHub> hub_;
  uint64_t seen_ = 0;   // guarded by hub_->mu
  bool woken_ = false;  // guarded by hub_->mu
};

}  // namespace

void FaultInjectionEnv::SimulateDirectoryWatches() {
  std::lock_guard l(mu_);
  simulate_watches_ = true;
}

void FaultInjectionEnv::NotifyDirectoryWatches() {
  {
    std::lock_guard l(watch_hub_->mu);
    ++watch_hub_->notifications;
  }
  watch_hub_->cv.notify_all();
}

Result<std::unique_ptr<DirectoryWatch>> FaultInjectionEnv::WatchDirectory(const std::string& path) {
  {
    std::lock_guard l(mu_);
    if (simulate_watches_) return std::unique_ptr<DirectoryWatch>(new SimulatedWatch(watch_hub_));
  }
  return base_->WatchDirectory(path);
}

std::thread FaultInjectionEnv::StartThread(std::string name, std::function<void()> body) {
  {
    std::lock_guard l(mu_);
    threads_started_.push_back(name);
  }
  threads_running_.fetch_add(1);
  return base_->StartThread(std::move(name), [this, body = std::move(body)] {
    body();
    threads_running_.fetch_sub(1);
  });
}

std::vector<std::string> FaultInjectionEnv::threads_started() const {
  std::lock_guard l(mu_);
  return threads_started_;
}

void FaultInjectionEnv::ClearFaults() {
  std::lock_guard l(mu_);
  fail_append_at_ = fail_sync_at_ = tear_at_ = 0;
  down_ = false;
  fail_syncs_of_.clear();
  fail_reservations_err_ = 0;
  fail_links_ = false;
}
void FaultInjectionEnv::FailLinks(bool fail) {
  std::lock_guard l(mu_);
  fail_links_ = fail;
}
void FaultInjectionEnv::FailReservations(int err) {
  std::lock_guard l(mu_);
  fail_reservations_err_ = err;
}
int FaultInjectionEnv::ReservationFault() const {
  std::lock_guard l(mu_);
  return fail_reservations_err_;
}
bool FaultInjectionEnv::IsDown() const {
  std::lock_guard l(mu_);
  return down_;
}
int FaultInjectionEnv::appends() const {
  std::lock_guard l(mu_);
  return appends_;
}
int FaultInjectionEnv::syncs() const {
  std::lock_guard l(mu_);
  return syncs_;
}

FaultInjectionEnv::AppendFault FaultInjectionEnv::NextAppend(int* err, size_t* keep) {
  std::lock_guard l(mu_);
  ++appends_;
  if (down_) {
    *err = EIO;
    return AppendFault::kFail;
  }
  if (fail_append_at_ > 0 && --fail_append_at_ == 0) {
    *err = fail_append_err_;
    return AppendFault::kFail;
  }
  if (tear_at_ > 0 && --tear_at_ == 0) {
    *keep = tear_keep_;
    down_ = true;
    return AppendFault::kTear;
  }
  return AppendFault::kNone;
}

void FaultInjectionEnv::FailSyncsOf(const std::string& part, int err) {
  std::lock_guard l(mu_);
  fail_syncs_of_ = part;
  fail_syncs_of_err_ = err;
}

int FaultInjectionEnv::NextSync(const std::string& path) {
  std::lock_guard l(mu_);
  ++syncs_;
  if (down_) return EIO;
  if (!fail_syncs_of_.empty() && path.find(fail_syncs_of_) != std::string::npos) {
    return fail_syncs_of_err_;
  }
  if (fail_sync_at_ > 0 && --fail_sync_at_ == 0) return fail_sync_err_;
  return 0;
}

void FaultInjectionEnv::OnSynced(const std::string& path, uint64_t size) {
  auto length = base_->FileSize(path);
  std::lock_guard l(mu_);
  synced_size_[path] = size;
  synced_length_[path] = length ? std::max(*length, size) : size;
}
void FaultInjectionEnv::OnDurableSize(const std::string& path, uint64_t size) {
  OnSynced(path, size);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::OpenWritable(const std::string& path) {
  auto f = base_->OpenWritable(path);
  if (!f) return f.error();
  {
    std::lock_guard l(mu_);
    // Bytes present when the file is opened are taken as durable.
    if (!synced_size_.count(path)) synced_size_[path] = synced_length_[path] = (*f)->Size();
  }
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, std::move(*f)));
}

Status FaultInjectionEnv::WriteFileAtomic(const std::string& path, std::string_view data) {
  {
    std::lock_guard l(mu_);
    if (down_) return Status::FromErrno(EIO, "write (injected)", path);
    ++syncs_;
    if (fail_sync_at_ > 0 && --fail_sync_at_ == 0) {
      return Status::FromErrno(fail_sync_err_, "fdatasync (injected)", path);
    }
    if (!fail_syncs_of_.empty() && path.find(fail_syncs_of_) != std::string::npos) {
      return Status::FromErrno(fail_syncs_of_err_, "fdatasync (injected)", path);
    }
  }
  Status s = base_->WriteFileAtomic(path, data);
  if (s.ok()) OnSynced(path, data.size());
  return s;
}

Status FaultInjectionEnv::SyncDir(const std::string& path) {
  if (int err = NextSync(); err != 0) return Status::FromErrno(err, "fsync dir (injected)", path);
  return base_->SyncDir(path);
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  {
    std::lock_guard l(mu_);
    synced_size_.erase(path);
    synced_length_.erase(path);
  }
  return base_->RemoveFile(path);
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  Status s = base_->RenameFile(from, to);
  if (s.ok()) {
    std::lock_guard l(mu_);
    auto it = synced_size_.find(from);
    if (it != synced_size_.end()) {
      synced_size_[to] = it->second;
      synced_size_.erase(it);
    }
  }
  return s;
}

Result<bool> FaultInjectionEnv::LinkFile(const std::string& from, const std::string& to) {
  {
    std::lock_guard l(mu_);
    if (down_) return Status::FromErrno(EIO, "link (injected)", from);
    if (fail_links_) return false;
  }
  return base_->LinkFile(from, to);
}

Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size) {
  if (IsDown()) return Status::FromErrno(EIO, "truncate (injected)", path);
  Status s = base_->TruncateFile(path, size);
  if (s.ok()) {
    std::lock_guard l(mu_);
    auto it = synced_size_.find(path);
    if (it != synced_size_.end() && it->second > size) it->second = size;
  }
  return s;
}

Status FaultInjectionEnv::DropUnsyncedData() {
  std::map<std::string, uint64_t> sizes, lengths;
  {
    std::lock_guard l(mu_);
    sizes = synced_size_;
    lengths = synced_length_;
  }
  for (const auto& [path, synced] : sizes) {
    auto exists = base_->FileExists(path);
    if (!exists) return exists.error();
    if (!*exists) continue;
    auto size = base_->FileSize(path);
    if (!size) return size.error();
    // Bytes written since the last sync are lost; space reserved before it
    // stays, reading as zeros (what a file system does with fallocate).
    if (*size > synced) CAIRN_RETURN_IF_ERROR(base_->TruncateFile(path, synced));
    auto length = lengths.find(path);
    if (length != lengths.end() && length->second > synced) {
      CAIRN_RETURN_IF_ERROR(base_->TruncateFile(path, length->second));
    }
  }
  return Status::OK();
}

}  // namespace cairn
