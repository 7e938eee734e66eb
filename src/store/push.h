#pragma once
// PushHub: the dispatcher threads behind Store::SubscribePush. Each push
// subscription wraps a pull Subscription (src/store/subscription.cc), so it
// reads the log the same way, with the same no-gap / no-duplicate switch to
// live; a dispatcher only decides when to read and calls the handlers.
//
// A dispatcher sleeps in Feed::WaitPast (no CPU while nothing is
// written). On a commit it takes one page from each of its subscriptions in
// turn and hands it to that subscription's handler, until none has
// anything new. Locks: a subscription's run_mu is held while it is read and
// its handler runs; a dispatcher's mu guards its list only, never held
// while a handler runs.

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cairn/status.h"
#include "cairn/subscription.h"

namespace cairn {

class Feed;

class PushHub : public std::enable_shared_from_this<PushHub> {
 public:
  // `feed` (the store) must outlive the hub; its threads come from its Env.
  PushHub(Feed* feed, int threads);
  ~PushHub();
  PushHub(const PushHub&) = delete;
  PushHub& operator=(const PushHub&) = delete;

  // Starts delivering `pull`'s messages to `handlers`; kClosed
  // once stopped.
  Result<std::unique_ptr<PushSubscription>> Add(std::unique_ptr<Subscription> pull,
                                                PushHandlers handlers);
  // Store closing: every subscription not cancelled gets on_end (with the
  // store-closed error its read returns), then the threads are joined.
  // After it returns the hub never touches the store again.
  void Stop();
  // Whether the calling thread is one of `feed`'s dispatchers.
  static bool OnDispatcherOf(const Feed* feed);

  struct State;
  struct Dispatcher;
  // Wakes `d` so it notices a new or cancelled subscription (no-op once
  // stopped).
  void Poke(Dispatcher* d);

 private:
  void Run(Dispatcher* d);

  Feed* const feed_;
  std::vector<std::unique_ptr<Dispatcher>> dispatchers_;
  std::atomic<uint64_t> next_dispatcher_{0};
  // Held by Poke while it uses feed_, by Add, and by Stop. Order:
  // run_mu -> life_mu_ -> Dispatcher::mu (a handler subscribing or
  // cancelling holds its run_mu; the full order is in store_impl.h).
  std::mutex life_mu_;
  bool stopped_ = false;  // guarded by life_mu_
};

}  // namespace cairn
