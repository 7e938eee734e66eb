#include "server/batch_append.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "server/convert.h"
#include "server/subscribe.h"
#include "server/system_writes.h"

namespace cairn::server {
namespace {

using wire_streams::BatchAppendReq;
using wire_streams::BatchAppendResp;
using Clock = std::chrono::system_clock;

// An append whose final chunk has not come yet.
struct Pending {
  wire::UUID correlation_id;  // as the client sent it
  std::string stream;
  ExpectedRevision expected = ExpectedRevision::Any();
  std::vector<EventData> events;
  size_t bytes = 0;
  Clock::time_point deadline;
};

// The key of a correlation id: its 16 bytes.
std::string KeyOf(const Uuid& id) {
  return std::string(reinterpret_cast<const char*>(id.bytes().data()), id.bytes().size());
}

template <typename Detail>
void SetError(BatchAppendResp* r, grpc::StatusCode code, const std::string& message,
              const Detail& detail) {
  auto* e = r->mutable_error();
  e->set_code(static_cast<::google::rpc::Code>(code));
  e->set_message(message);
  e->mutable_details()->PackFrom(detail);
}

void SetBadRequest(BatchAppendResp* r, const std::string& message) {
  wire::BadRequest d;
  d.set_message(message);
  SetError(r, grpc::StatusCode::INVALID_ARGUMENT, message, d);
}

void SetTimeout(BatchAppendResp* r) {
  SetError(r, grpc::StatusCode::DEADLINE_EXCEEDED,
           "the append's deadline passed before it was written", wire::Timeout());
}

// A failed append as BatchAppend reports it (the BatchAppend column of the
// mapping table).
void SetStoreError(BatchAppendResp* r, const Status& s, const std::string& stream,
                   ExpectedRevision expected) {
  switch (s.code()) {
    case ErrorCode::kWrongExpectedRevision:
    case ErrorCode::kIdempotencyConflict: {
      wire::WrongExpectedVersion d;
      const RevisionConflict* c = s.conflict();
      if (c && c->actual) {
        d.set_current_stream_revision(*c->actual);
      } else {
        d.mutable_current_no_stream();
      }
      switch (expected.kind()) {
        case ExpectedRevision::Kind::kExact:
          d.set_expected_stream_position(expected.revision().value());
          break;
        case ExpectedRevision::Kind::kNoStream:
          d.mutable_expected_no_stream();
          break;
        case ExpectedRevision::Kind::kAny:
          d.mutable_expected_any();
          break;
        case ExpectedRevision::Kind::kStreamExists:
          d.mutable_expected_stream_exists();
          break;
      }
      SetError(r, grpc::StatusCode::ALREADY_EXISTS, s.message(), d);
      return;
    }
    case ErrorCode::kStreamDeleted: {
      wire::StreamDeleted d;
      d.mutable_stream_identifier()->set_stream_name(stream);
      SetError(r, grpc::StatusCode::NOT_FOUND, s.message(), d);
      return;
    }
    case ErrorCode::kPermissionDenied:
      SetError(r, grpc::StatusCode::PERMISSION_DENIED, s.message(), wire::AccessDenied());
      return;
    case ErrorCode::kDeadlineExceeded:
      SetError(r, grpc::StatusCode::DEADLINE_EXCEEDED, s.message(), wire::Timeout());
      return;
    case ErrorCode::kInvalidArgument:
      SetBadRequest(r, s.message());
      return;
    default:
      SetError(r, StatusCodeOf(s.code()), s.message(), wire::Unknown());
      return;
  }
}

class BatchAppendReactor final : public grpc::ServerBidiReactor<BatchAppendReq, BatchAppendResp>,
                                 public EndableCall {
 public:
  BatchAppendReactor(Store* store, Security* security, Metrics* metrics,
                     SubscriptionRegistry* registry, grpc::CallbackServerContext* ctx,
                     BatchAppendLimits limits)
      : store_(store),
        security_(security),
        metrics_(metrics),
        registry_(registry),
        ctx_(ctx),
        limits_(limits) {}

  // Runs once, right after construction, holding a reference of its own.
  void Start() {
    if (!registry_->Add(this)) {
      {
        std::lock_guard l(mu_);
        end_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is shutting down");
      }
      Pump();
      return;
    }
    auto who = security_->Authenticate(*ctx_);
    if (!who) {
      {
        std::lock_guard l(mu_);
        end_ = ErrorToGrpc(who.error(), {}, ctx_);
      }
      Pump();
      return;
    }
    who_ = std::move(*who);
    StartRead(&req_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      {
        std::lock_guard l(mu_);
        read_done_ = true;
        // Appends whose final chunk never came are answered, not dropped.
        for (auto& [key, p] : pending_) {
          BatchAppendResp& r = Answer(p.correlation_id, p.stream);
          SetBadRequest(&r, "the call ended before the append's final chunk");
        }
        pending_.clear();
      }
      Pump();
      return;
    }
    if (!Handle(req_)) {
      Pump();
      return;  // the call ends: no more reads
    }
    Pump();
    StartRead(&req_);
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard l(mu_);
      writing_ = false;
      queue_.pop_front();
      if (!ok && !end_) {
        end_ = grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
        queue_.clear();
      }
    }
    Pump();
  }

