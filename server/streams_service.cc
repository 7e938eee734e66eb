#include "server/streams_service.h"

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/convert.h"
#include "server/read_plan.h"
#include "server/subscribe.h"
#include "server/system_writes.h"

namespace cairn::server {
namespace {

using wire_streams::AppendReq;
using wire_streams::AppendResp;
using wire_streams::DeleteReq;
using wire_streams::DeleteResp;
using wire_streams::ReadReq;
using wire_streams::ReadResp;
using wire_streams::TombstoneReq;
using wire_streams::TombstoneResp;

// A bounded read: pages of events gathered from the store, written one
// message at a time (the callback API allows one write in flight).
class ReadReactor final : public grpc::ServerWriteReactor<ReadResp> {
 public:
  ReadReactor(Store* store, Metrics* metrics, const StreamsLimits& limits,
              grpc::CallbackServerContext* ctx, Result<ReadPlan> plan)
      : store_(store), metrics_(metrics), limits_(limits), ctx_(ctx) {
    if (!plan) {
      Finish(ErrorToGrpc(plan.error(), {}, ctx_));
      return;
    }
    plan_ = std::move(*plan);
    remaining_ = plan_.count;
    exhausted_ = plan_.passes_nothing || remaining_ == 0;
    if (plan_.from_end_forwards && !plan_.all) {
      // Nothing to read, but a missing stream is still reported.
      exhausted_ = true;
      auto info = store_->GetStreamInfo(plan_.stream);
      if (!info && info.error().code() == ErrorCode::kNotFound) {
        QueueNotFound();
      } else if (!info) {
        Finish(ErrorToGrpc(info.error(), {.stream = plan_.stream}, ctx_));
        return;
      }
    } else if (plan_.from_end_forwards) {
      exhausted_ = true;
    }
    Next();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    queue_.pop_front();
    Next();
  }
  void OnDone() override { delete this; }

 private:
  void Next() {
    if (queue_.empty() && !exhausted_) {
      Status s = FillPage();
      if (!s.ok()) {
        Finish(ErrorToGrpc(s, {.stream = plan_.stream}, ctx_));
        return;
      }
    }
    if (queue_.empty() && !ended_) {
      ended_ = true;
      if (plan_.compatibility && !not_found_) {
        auto info = store_->GetStreamInfo(plan_.stream);
        if (info) queue_.emplace_back().set_last_stream_position(info->last_revision.value());
      }
    }
    if (queue_.empty()) {
      Finish(grpc::Status::OK);
      return;
    }
    StartWrite(&queue_.front());
  }

  void QueueNotFound() {
    not_found_ = true;
    queue_.emplace_back().mutable_stream_not_found()->mutable_stream_identifier()->set_stream_name(
        plan_.stream);
  }

  // Reads the next page into queue_; sets exhausted_ when the read is over.
  Status FillPage() {
    const uint64_t want = std::min<uint64_t>(remaining_, limits_.read_page_events);
    uint64_t got = 0;
    size_t bytes = 0;
    std::optional<uint64_t> last;
    auto visit = [&](const EventView& e) {
      auto* ev = queue_.emplace_back().mutable_event();
      EventToWire(e, plan_.structured_ids, ev->mutable_event());
      ev->set_commit_position(e.position.value());
      last = plan_.all ? e.position.value() : e.revision.value();
      ++got;
      bytes += e.data.size() + e.metadata.size() + e.stream.size() + e.type.size();
      return got < want && bytes < limits_.read_page_bytes;
    };
    Status s;
    if (plan_.all) {
      ReadAllOptions o;
      o.direction = plan_.direction;
      if (plan_.from) o.from = Position(*plan_.from);
      o.max_count = want;
      o.filter = plan_.filter;
      s = store_->ReadAll(o, visit);
    } else {
      ReadStreamOptions o;
      o.direction = plan_.direction;
      if (plan_.from) o.from = StreamRevision(*plan_.from);
      o.max_count = want;
      s = store_->ReadStream(plan_.stream, o, visit);
      if (s.code() == ErrorCode::kNotFound && !started_) {
        exhausted_ = true;
        QueueNotFound();
        return Status::OK();
      }
    }
    CAIRN_RETURN_IF_ERROR(s);
    started_ = true;
    metrics_->EventsRead(got);
    remaining_ -= got;
    if (got < want && bytes < limits_.read_page_bytes) exhausted_ = true;  // the end
    if (remaining_ == 0 || !last) exhausted_ = true;
    if (!exhausted_) {
      if (plan_.direction == Direction::kForwards) {
        plan_.from = *last + 1;
      } else if (*last == 0) {
        exhausted_ = true;
      } else {
        plan_.from = *last - 1;
      }
    }
    return Status::OK();
  }

