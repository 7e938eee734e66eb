#include "src/store/follower.h"

namespace cairn {

namespace {
// A change the watch missed costs at most this long.
constexpr int64_t kSafetyNetMicros = 1'000'000;
}  // namespace

Follower::Follower(Env* env, std::string dir, std::function<void()> on_change)
    : env_(env), dir_(std::move(dir)), on_change_(std::move(on_change)) {}

Follower::~Follower() { Stop(); }

Status Follower::Start() {
  std::lock_guard l(mu_);
  if (thread_.joinable()) return Status::OK();
  // The directory, not HEAD itself: HEAD may not exist yet.
  CAIRN_ASSIGN_OR_RETURN(watch_, env_->WatchDirectory(dir_));
  thread_ = env_->StartThread("cairn-follower", [this, watch = watch_.get()] {
    // A timeout looks as a change would: the safety net.
    while (watch->Wait(kSafetyNetMicros) != DirectoryWatch::Event::kWoken) on_change_();
  });
  return Status::OK();
}

void Follower::Stop() {
  std::lock_guard l(mu_);
  if (!thread_.joinable()) return;
  watch_->Wake();
  thread_.join();
  watch_.reset();
}

}  // namespace cairn