  void OnCancel() override {
    {
      std::lock_guard l(mu_);
      if (!end_) end_ = grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled");
      while (queue_.size() > (writing_ ? 1u : 0u)) queue_.pop_back();
    }
    Pump();
  }

  void OnDone() override {
    registry_->Remove(this);
    Unref();
  }

  // The server is stopping: answers what is in flight, then ends the call.
  void End(const grpc::Status& status) override {
    {
      std::lock_guard l(mu_);
      if (!end_) end_ = status;
    }
    Pump();
  }
  void Ref() override { refs_.fetch_add(1); }
  void Unref() override {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

 private:
  // One request message. False when the call must end (no correlation id).
  bool Handle(const BatchAppendReq& req) {
    auto id = UuidFromWire(req.correlation_id(), req.has_correlation_id(), "correlation_id");
    if (!id) {
      std::lock_guard l(mu_);
      if (!end_) end_ = InvalidArgument("a BatchAppend request has no valid correlation_id");
      return false;
    }
    const std::string key = KeyOf(*id);
    const auto now = Clock::now();
    std::optional<Pending> submit;
    {
      std::lock_guard l(mu_);
      if (end_) return false;  // ending: nothing new is taken
      ExpireLocked(now);
      auto it = pending_.find(key);
      if (it == pending_.end() && dropped_.count(key) > 0) {
        // A later chunk of an append already answered (timed out, too
        // large, malformed): ignored, and forgotten after its final one.
        if (req.is_final()) dropped_.erase(key);
        return true;
      }
      if (it == pending_.end()) {
        if (!req.has_options()) {
          BatchAppendResp& r = Answer(req.correlation_id(), "");
          SetBadRequest(&r,
                        "no options for this correlation id (a chunk of an append that "
                        "already ended, or whose first chunk lacked them)");
          return true;
        }
        Pending p;
        p.correlation_id = req.correlation_id();
        Status s = ReadOptions(req.options(), now, &p);
        if (!s.ok()) {
          SetBadRequest(&Answer(p.correlation_id, p.stream), s.message());
          return true;
        }
        if (Status allowed = security_->Authorize(who_, StreamAccess::kWrite, p.stream);
            !allowed.ok()) {
          SetStoreError(&Answer(p.correlation_id, p.stream), allowed, p.stream, p.expected);
          if (!req.is_final()) dropped_.insert(key);
          return true;
        }
        if (p.deadline <= now) {
          SetTimeout(&Answer(p.correlation_id, p.stream));
          if (!req.is_final()) dropped_.insert(key);
          return true;
        }
        it = pending_.emplace(key, std::move(p)).first;
      }
      Pending& p = it->second;
      for (const auto& m : req.proposed_messages()) {
        bool missing = false;
        auto e = EventFromWire(m, &missing);
        if (!e) {
          SetBadRequest(&Answer(p.correlation_id, p.stream), e.error().message());
          pending_.erase(it);
          if (!req.is_final()) dropped_.insert(key);
          return true;
        }
        p.bytes += e->data.size() + e->metadata.size() + e->type.size();
        if (p.bytes > limits_.max_append_bytes) {
          wire::MaximumAppendSizeExceeded d;
          d.set_maxappendsize(static_cast<uint32_t>(limits_.max_append_bytes));
          SetError(
              &Answer(p.correlation_id, p.stream), grpc::StatusCode::INVALID_ARGUMENT,
              "the append is larger than " + std::to_string(limits_.max_append_bytes) + " bytes",
              d);
          pending_.erase(it);
          if (!req.is_final()) dropped_.insert(key);
          return true;
        }
        p.events.push_back(std::move(*e));
      }
      if (!req.is_final()) return true;
      submit = std::move(p);
      pending_.erase(it);
      ++in_flight_;
    }
    Submit(std::move(*submit));
    return true;
  }

  Status ReadOptions(const BatchAppendReq::Options& o, Clock::time_point now, Pending* p) {
    if (!o.has_stream_identifier() || o.stream_identifier().stream_name().empty()) {
      return Status::InvalidArgument("options.stream_identifier is missing or empty");
    }
    p->stream = o.stream_identifier().stream_name();
    using O = BatchAppendReq::Options;
    switch (o.expected_stream_position_case()) {
      case O::kStreamPosition:
        p->expected = ExpectedRevision::Exact(StreamRevision(o.stream_position()));
        break;
      case O::kNoStream:
        p->expected = ExpectedRevision::NoStream();
        break;
      case O::kAny:
        p->expected = ExpectedRevision::Any();
        break;
      case O::kStreamExists:
        p->expected = ExpectedRevision::StreamExists();
        break;
      default:
        return Status::InvalidArgument("options.expected_stream_position is not set");
    }
    p->deadline = now + limits_.write_timeout;
    using google::protobuf::util::TimeUtil;
    if (o.deadline_option_case() == O::kDeadline21100) {
      const auto ns = TimeUtil::TimestampToNanoseconds(o.deadline_21_10_0());
      p->deadline =
          std::min(p->deadline, Clock::time_point(std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::nanoseconds(ns))));
    } else if (o.deadline_option_case() == O::kDeadline) {
      const auto ns = TimeUtil::DurationToNanoseconds(o.deadline());
      p->deadline =
          std::min(p->deadline,
                   now + std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
    }
    return Status::OK();
  }

  // Answers the pending appends whose deadline passed. Called with mu_ held.
  void ExpireLocked(Clock::time_point now) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.deadline <= now) {
        SetTimeout(&Answer(it->second.correlation_id, it->second.stream));
        dropped_.insert(it->first);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void Submit(Pending p) {
    Ref();
    auto correlation = std::make_shared<wire::UUID>(std::move(p.correlation_id));
    const std::string stream = p.stream;
    const ExpectedRevision expected = p.expected;
    const size_t count = p.events.size();
    const size_t bytes = p.bytes;
    const auto start = std::chrono::steady_clock::now();
    auto done = [this, correlation, stream, expected, count, bytes, start](Result<AppendResult> r) {
      metrics_->AppendDone(
          r.has_value(), count, bytes,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      Completed(*correlation, stream, expected, count, std::move(r));
    };
    if (IsSystemStream(p.stream)) {
      done(AppendToSystemStream(store_, p.stream, p.expected, p.events));
      return;
    }
    Status queued = store_->AppendAsync(p.stream, p.expected, std::move(p.events), done);
    if (!queued.ok()) done(queued);
  }

  // An append's result, on the store's completion thread (or inline).
  void Completed(const wire::UUID& correlation, const std::string& stream,
                 ExpectedRevision expected, size_t count, Result<AppendResult> r) {
    {
      std::lock_guard l(mu_);
      --in_flight_;
      if (!end_) {
        BatchAppendResp& resp = Answer(correlation, stream);
        if (r) {
          auto* ok = resp.mutable_success();
          if (r->revision) {
            ok->set_current_revision(r->revision->value());
          } else {
            ok->mutable_no_stream();
          }
          if (count > 0) {
            ok->mutable_position()->set_commit_position(r->position.value());
            ok->mutable_position()->set_prepare_position(r->position.value());
          } else {
            ok->mutable_no_position();
          }
        } else {
          SetStoreError(&resp, r.error(), stream, expected);
        }
      }
    }
    Pump();
    Unref();
  }

  // Queues an answer for `correlation` (echoed as sent). mu_ held.
  BatchAppendResp& Answer(const wire::UUID& correlation, const std::string& stream) {
    BatchAppendResp& r = queue_.emplace_back();
    *r.mutable_correlation_id() = correlation;
    r.mutable_stream_identifier()->set_stream_name(stream);
    return r;
  }

  // Starts the next write, or finishes: after an error once nothing is in
  // flight, or after the half-close once every append is answered. Called
  // with no lock held; touches nothing after StartWrite or Finish.
  void Pump() {
    BatchAppendResp* next = nullptr;
    std::optional<grpc::Status> finish;
    {
      std::lock_guard l(mu_);
      if (finished_ || writing_) return;
      const bool cancelled = end_ && end_->error_code() == grpc::StatusCode::CANCELLED;
      if (!queue_.empty() && !cancelled) {
        writing_ = true;
        next = &queue_.front();
      } else if (end_ && (cancelled || in_flight_ == 0)) {
        finished_ = true;
        finish = end_;
      } else if (read_done_ && in_flight_ == 0 && pending_.empty()) {
        finished_ = true;
        finish = grpc::Status::OK;
      }
    }
    if (next) {
      StartWrite(next);
    } else if (finish) {
      Finish(*finish);
    }
  }

  Store* const store_;
  Security* const security_;
  Metrics* const metrics_;
  SubscriptionRegistry* const registry_;
  grpc::CallbackServerContext* const ctx_;
  const BatchAppendLimits limits_;
  Principal who_;       // the caller, authenticated once
  BatchAppendReq req_;  // the read in flight (one at a time)
  // gRPC's until OnDone, Start's caller's, one per append in the store.
  std::atomic<int> refs_{2};

  std::mutex mu_;  // guards the fields below; never held while calling gRPC or the store
  std::unordered_map<std::string, Pending> pending_;  // by correlation key
  std::unordered_set<std::string> dropped_;           // answered before their final chunk came
  std::deque<BatchAppendResp> queue_;                 // answers not yet written
  bool writing_ = false;
  bool finished_ = false;
  bool read_done_ = false;
  size_t in_flight_ = 0;  // appends submitted, not yet completed
  std::optional<grpc::Status> end_;
};

}  // namespace

grpc::ServerBidiReactor<BatchAppendReq, BatchAppendResp>* NewBatchAppend(
    Store* store, Security* security, Metrics* metrics, SubscriptionRegistry* registry,
    grpc::CallbackServerContext* ctx, BatchAppendLimits limits) {
  auto* r = new BatchAppendReactor(store, security, metrics, registry, ctx, limits);
  r->Start();
  r->Unref();  // Start's reference
  return r;
}

}  // namespace cairn::server
