// Push subscriptions: see src/store/push.h.
#include "src/store/push.h"

#include <chrono>
#include <condition_variable>
#include <optional>

#include "src/store/feed.h"

namespace cairn {

namespace {
// The store whose dispatcher this thread is, and the subscription whose
// handler it is running.
thread_local const Feed* t_dispatcher_of = nullptr;
thread_local const PushHub::Dispatcher* t_dispatcher = nullptr;
thread_local const PushHub::State* t_running = nullptr;
// A dispatcher with nothing to do sleeps until a commit or a poke; this is
// only a safety net.
constexpr int64_t kIdleWaitNanos = 10'000'000'000;
}  // namespace

struct PushHub::State {
  PushHandlers handlers;
  Dispatcher* home = nullptr;
  std::atomic<bool> cancelled{false};
  // For last_position() / last_revision() from any thread: the pull
  // subscription's, copied. last_kind: 0 none yet, 1 position, 2 revision.
  std::atomic<uint8_t> last_kind{0};
  std::atomic<uint64_t> last{0};
  std::mutex run_mu;                   // held while reading and delivering
  std::unique_ptr<Subscription> pull;  // guarded by run_mu; reset when ended
  std::atomic<bool> ended{false};      // set under run_mu
};

struct PushHub::Dispatcher {
  std::mutex mu;
  std::vector<std::shared_ptr<State>> subs;  // guarded by mu
  uint64_t generation = 0;                   // guarded by mu: bumped on change
  bool stop = false;                         // guarded by mu
  std::condition_variable stop_cv;  // Stop sets `stop` (a closing store's dispatcher waits)
  std::atomic<bool> poked{false};
  std::thread thread;
};

namespace {

class PushSubscriptionImpl final : public PushSubscription {
 public:
  PushSubscriptionImpl(std::shared_ptr<PushHub> hub, std::shared_ptr<PushHub::State> state)
      : hub_(std::move(hub)), state_(std::move(state)) {}
  ~PushSubscriptionImpl() override { Cancel(); }

  void Cancel() override {
    if (state_->cancelled.exchange(true)) return;
    // Waiting for a running handler could deadlock when called from its own
    // handler, from another dispatcher (two dispatchers waiting for each
    // other) or from an append callback (a handler may be blocked in an
    // append the callback's thread must complete): there the flag alone
    // stops delivery after the message being handled.
    const bool own_dispatcher = t_dispatcher == nullptr || t_dispatcher == state_->home;
    if (t_running != state_.get() && own_dispatcher && !InAppendCallback()) {
      std::lock_guard wait_for_handler(state_->run_mu);
    }
    hub_->Poke(state_->home);
  }

  std::optional<Position> last_position() const override {
    if (state_->last_kind.load(std::memory_order_acquire) != 1) return std::nullopt;
    return Position(state_->last.load(std::memory_order_acquire));
  }
  std::optional<StreamRevision> last_revision() const override {
    if (state_->last_kind.load(std::memory_order_acquire) != 2) return std::nullopt;
    return StreamRevision(state_->last.load(std::memory_order_acquire));
  }

