// Process manager runner (include/cairn/toolkit/process_manager.h).
#include "cairn/toolkit/process_manager.h"

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

namespace cairn::toolkit {
namespace {

constexpr std::string_view kCheckpointType = "Checkpoint";

class RunnerImpl : public ProcessManagerRunner {
 public:
  RunnerImpl(Store* store, ProcessManager* manager, ProcessManagerOptions options)
      : store_(store),
        manager_(manager),
        options_(std::move(options)),
        name_(manager->name()),
        stream_(std::string(kCheckpointCategory) + "-" + name_) {
    if (options_.user.empty()) options_.user = "process:" + name_;
  }
  ~RunnerImpl() override { (void)Stop(); }

  Status Init() {
    if (name_.empty()) return Status::InvalidArgument("a process manager needs a name");
    // The last checkpoint, if any.
    ReadStreamOptions ro;
    ro.direction = Direction::kBackwards;
    ro.max_count = 1;
    auto last = store_->ReadStream(stream_, ro);
    if (!last.has_value() && last.error().code() != ErrorCode::kNotFound) return last.error();
    if (last.has_value() && !last->empty()) {
      const RecordedEvent& e = last->front();
      nlohmann::json j = nlohmann::json::parse(e.data, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object() || !j.contains("position") || !j["position"].is_number_unsigned()) {
        return Status::Corruption(stream_ + "@" + std::to_string(e.revision.value()) +
                                  ": checkpoint event is not {\"position\": N}");
      }
      handled_ = saved_ = j["position"].get<uint64_t>();
      checkpoint_revision_ = e.revision;
      auto md = store_->GetStreamMetadata(stream_);
      retention_set_ = md.has_value() && md->metadata.max_count.has_value();
    }
    SubscribeOptions so = options_.category.empty() ? SubscribeOptions::All()
                                                    : SubscribeOptions::Category(options_.category);
    so.filter = options_.filter;
    if (handled_) so.after = Position(*handled_);
    CAIRN_ASSIGN_OR_RETURN(sub_, store_->Subscribe(so));
    thread_ = std::thread([this] { Run(); });
    return Status::OK();
  }

  Status status() const override {
    std::lock_guard l(mu_);
    return status_;
  }
  std::optional<Position> checkpoint() const override {
    std::lock_guard l(mu_);
    return handled_ ? std::optional<Position>(Position(*handled_)) : std::nullopt;
  }
  Status WaitFor(Position p, std::chrono::milliseconds timeout) override {
    std::unique_lock l(mu_);
    const bool done = cv_.wait_for(l, timeout, [&] {
      return (handled_ && *handled_ >= p.value()) || !status_.ok() || stopped_;
    });
    if (handled_ && *handled_ >= p.value()) return Status::OK();
    if (!status_.ok()) return status_;
    if (stopped_) return Status(ErrorCode::kCancelled, "process manager " + name_ + " was stopped");
    (void)done;
    return Status(ErrorCode::kDeadlineExceeded, "process manager " + name_ +
                                                    " did not reach position " +
                                                    std::to_string(p.value()) + " in time");
  }
  Status Stop() override {
    std::lock_guard control(control_mu_);  // one Stop at a time (and the destructor's)
    {
      std::lock_guard l(mu_);
      if (stopped_) return status_;
    }
    if (sub_) sub_->Cancel();
    if (thread_.joinable()) thread_.join();
    Status s = Save();
    std::lock_guard l(mu_);
    if (status_.ok() && !s.ok()) status_ = s;
    stopped_ = true;
    cv_.notify_all();
    return status_;
  }

 private:
  void Run() {
    std::vector<SubscriptionMessage> batch;
    uint64_t unsaved = 0;
    for (;;) {
      auto n = sub_->NextBatch(&batch, std::chrono::milliseconds(100));
      if (!n.has_value()) {
        if (n.error().code() != ErrorCode::kCancelled) Fail(n.error());
        return;
      }
      bool caught_up = *n == 0;
      for (size_t i = 0; i < *n; ++i) {
        const SubscriptionMessage& m = batch[i];
        if (m.kind == SubscriptionMessage::Kind::kEvent) {
          if (m.event.stream == stream_ || m.event.stream == "$$" + stream_) {
            Advance(m.event.position.value());  // its own checkpoints: nothing to react to
            continue;
          }
          ReactionContext ctx(name_, m.event, options_.user);
          Status s = manager_->Handle(m.event, ctx);
          if (!s.ok()) {
            Fail(Status(s.code(),
                        "process manager " + name_ + " at position " +
                            std::to_string(m.event.position.value()) + " (" + m.event.stream + "@" +
                            std::to_string(m.event.revision.value()) + "): " + s.message()));
            return;
          }
          Advance(m.event.position.value());
          ++unsaved;
        } else if (m.kind == SubscriptionMessage::Kind::kCheckpoint) {
          Advance(m.position.value());
        } else if (m.kind == SubscriptionMessage::Kind::kCaughtUp) {
          caught_up = true;
        }
      }
      // Everything the subscription delivered is handled; what it scanned
      // past (other categories, events the filter drops) needs nothing.
      if (const std::optional<Position> through = sub_->last_position()) Advance(through->value());
      if (unsaved >= options_.checkpoint_every || (caught_up && unsaved > 0)) {
        Status s = Save();
        if (!s.ok()) {
          Fail(s);
          return;
        }
        unsaved = 0;
      }
    }
  }

