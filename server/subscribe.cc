#include "server/subscribe.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cairn::server {
namespace {

using wire_streams::ReadResp;

const grpc::Status kShuttingDown(grpc::StatusCode::UNAVAILABLE, "server is shutting down");

// A regex RE2 accepts that matches nothing: an empty prefix list.
constexpr char kMatchesNothing[] = "[^\\s\\S]";

google::protobuf::Timestamp Now() {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(ns);
}

class SubscriptionReactor final : public grpc::ServerWriteReactor<ReadResp>, public EndableCall {
 public:
  SubscriptionReactor(Store* store, grpc::CallbackServerContext* ctx, ReadPlan plan,
                      SubscriptionRegistry* registry, Metrics* metrics, SubscriptionLimits limits)
      : store_(store),
        ctx_(ctx),
        plan_(std::move(plan)),
        registry_(registry),
        metrics_(metrics),
        limits_(limits) {
    if (plan_.passes_nothing) {
      plan_.filter = {};
      plan_.filter.stream_regex = kMatchesNothing;
    }
  }

  // Runs once, right after construction, holding a reference of its own.
  void Start() {
    if (!plan_.all) {
      // A tombstoned stream fails before the confirmation.
      auto info = store_->GetStreamInfo(plan_.stream);
      if (!info && info.error().code() != ErrorCode::kNotFound) {
        EndWith(ErrorToGrpc(info.error(), {.stream = plan_.stream}, ctx_));
        return;
      }
    }
    std::optional<uint64_t> start;  // from END: the revision or position it starts after
    if (plan_.from_end_forwards) {
      if (plan_.all) {
        auto head = store_->HeadPosition();
        if (head && head->value() > 0) start = head->value() - 1;
      } else if (auto info = store_->GetStreamInfo(plan_.stream)) {
        start = info->last_revision.value();
      }
    }
    {
      std::lock_guard l(mu_);
      start_after_ = plan_.from ? plan_.from : start;
      Queue().mutable_confirmation()->set_subscription_id(Uuid::Random().ToString());
    }
    if (!registry_->Add(this)) {
      EndWith(kShuttingDown);
      return;
    }
    metrics_->SubscriptionStarted();
    counted_ = true;
    Subscribe();
    Pump();
  }

  void OnWriteDone(bool ok) override {
    std::unique_ptr<PushSubscription> old;
    bool resubscribe = false;
    {
      std::lock_guard l(mu_);
      writing_ = false;
      if (queue_.front().has_event()) queued_bytes_ -= queue_.front().ByteSizeLong();
      queue_.pop_front();
      if (!ok) {
        // The client went away; OnCancel (or the failed write) ends it.
        if (!end_) end_ = grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
        DropQueued();
      } else if (queue_.empty() && behind_ && !end_) {
        // Drained after falling behind: read history again from the last
        // event queued.
        behind_ = false;
        resubscribe = true;
        old = std::move(push_);
      }
    }
    if (old) old->Cancel();
    if (resubscribe) Subscribe();
    Pump();
  }

  void OnCancel() override {
    {
      std::lock_guard l(mu_);
      if (!end_) end_ = grpc::Status(grpc::StatusCode::CANCELLED, "the subscription was cancelled");
      DropQueued();
    }
    StopPush();
    Pump();
  }

  void OnDone() override {
    StopPush();
    registry_->Remove(this);
    if (counted_) metrics_->SubscriptionEnded();
    Unref();
  }

  void End(const grpc::Status& status) override {
    {
      std::lock_guard l(mu_);
      if (!end_) end_ = status;
    }
    StopPush();
    Pump();
  }