  Store* const store_;
  Metrics* const metrics_;
  const StreamsLimits limits_;
  grpc::CallbackServerContext* const ctx_;
  ReadPlan plan_;
  uint64_t remaining_ = 0;
  bool exhausted_ = false;
  bool started_ = false;    // a page was read: a later kNotFound is an error
  bool not_found_ = false;  // stream_not_found was queued
  bool ended_ = false;      // the closing messages were queued
  std::deque<ReadResp> queue_;
};

// Append: options, events, half-close; then one append of them all.
// Nothing is written unless the client half-closed: a call that breaks
// before leaves nothing behind.
class AppendReactor final : public grpc::ServerReadReactor<AppendReq> {
 public:
  AppendReactor(Store* store, Security* security, Metrics* metrics, const StreamsLimits& limits,
                grpc::CallbackServerContext* ctx, AppendResp* resp)
      : store_(store),
        security_(security),
        metrics_(metrics),
        limits_(limits),
        ctx_(ctx),
        resp_(resp) {
    StartRead(&req_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client half-closed, or the call broke. Sending the initial
      // metadata succeeds only on a call that is still alive: the append
      // is made only then.
      if (!have_options_) {
        Finish(InvalidArgument("the append ended before its options message"));
        return;
      }
      StartSendInitialMetadata();
      return;
    }
    if (!have_options_) {
      if (req_.content_case() != AppendReq::kOptions) {
        Finish(InvalidArgument("the first message of an append must be its options"));
        return;
      }
      const auto& o = req_.options();
      auto stream = StreamFromWire(o.stream_identifier(), o.has_stream_identifier());
      if (!stream) {
        Finish(ErrorToGrpc(stream.error(), {}, ctx_));
        return;
      }
      auto expected = ExpectedFromWire(o);
      if (!expected) {
        Finish(ErrorToGrpc(expected.error(), {}, ctx_));
        return;
      }
      Status allowed = security_->Check(*ctx_, StreamAccess::kWrite, *stream);
      if (!allowed.ok()) {
        Finish(ErrorToGrpc(allowed, {.stream = *stream}, ctx_));
        return;
      }
      stream_ = std::move(*stream);
      expected_ = *expected;
      have_options_ = true;
    } else {
      if (req_.content_case() != AppendReq::kProposedMessage) {
        Finish(InvalidArgument("an append has one options message, and it comes first"));
        return;
      }
      bool missing = false;
      auto event = EventFromWire(req_.proposed_message(), &missing);
      if (!event) {
        if (missing) {
          ctx_->AddTrailingMetadata("exception", "missing-required-metadata-property");
          ctx_->AddTrailingMetadata("required-metadata-properties", "type,content-type");
        }
        Finish(ErrorToGrpc(event.error(), {.stream = stream_}, ctx_));
        return;
      }
      bytes_ += event->data.size() + event->metadata.size() + event->type.size();
      if (bytes_ > limits_.max_append_bytes) {
        ctx_->AddTrailingMetadata("exception", "maximum-append-size-exceeded");
        ctx_->AddTrailingMetadata("maximum-append-size", std::to_string(limits_.max_append_bytes));
        Finish(InvalidArgument("the append is larger than " +
                               std::to_string(limits_.max_append_bytes) + " bytes"));
        return;
      }
      events_.push_back(std::move(*event));
    }
    StartRead(&req_);
  }

