#pragma once
// Catch-up subscriptions over Streams.Read (docs/format/kurrentdb-v1.md,
// "Subscriptions"): the confirmation, history, one `caught_up`, live
// events, `fell_behind` when the subscriber is too slow, checkpoints on
// filtered $all subscriptions; the call ends when the client cancels, on
// an error, or when the server stops (UNAVAILABLE "server is shutting down").
//
// Each subscription is an engine push subscription (Store::SubscribePush:
// dispatcher threads, no thread per subscriber) feeding a bounded queue
// that gRPC drains one write at a time. When the queue is full the
// subscriber is too slow: the push subscription is ended, `fell_behind`
// is queued, and once the client has drained the queue a new push
// subscription resumes from the last event queued, reading history again.
// So a subscriber that stops reading holds at most one queue of memory.

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <mutex>
#include <unordered_set>

#include "cairn/store.h"
#include "server/metrics.h"
#include "server/read_plan.h"
#include "streams.pb.h"

namespace cairn::server {

struct SubscriptionLimits {
  size_t max_queued_messages = 1024;
  size_t max_queued_bytes = 4 * 1024 * 1024;
};

// A live subscription, as the registry sees it. Reference counted: the
// call is deleted when its last holder lets go (gRPC until OnDone, a push
// handler while it runs, EndAll while it ends it).
class EndableCall {
 public:
  virtual ~EndableCall() = default;
  // Ends the call with `status` once its write in flight (if any) is done.
  virtual void End(const grpc::Status& status) = 0;
  virtual void Ref() = 0;
  virtual void Unref() = 0;
};

// The long-lived calls of a server (subscriptions, BatchAppend calls), so
// that stopping it ends them first.
class SubscriptionRegistry {
 public:
  // False once EndAll has begun: the caller ends the call itself.
  bool Add(EndableCall* call);
  // From the call's OnDone, before it lets go of itself.
  void Remove(EndableCall* call);
  // Ends every live subscription with UNAVAILABLE "server is shutting
  // down"; later ones are refused by Add.
  void EndAll();
  // EndAll has begun: the server is stopping, new calls are refused.
  bool stopping() {
    std::lock_guard l(mu_);
    return stopping_;
  }

 private:
  std::mutex mu_;
  bool stopping_ = false;
  std::unordered_set<EndableCall*> live_;
};

// The reactor of a subscription Read (`plan.subscription`), registered in
// `registry`.
grpc::ServerWriteReactor<wire_streams::ReadResp>* NewSubscription(
    Store* store, grpc::CallbackServerContext* ctx, ReadPlan plan, SubscriptionRegistry* registry,
    Metrics* metrics, SubscriptionLimits limits = {});

}  // namespace cairn::server