  void Ref() override { refs_.fetch_add(1); }
  void Unref() override {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

 private:
  // Starts (or restarts) the push subscription after the last event queued.
  void Subscribe() {
    SubscribeOptions o =
        plan_.all ? SubscribeOptions::All() : SubscribeOptions::Stream(plan_.stream);
    o.filter = plan_.filter;
    o.checkpoint_interval = plan_.filtered ? plan_.checkpoint_interval : 0;
    // A page fits the queue: history is read no faster than it is sent.
    o.page_events = std::max<uint64_t>(1, limits_.max_queued_messages / 2);
    uint64_t generation = 0;
    {
      std::lock_guard l(mu_);
      if (end_) return;
      generation = ++generation_;
      if (plan_.all && last_position_) {
        o.after = Position(*last_position_);
      } else if (!plan_.all && last_revision_) {
        o.after_revision = StreamRevision(*last_revision_);
      } else if (plan_.from_end_forwards) {
        o.from_end = true;
      } else if (plan_.from) {
        if (plan_.all) {
          o.after = Position(*plan_.from);
        } else {
          o.after_revision = StreamRevision(*plan_.from);
        }
      }
      // Later restarts resume from what was queued, never from `end`.
      plan_.from_end_forwards = false;
    }
    PushHandlers h;
    h.on_message = [this, generation](const SubscriptionMessage& m) {
      Ref();
      const bool more = OnMessage(m, generation);
      Unref();
      return more;
    };
    h.on_end = [this, generation](const Status& s) {
      Ref();
      OnEnd(s, generation);
      Unref();
    };
    auto push = store_->SubscribePush(o, std::move(h));
    if (!push) {
      {
        std::lock_guard l(mu_);
        if (!end_) end_ = ErrorToGrpc(push.error(), {.stream = plan_.stream}, ctx_);
      }
      Pump();
      return;
    }
    bool ended = false;
    {
      std::lock_guard l(mu_);
      ended = end_.has_value() || stopped_;
      if (!ended) push_ = std::move(*push);
    }
    if (ended) (*push)->Cancel();  // OnCancel, End or OnDone came meanwhile
  }

  // Cancels the push subscription (waiting for a handler running on
  // another thread) and refuses later ones.
  void StopPush() {
    std::unique_ptr<PushSubscription> push;
    {
      std::lock_guard l(mu_);
      stopped_ = true;
      push = std::move(push_);
    }
    if (push) push->Cancel();
  }

  // A dispatcher thread's message. False ends this push subscription.
  bool OnMessage(const SubscriptionMessage& m, uint64_t generation) {
    {
      std::lock_guard l(mu_);
      if (generation != generation_ || end_ || behind_) return false;
      switch (m.kind) {
        case SubscriptionMessage::Kind::kEvent:
          QueueEvent(m.event);
          break;
        case SubscriptionMessage::Kind::kCaughtUp:
          if (plan_.filtered) {
            // Every position below the head has been considered.
            if (plan_.all && m.position.value() > 0 &&
                (!last_position_ || *last_position_ < m.position.value() - 1)) {
              last_position_ = m.position.value() - 1;
            }
            QueueCheckpoint(last_position_);
          }
          Live(Queue().mutable_caught_up());
          live_ = true;
          break;
        case SubscriptionMessage::Kind::kFellBehind:
          if (live_) {
            Live(Queue().mutable_fell_behind());
            if (plan_.filtered) QueueCheckpoint(last_position_);
          }
          live_ = false;
          break;
        case SubscriptionMessage::Kind::kCheckpoint:
          if (plan_.filtered) {
            last_position_ = m.position.value();
            QueueCheckpoint(last_position_);
          }
          break;
      }
      if (queue_.size() > limits_.max_queued_messages || queued_bytes_ > limits_.max_queued_bytes) {
        // Too slow (or catching up faster than the client reads): read
        // history again once the client has read what is queued. Only a
        // subscriber that was live falls behind.
        behind_ = true;
        if (live_) {
          Live(Queue().mutable_fell_behind());
          if (plan_.filtered) QueueCheckpoint(last_position_);
        }
        live_ = false;
      }
    }
    Pump();
    std::lock_guard l(mu_);
    return !behind_ && generation == generation_;
  }

  void OnEnd(const Status& s, uint64_t generation) {
    {
      std::lock_guard l(mu_);
      if (s.ok() || generation != generation_ || end_) return;
      end_ = ErrorToGrpc(s, {.stream = plan_.stream}, ctx_);
    }
    Pump();
  }

  // Starts the next write, or finishes once everything queued is written
  // and an end is due. Called with no lock held; touches nothing after
  // StartWrite or Finish (either may run reactions inline).
  void Pump() {
    ReadResp* next = nullptr;
    std::optional<grpc::Status> finish;
    {
      std::lock_guard l(mu_);
      if (finished_ || writing_) return;
      if (!queue_.empty() && !(end_ && end_->error_code() == grpc::StatusCode::CANCELLED)) {
        writing_ = true;
        next = &queue_.front();
      } else if (end_) {
        finished_ = true;
        finish = end_;
      }
    }
    if (next) {
      StartWrite(next);
    } else if (finish) {
      Finish(*finish);
    }
  }

  // Finishes at once (Start's failures, before anything was queued).
  void EndWith(const grpc::Status& status) {
    {
      std::lock_guard l(mu_);
      if (!end_) end_ = status;
      DropQueued();
    }
    Pump();
  }

  // Drops what is queued but not being written (a write in flight keeps
  // its message until its OnWriteDone). Called with mu_ held.
  void DropQueued() {
    while (queue_.size() > (writing_ ? 1u : 0u)) queue_.pop_back();
    queued_bytes_ = 0;
    if (writing_ && queue_.front().has_event()) queued_bytes_ = queue_.front().ByteSizeLong();
  }

  // Appends a message to the queue. Called with mu_ held; the caller sets it.
  ReadResp& Queue() { return queue_.emplace_back(); }

  void QueueEvent(const RecordedEvent& e) {
    ReadResp& r = Queue();
    auto* ev = r.mutable_event();
    EventView v;
    v.stream = e.stream;
    v.revision = e.revision;
    v.position = e.position;
    v.id = e.id;
    v.type = e.type;
    v.content_type = e.content_type;
    v.data = e.data;
    v.metadata = e.metadata;
    v.created_ns = e.created_ns;
    EventToWire(v, plan_.structured_ids, ev->mutable_event());
    ev->set_commit_position(e.position.value());
    queued_bytes_ += r.ByteSizeLong();
    metrics_->EventsDelivered(1);
    last_revision_ = e.revision.value();
    last_position_ = e.position.value();
    if (plan_.filtered && ++considered_ >= plan_.checkpoint_interval) {
      QueueCheckpoint(last_position_);
    }
  }

  void QueueCheckpoint(std::optional<uint64_t> position) {
    considered_ = 0;
    if (!position) return;
    auto* c = Queue().mutable_checkpoint();
    c->set_commit_position(*position);
    c->set_prepare_position(*position);
    *c->mutable_timestamp() = Now();
  }

  // Fills caught_up / fell_behind (same fields) with where the subscriber is.
  template <typename Msg>
  void Live(Msg* m) {
    *m->mutable_timestamp() = Now();
    if (plan_.all) {
      const std::optional<uint64_t> p = last_position_ ? last_position_ : start_after_;
      if (p) {
        m->mutable_position()->set_commit_position(*p);
        m->mutable_position()->set_prepare_position(*p);
      }
    } else if (last_revision_) {
      m->set_stream_revision(static_cast<int64_t>(*last_revision_));
    } else if (start_after_) {
      m->set_stream_revision(static_cast<int64_t>(*start_after_));
    }
  }

  Store* const store_;
  grpc::CallbackServerContext* const ctx_;
  ReadPlan plan_;
  SubscriptionRegistry* const registry_;
  Metrics* const metrics_;
  const SubscriptionLimits limits_;
  bool counted_ = false;      // counted as started (Start thread, then OnDone)
  std::atomic<int> refs_{2};  // gRPC's until OnDone, and Start's caller's

  std::mutex mu_;  // guards the fields below; never held while calling gRPC or the store
  std::deque<ReadResp> queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;             // queue_.front() is being written
  bool finished_ = false;            // Finish was called
  bool behind_ = false;              // the push subscription ended for a full queue
  bool stopped_ = false;             // no push subscription may start any more
  std::optional<grpc::Status> end_;  // how the call ends once the queue is written
  std::unique_ptr<PushSubscription> push_;
  uint64_t generation_ = 0;                // of the current push subscription
  std::optional<uint64_t> last_revision_;  // of the last event queued (stream)
  std::optional<uint64_t> last_position_;  // of the last event or checkpoint queued
  uint64_t considered_ = 0;                // since the last checkpoint (filtered)
  bool live_ = false;                      // caught_up sent, and no fell_behind since
  std::optional<uint64_t> start_after_;    // the start point, when there is one
};

}  // namespace

bool SubscriptionRegistry::Add(EndableCall* call) {
  std::lock_guard l(mu_);
  if (stopping_) return false;
  live_.insert(call);
  return true;
}

void SubscriptionRegistry::Remove(EndableCall* call) {
  std::lock_guard l(mu_);
  live_.erase(call);
}

void SubscriptionRegistry::EndAll() {
  std::vector<EndableCall*> calls;
  {
    std::lock_guard l(mu_);
    stopping_ = true;
    for (EndableCall* c : live_) {
      c->Ref();  // still registered: its OnDone has not let go yet
      calls.push_back(c);
    }
  }
  for (EndableCall* c : calls) {
    c->End(kShuttingDown);
    c->Unref();
  }
}

grpc::ServerWriteReactor<ReadResp>* NewSubscription(Store* store, grpc::CallbackServerContext* ctx,
                                                    ReadPlan plan, SubscriptionRegistry* registry,
                                                    Metrics* metrics, SubscriptionLimits limits) {
  auto* r = new SubscriptionReactor(store, ctx, std::move(plan), registry, metrics, limits);
  r->Start();
  r->Unref();  // Start's reference; gRPC's stays until OnDone
  return r;
}

}  // namespace cairn::server
