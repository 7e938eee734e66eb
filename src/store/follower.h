#pragma once
// Follower: in a read-only process, a thread that watches the store's
// directory (Env::WatchDirectory) and calls `on_change` whenever its
// writer changed a file there (HEAD after each commit) and, as a safety
// net, once a second, so that waiting subscriptions learn of the writer's
// commits without polling.
//
// Thread safety: Start and Stop may be called from any thread but
// on_change's; on_change runs on the follower's own thread.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cairn/env.h"
#include "cairn/status.h"

namespace cairn {

class Follower {
 public:
  Follower(Env* env, std::string dir, std::function<void()> on_change);
  ~Follower();  // Stop
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Starts watching (once; OK when already started). The watch's error
  // (Env::WatchDirectory, naming the directory) when there is none;
  // nothing is started then.
  Status Start();
  // Stops the thread and waits for it (an on_change running completes
  // first). Idempotent.
  void Stop();

 private:
  Env* const env_;
  const std::string dir_;
  const std::function<void()> on_change_;
  // Guards the fields below. Stop joins the thread while holding it, so
  // on_change must never take it (it never calls Start or Stop); Start
  // calls Env::WatchDirectory and Env::StartThread under it, so an Env
  // must not call back into the store there.
  std::mutex mu_;
  std::unique_ptr<DirectoryWatch> watch_;  // guarded by mu_
  std::thread thread_;                     // guarded by mu_
};

}  // namespace cairn
