// StoreImpl as the Feed of its subscriptions (feed.h), the waiting they
// rely on (commits wake waiters through head_cv_; in a read-only process
// the follower refreshes from the writer first), and the two Subscribe
// entry points.
#include <chrono>

#include "src/store/push.h"
#include "src/store/store_impl.h"

namespace cairn {

Result<uint64_t> StoreImpl::CurrentHead() {
  CAIRN_ASSIGN_OR_RETURN(const Position head, HeadPosition());
  return head.value();
}

Status StoreImpl::ScanRange(uint64_t from, uint64_t to, const EventVisitor& visit) {
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  SwapReadLock swap(swap_mu_);
  return ScanAll(from, to, visit);
}

Status StoreImpl::ScanTaggedRange(const std::string& tag, uint64_t from, uint64_t to,
                                  const EventMatcher& matcher, const EventVisitor& visit) {
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  SwapReadLock swap(swap_mu_);
  return ReadTagged(tag, /*forwards=*/true, from, to, &matcher, visit);
}

void StoreImpl::WakeWaiters() {
  { std::lock_guard l(head_mu_); }
  head_cv_.notify_all();
}

void StoreImpl::WaitPast(uint64_t head, int64_t deadline_ns, const std::atomic<bool>* cancelled) {
  std::unique_lock l(head_mu_);
  head_waiters_.fetch_add(1, std::memory_order_seq_cst);
  while (visible_.load(std::memory_order_seq_cst) <= head && !closing_.load() &&
         !(cancelled != nullptr && cancelled->load())) {
    const int64_t left = deadline_ns - env_->MonotonicNanos();
    if (left <= 0) break;
    head_cv_.wait_for(l, std::chrono::nanoseconds(left));
  }
  head_waiters_.fetch_sub(1, std::memory_order_seq_cst);
}

Status StoreImpl::Follow() {
  if (!options_.read_only) return Status::OK();
  return recovery_.follower().Start();
}

void StoreImpl::OnWriterChanged() {
  if (head_waiters_.load() > 0 && !closed_.load()) {
    (void)recovery_.Refresh();  // a failure reaches each subscription through its own read
    WakeWaiters();
  }
}

Result<std::unique_ptr<Subscription>> StoreImpl::Subscribe(const SubscribeOptions& options) {
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  return NewSubscription(this, options);
}

Result<std::unique_ptr<PushSubscription>> StoreImpl::SubscribePush(const SubscribeOptions& options,
                                                                   PushHandlers handlers) {
  if (!handlers.on_message) {
    return Status::InvalidArgument("a push subscription needs an on_message handler");
  }
  // Held until the subscription is with a dispatcher: Close then ends it.
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Subscription> pull, NewSubscription(this, options));
  std::shared_ptr<PushHub> hub;
  {
    std::lock_guard l(push_mu_);
    if (closed_.load()) return Status(ErrorCode::kClosed, "store is closed");
    if (!push_) push_ = std::make_shared<PushHub>(static_cast<Feed*>(this), options_.push_threads);
    hub = push_;
  }
  return hub->Add(std::move(pull), std::move(handlers));
}

void StoreImpl::StopPush() {
  std::shared_ptr<PushHub> hub;
  {
    std::lock_guard l(push_mu_);
    hub = push_;
  }
  if (hub) hub->Stop();
}

}  // namespace cairn