  void Advance(uint64_t p) {
    std::lock_guard l(mu_);
    if (!handled_ || p > *handled_) handled_ = p;
    cv_.notify_all();
  }
  void Fail(Status s) {
    std::lock_guard l(mu_);
    if (status_.ok()) status_ = std::move(s);
    cv_.notify_all();
  }

  // Appends the checkpoint if it moved; only the runner thread (or Stop,
  // after it ended) calls this.
  Status Save() {
    std::optional<uint64_t> at;
    {
      std::lock_guard l(mu_);
      if (!status_.ok()) return Status::OK();  // never checkpoint past a failure
      at = handled_;
    }
    if (!at || (saved_ && *saved_ >= *at)) return Status::OK();
    EventData e;
    e.type = std::string(kCheckpointType);
    e.data = nlohmann::json{{"position", *at}}.dump();
    std::vector<EventData> events = {std::move(e)};
    const ExpectedRevision expected = checkpoint_revision_
                                          ? ExpectedRevision::Exact(*checkpoint_revision_)
                                          : ExpectedRevision::NoStream();
    auto r = store_->Append(stream_, expected, events);
    if (!r.has_value()) {
      if (r.error().code() == ErrorCode::kWrongExpectedRevision) {
        return Status(ErrorCode::kFailedPrecondition,
                      "another runner of process manager " + name_ + " advanced " + stream_);
      }
      return r.error();
    }
    const bool first = !checkpoint_revision_;
    checkpoint_revision_ = r->revision;
    saved_ = at;
    if (first || !retention_set_) {
      // Keep the newest two; if this fails the next save tries again (the
      // stream only grows meanwhile).
      StreamMetadata m;
      m.max_count = 2;
      retention_set_ = store_->SetStreamMetadata(stream_, ExpectedRevision::Any(), m).has_value();
    }
    return Status::OK();
  }

  Store* store_;
  ProcessManager* manager_;
  ProcessManagerOptions options_;
  const std::string name_;
  const std::string stream_;
  std::unique_ptr<Subscription> sub_;
  std::optional<StreamRevision> checkpoint_revision_;  // runner thread, then Stop
  std::optional<uint64_t> saved_;                      // runner thread, then Stop
  bool retention_set_ = false;                         // runner thread, then Stop
  std::mutex control_mu_;                              // serializes Stop; taken before mu_
  mutable std::mutex mu_;
  std::condition_variable cv_;       // handled_ moved, failure, or stop
  std::optional<uint64_t> handled_;  // guarded by mu_
  Status status_;                    // guarded by mu_
  bool stopped_ = false;             // guarded by mu_
  std::thread thread_;
};

}  // namespace

ReactionContext::ReactionContext(std::string_view manager, const RecordedEvent& event,
                                 std::string user)
    : manager_(manager), event_id_(event.id), user_(std::move(user)) {
  auto audit = DecodeAudit(event.metadata);
  correlation_ = audit.has_value() && !audit->correlation_id.empty() ? audit->correlation_id
                                                                     : event.id.ToString();
}

CommandContext ReactionContext::Command(uint32_t index) const {
  CommandContext c;
  c.command_id = CommandEventId(event_id_, "process:" + manager_, index);
  c.user = user_;
  c.causation_id = event_id_.ToString();
  c.correlation_id = correlation_;
  return c;
}

Result<std::unique_ptr<ProcessManagerRunner>> ProcessManagerRunner::Start(
    Store* store, ProcessManager* manager, ProcessManagerOptions options) {
  auto r = std::make_unique<RunnerImpl>(store, manager, std::move(options));
  CAIRN_RETURN_IF_ERROR(r->Init());
  return std::unique_ptr<ProcessManagerRunner>(std::move(r));
}

}  // namespace cairn::toolkit
