#include "cli/interrupt.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace cairn::cli {

InterruptWatcher::InterruptWatcher() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  wake_fd_ = eventfd(0, EFD_CLOEXEC);
  thread_ = std::thread([this] { Watch(); });
}

InterruptWatcher::~InterruptWatcher() {
  stopping_.store(true);
  // Wakes the watcher's sigwait with a signal directed at its thread alone;
  // harmless when the watcher already returned after a real signal (the
  // thread is not yet joined, so its id is still valid).
  pthread_kill(thread_.native_handle(), SIGTERM);
  thread_.join();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void InterruptWatcher::Attach(Subscription* subscription) {
  std::lock_guard lock(mu_);
  subscription_ = subscription;
  if (subscription_ != nullptr && interrupted_.load()) subscription_->Cancel();
}

void InterruptWatcher::Watch() {
  int signal = 0;
  // sigwait fails only for an invalid set, which signals_ is not.
  if (sigwait(&signals_, &signal) != 0 || stopping_.load()) return;
  std::lock_guard lock(mu_);
  interrupted_.store(true);
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
  }
  if (subscription_ != nullptr) subscription_->Cancel();
}

}  // namespace cairn::cli