  void OnSendInitialMetadataDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away before the append"));
      return;
    }
    event_count_ = events_.size();
    submitted_ = std::chrono::steady_clock::now();
    if (IsSystemStream(stream_)) {
      Done(AppendToSystemStream(store_, stream_, expected_, events_));
      return;
    }
    Status queued = store_->AppendAsync(stream_, expected_, std::move(events_),
                                        [this](Result<AppendResult> r) { Done(std::move(r)); });
    if (!queued.ok()) Finish(ErrorToGrpc(queued, {.stream = stream_, .expected = expected_}, ctx_));
  }

  void OnDone() override { delete this; }

 private:
  void Done(Result<AppendResult> r) {
    metrics_->AppendDone(
        r.has_value(), event_count_, bytes_,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - submitted_).count());
    if (r) {
      auto* ok = resp_->mutable_success();
      if (r->revision) {
        ok->set_current_revision(r->revision->value());
      } else {
        ok->mutable_no_stream();
      }
      if (event_count_ > 0) {
        ok->mutable_position()->set_commit_position(r->position.value());
        ok->mutable_position()->set_prepare_position(r->position.value());
      } else {
        ok->mutable_no_position();
      }
      Finish(grpc::Status::OK);
      return;
    }
    const Status& s = r.error();
    if (s.code() == ErrorCode::kWrongExpectedRevision ||
        s.code() == ErrorCode::kIdempotencyConflict) {
      std::optional<uint64_t> actual;
      if (const RevisionConflict* c = s.conflict()) {
        actual = c->actual;
      } else {
        auto info = store_->GetStreamInfo(stream_);
        if (info) actual = info->last_revision.value();
      }
      FillWrongExpectedVersion(actual);
      Finish(grpc::Status::OK);
      return;
    }
    Finish(ErrorToGrpc(s, {.stream = stream_, .expected = expected_}, ctx_));
  }

  void FillWrongExpectedVersion(std::optional<uint64_t> actual) {
    auto* w = resp_->mutable_wrong_expected_version();
    if (actual) {
      w->set_current_revision_20_6_0(*actual);
      w->set_current_revision(*actual);
    } else {
      w->mutable_no_stream_20_6_0();
      w->mutable_current_no_stream();
    }
    switch (expected_.kind()) {
      case ExpectedRevision::Kind::kExact:
        w->set_expected_revision_20_6_0(expected_.revision().value());
        w->set_expected_revision(expected_.revision().value());
        break;
      case ExpectedRevision::Kind::kNoStream:
        w->set_expected_revision_20_6_0(UINT64_MAX);
        w->mutable_expected_no_stream();
        break;
      case ExpectedRevision::Kind::kAny:
        w->mutable_any_20_6_0();
        w->mutable_expected_any();
        break;
      case ExpectedRevision::Kind::kStreamExists:
        w->mutable_stream_exists_20_6_0();
        w->mutable_expected_stream_exists();
        break;
    }
  }

  Store* const store_;
  Security* const security_;
  Metrics* const metrics_;
  const StreamsLimits limits_;
  grpc::CallbackServerContext* const ctx_;
  AppendResp* const resp_;
  std::chrono::steady_clock::time_point submitted_;
  AppendReq req_;
  bool have_options_ = false;
  std::string stream_;
  ExpectedRevision expected_ = ExpectedRevision::Any();
  std::vector<EventData> events_;
  size_t event_count_ = 0;
  size_t bytes_ = 0;
};