 private:
  const std::shared_ptr<PushHub> hub_;
  const std::shared_ptr<PushHub::State> state_;
};

// Handlers are called through these: an exception escaping one ends the
// process at once instead of killing the dispatcher half-way.
bool CallOnMessage(const PushHandlers& h, const SubscriptionMessage& m) noexcept {
  return h.on_message(m);
}
void CallOnEnd(const PushHandlers& h, const Status& why) noexcept { h.on_end(why); }

// Ends `s` (its run_mu held): releases the pull subscription and, unless it
// was cancelled, tells the handler why.
void End(PushHub::State* s, const Status& why) {
  s->ended = true;
  s->pull.reset();
  if (!s->cancelled.load() && s->handlers.on_end) {
    t_running = s;
    CallOnEnd(s->handlers, why);
    t_running = nullptr;
  }
}

}  // namespace

PushHub::PushHub(Feed* feed, int threads) : feed_(feed) {
  for (int i = 0; i < threads; ++i) dispatchers_.push_back(std::make_unique<Dispatcher>());
  for (auto& d : dispatchers_) {
    Dispatcher* raw = d.get();
    d->thread = feed_->env()->StartThread("cairn-push", [this, raw] { Run(raw); });
  }
}

PushHub::~PushHub() { Stop(); }

bool PushHub::OnDispatcherOf(const Feed* feed) { return t_dispatcher_of == feed; }

Result<std::unique_ptr<PushSubscription>> PushHub::Add(std::unique_ptr<Subscription> pull,
                                                       PushHandlers handlers) {
  auto state = std::make_shared<State>();
  state->handlers = std::move(handlers);
  state->pull = std::move(pull);
  Dispatcher* d = dispatchers_[next_dispatcher_.fetch_add(1) % dispatchers_.size()].get();
  state->home = d;
  {
    std::lock_guard life(life_mu_);
    if (stopped_) return Status(ErrorCode::kClosed, "store is closed");
    std::lock_guard l(d->mu);
    d->subs.push_back(state);
    ++d->generation;
  }
  Poke(d);
  return std::unique_ptr<PushSubscription>(
      std::make_unique<PushSubscriptionImpl>(shared_from_this(), std::move(state)));
}

void PushHub::Poke(Dispatcher* d) {
  std::lock_guard life(life_mu_);
  if (stopped_) return;
  d->poked.store(true);
  feed_->WakeWaiters();
}

void PushHub::Stop() {
  {
    std::lock_guard life(life_mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  for (auto& d : dispatchers_) {
    std::lock_guard l(d->mu);
    d->stop = true;
    d->poked.store(true);
    d->stop_cv.notify_all();
  }
  feed_->WakeWaiters();
  for (auto& d : dispatchers_) {
    if (d->thread.joinable()) d->thread.join();
  }
}

void PushHub::Run(Dispatcher* d) {
  t_dispatcher_of = feed_;
  t_dispatcher = d;
  std::vector<std::shared_ptr<State>> local;
  std::vector<SubscriptionMessage> page;
  uint64_t seen_generation = UINT64_MAX;
  bool stopping = false;
  for (;;) {
    d->poked.store(false);
    {
      std::unique_lock l(d->mu);
      // Close has begun: reads fail from now on and waits return at once.
      // Deliver nothing more and wait for Stop (Close reaches it after the
      // calls in flight), which ends what is left.
      if (feed_->closing()) d->stop_cv.wait(l, [&] { return d->stop; });
      stopping = d->stop;
      if (d->generation != seen_generation) {
        local = d->subs;
        seen_generation = d->generation;
      }
    }
    // A refresh error reaches each subscription through its own read below.
    const Result<uint64_t> refreshed = feed_->CurrentHead();
    const uint64_t head = refreshed ? *refreshed : feed_->VisibleHead();
    bool progress = false;
    bool removed = false;
    for (const auto& s : local) {
      std::lock_guard rl(s->run_mu);
      if (s->ended) continue;
      if (s->cancelled.load()) {
        End(s.get(), Status(ErrorCode::kCancelled, "subscription cancelled"));
        removed = true;
        continue;
      }
      Result<size_t> got = s->pull->NextBatch(&page, std::chrono::milliseconds(0));
      if (!got) {
        End(s.get(), got.error());
        removed = true;
        continue;
      }
      if (std::optional<Position> p = s->pull->last_position()) {
        s->last.store(p->value(), std::memory_order_release);
        s->last_kind.store(1, std::memory_order_release);
      } else if (std::optional<StreamRevision> r = s->pull->last_revision()) {
        s->last.store(r->value(), std::memory_order_release);
        s->last_kind.store(2, std::memory_order_release);
      }
      if (*got == 0) continue;
      progress = true;
      t_running = s.get();
      bool more = true;
      for (size_t i = 0; i < *got && more && !s->cancelled.load(); ++i) {
        more = CallOnMessage(s->handlers, page[i]);
      }
      t_running = nullptr;
      if (!more) {
        End(s.get(), Status::OK());
        removed = true;
      }
    }
    if (stopping) {
      // Close: whatever is left ends with the error a read now returns.
      for (const auto& s : local) {
        std::lock_guard rl(s->run_mu);
        if (!s->ended) End(s.get(), Status(ErrorCode::kClosed, "store is closed"));
      }
      std::lock_guard l(d->mu);
      d->subs.clear();
      break;
    }
    if (removed) {
      std::lock_guard l(d->mu);
      std::erase_if(d->subs, [](const std::shared_ptr<State>& s) { return s->ended.load(); });
      ++d->generation;
    }
    if (!progress) {
      feed_->WaitPast(head, feed_->env()->MonotonicNanos() + kIdleWaitNanos, &d->poked);
    }
  }
  t_dispatcher_of = nullptr;
  t_dispatcher = nullptr;
}

}  // namespace cairn
