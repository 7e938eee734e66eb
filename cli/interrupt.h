#pragma once
// InterruptWatcher: turns SIGINT and SIGTERM into a cancelled subscription,
// so a following command (`cairn tail`) stops cleanly and exits 0.
//
// Subscription::Cancel() is thread-safe but not async-signal-safe, so no
// signal handler is installed: the constructor blocks both signals in the
// calling thread (every thread started afterwards, including the engine's,
// inherits the mask) and a watcher thread takes them with sigwait(), then
// cancels the attached subscription from ordinary thread context.
//
// Thread safety: construct, Attach() and destroy on one thread; interrupted()
// from any thread. Construct it before the Store is opened, so the engine's
// threads start with the signals blocked and none of them is killed by one.

#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "cairn/subscription.h"

namespace cairn::cli {

class InterruptWatcher {
 public:
  // Blocks SIGINT and SIGTERM and starts the watcher thread. The signals
  // stay blocked after destruction: the process is about to exit, and
  // unblocking would let a second Ctrl-C kill it with status 130.
  InterruptWatcher();
  // Stops the watcher thread. Detach (Attach(nullptr)) or destroy the
  // watcher before destroying the attached subscription.
  ~InterruptWatcher();
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;

  // The subscription to cancel on a signal (borrowed; nullptr detaches).
  // When a signal already came, cancels `subscription` at once.
  void Attach(Subscription* subscription);

  // True once SIGINT or SIGTERM arrived.
  bool interrupted() const { return interrupted_.load(); }

  // A descriptor that becomes readable once SIGINT or SIGTERM arrived (an
  // eventfd), so that a thread blocked reading its input can poll it too;
  // valid until destruction.
  int wake_fd() const { return wake_fd_; }

 private:
  void Watch();

  sigset_t signals_;
  int wake_fd_ = -1;
  std::atomic<bool> interrupted_{false};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  Subscription* subscription_ = nullptr;  // guarded by mu_
  std::thread thread_;
};

}  // namespace cairn::cli