// Delete and Tombstone: one store call each, answered with the position of
// the record written.
template <typename Options, typename Resp>
grpc::ServerUnaryReactor* DeleteOrTombstone(grpc::CallbackServerContext* ctx, const Options& o,
                                            Resp* resp, bool hard, Store* store,
                                            Security* security) {
  auto* reactor = ctx->DefaultReactor();
  auto stream = StreamFromWire(o.stream_identifier(), o.has_stream_identifier());
  if (!stream) {
    reactor->Finish(ErrorToGrpc(stream.error(), {}, ctx));
    return reactor;
  }
  auto expected = ExpectedFromWire(o);
  if (!expected) {
    reactor->Finish(ErrorToGrpc(expected.error(), {.stream = *stream}, ctx));
    return reactor;
  }
  Status allowed = security->Check(*ctx, StreamAccess::kDelete, *stream);
  if (!allowed.ok()) {
    reactor->Finish(ErrorToGrpc(allowed, {.stream = *stream}, ctx));
    return reactor;
  }
  auto r =
      hard ? store->TombstoneStream(*stream, *expected) : store->DeleteStream(*stream, *expected);
  if (!r) {
    reactor->Finish(ErrorToGrpc(
        r.error(), {.stream = *stream, .expected = *expected, .delete_call = !hard}, ctx));
    return reactor;
  }
  resp->mutable_position()->set_commit_position(r->position.value());
  resp->mutable_position()->set_prepare_position(r->position.value());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

// A call that arrives while the server stops: UNAVAILABLE at once.
const grpc::Status kStopping(grpc::StatusCode::UNAVAILABLE, "server is shutting down");

template <typename Reactor>
class Refused final : public Reactor {
 public:
  Refused() { this->Finish(kStopping); }
  void OnDone() override { delete this; }
};

grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* ctx) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(kStopping);
  return reactor;
}

}  // namespace

grpc::ServerWriteReactor<ReadResp>* StreamsService::Read(grpc::CallbackServerContext* ctx,
                                                         const ReadReq* request) {
  Result<ReadPlan> plan = Status(ErrorCode::kClosed, "server is shutting down");
  if (!registry_.stopping()) plan = PlanRead(*request);
  if (plan) {
    Status allowed = security_->Check(*ctx, StreamAccess::kRead, plan->all ? "$all" : plan->stream);
    if (!allowed.ok()) plan = allowed;
  }
  if (plan && plan->subscription)
    return NewSubscription(store_, ctx, std::move(*plan), &registry_, metrics_,
                           limits_.subscription);
  return new ReadReactor(store_, metrics_, limits_, ctx, std::move(plan));
}

grpc::ServerReadReactor<AppendReq>* StreamsService::Append(grpc::CallbackServerContext* ctx,
                                                           AppendResp* response) {
  if (registry_.stopping()) return new Refused<grpc::ServerReadReactor<AppendReq>>();
  return new AppendReactor(store_, security_, metrics_, limits_, ctx, response);
}

grpc::ServerBidiReactor<wire_streams::BatchAppendReq, wire_streams::BatchAppendResp>*
StreamsService::BatchAppend(grpc::CallbackServerContext* ctx) {
  return NewBatchAppend(store_, security_, metrics_, &registry_, ctx, limits_.batch);
}

grpc::ServerUnaryReactor* StreamsService::Delete(grpc::CallbackServerContext* ctx,
                                                 const DeleteReq* request, DeleteResp* response) {
  if (registry_.stopping()) return Refuse(ctx);
  return DeleteOrTombstone(ctx, request->options(), response, /*hard=*/false, store_, security_);
}

grpc::ServerUnaryReactor* StreamsService::Tombstone(grpc::CallbackServerContext* ctx,
                                                    const TombstoneReq* request,
                                                    TombstoneResp* response) {
  if (registry_.stopping()) return Refuse(ctx);
  return DeleteOrTombstone(ctx, request->options(), response, /*hard=*/true, store_, security_);
}

}  // namespace cairn::server
