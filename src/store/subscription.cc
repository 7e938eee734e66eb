// Catch-up subscriptions (include/cairn/subscription.h) over a Feed
// (feed.h): pages of history, then live events as the feed's head moves,
// with no gap and no duplicate at the switch.
#include <deque>
#include <optional>

#include "src/base/hash.h"
#include "src/store/feed.h"
#include "src/store/filter.h"

namespace cairn {

namespace {

constexpr uint64_t kPageBytes = 4ull << 20;

class SubscriptionImpl final : public Subscription {
 public:
  SubscriptionImpl(Feed* feed, SubscribeOptions options, std::unique_ptr<EventMatcher> matcher)
      : feed_(feed), options_(std::move(options)), matcher_(std::move(matcher)) {
    // Subscribe checked that only the start point of the target's kind is set.
    std::optional<uint64_t> after;
    if (options_.after) after = options_.after->value();
    if (options_.after_revision) after = options_.after_revision->value();
    if (after) {
      next_ = *after + 1;
      last_ = after;
    }
    resolve_end_ = options_.from_end;
    if (options_.target == SubscribeOptions::Target::kCategory) tag_ = CategoryTag(options_.name);
    if (options_.target == SubscribeOptions::Target::kEventType) tag_ = TypeTag(options_.name);
  }

  ~SubscriptionImpl() override { Cancel(); }

  void Cancel() override {
    cancelled_.store(true);
    feed_->WakeWaiters();
  }

  std::optional<Position> last_position() const override {
    if (options_.target == SubscribeOptions::Target::kStream || !last_) return std::nullopt;
    return Position(*last_);
  }
  std::optional<StreamRevision> last_revision() const override {
    if (options_.target != SubscribeOptions::Target::kStream || !last_) return std::nullopt;
    return StreamRevision(*last_);
  }

  // from_end: the start is the head at Subscribe time, not at the first
  // Next (a push subscription's first read happens later, on a dispatcher).
  Status ResolveStart() {
    if (!resolve_end_) return Status::OK();
    CAIRN_ASSIGN_OR_RETURN(const uint64_t head, feed_->CurrentHead());
    CAIRN_RETURN_IF_ERROR(ResolveEnd(head));
    resolve_end_ = false;
    return Status::OK();
  }

  Result<std::optional<SubscriptionMessage>> Next(std::chrono::milliseconds timeout) override {
    CAIRN_ASSIGN_OR_RETURN(bool ready, Fill(timeout));
    if (!ready) return std::optional<SubscriptionMessage>();
    return std::optional<SubscriptionMessage>(std::move(buf_[head_++]));
  }

  Result<size_t> NextBatch(std::vector<SubscriptionMessage>* out,
                           std::chrono::milliseconds timeout) override {
    CAIRN_ASSIGN_OR_RETURN(bool ready, Fill(timeout));
    if (!ready) {
      out->clear();
      return size_t{0};
    }
    if (head_ == 0) {
      // Hand over the page; keep the caller's old vector (and the capacity
      // of its strings) for the next page.
      std::swap(*out, buf_);
      out->resize(size_);
    } else {
      out->clear();
      for (size_t i = head_; i < size_; ++i) out->push_back(std::move(buf_[i]));
    }
    const size_t n = size_ - head_;
    head_ = size_ = 0;
    return n;
  }

 private:
  bool stream_target() const { return options_.target == SubscribeOptions::Target::kStream; }

  // Makes messages available in buf_[head_, size_): the next page of
  // events, or one marker. Waits up to `timeout` once live; false when it
  // passed with nothing new.
  Result<bool> Fill(std::chrono::milliseconds timeout) {
    std::optional<int64_t> deadline_ns;
    for (;;) {
      if (cancelled_.load()) return Status(ErrorCode::kCancelled, "subscription cancelled");
      if (feed_->closing()) return Status(ErrorCode::kClosed, "store is closed");
      if (head_ < size_) return true;
      // Each read of the feed is a call of the store in flight (Close
      // waits for it); waiting is not.
      head_ = size_ = 0;
      CAIRN_ASSIGN_OR_RETURN(const uint64_t head, feed_->CurrentHead());
      if (resolve_end_) {
        CAIRN_RETURN_IF_ERROR(ResolveEnd(head));
        resolve_end_ = false;
      }
      if (stream_target()) {
        CAIRN_RETURN_IF_ERROR(FillFromStream());
      } else {
        if (caught_up_ && head > next_ && head - next_ > options_.max_lag_events) {
          caught_up_ = false;
          PushMarker(SubscriptionMessage::Kind::kFellBehind, head);
          return true;
        }
        CAIRN_RETURN_IF_ERROR(tag_.empty() ? FillFromAll(head) : FillFromTag(head));
      }
      if (size_ > 0) return true;
      if (!caught_up_) {
        caught_up_ = true;
        PushMarker(SubscriptionMessage::Kind::kCaughtUp, head);
        return true;
      }
      // Only a subscription about to wait reads the clock.
      const int64_t now = feed_->env()->MonotonicNanos();
      if (!deadline_ns) {
        deadline_ns = now + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
      }
      if (now >= *deadline_ns) return false;
      feed_->WaitPast(head, *deadline_ns, &cancelled_);
    }
  }

  // The next free slot of buf_, reusing an old message's storage.
  SubscriptionMessage& Slot() {
    if (size_ == buf_.size()) buf_.emplace_back();
    return buf_[size_++];
  }

  void PushMarker(SubscriptionMessage::Kind kind, uint64_t p) {
    SubscriptionMessage& m = Slot();
    m.kind = kind;
    m.position = Position(p);
  }

  Status ResolveEnd(uint64_t head) {
    if (!stream_target()) {
      next_ = head;
      if (head > 0) last_ = head - 1;
      return Status::OK();
    }
    auto info = feed_->store()->GetStreamInfo(options_.name);
    if (!info) {
      if (info.error().code() != ErrorCode::kNotFound) return info.error();
      next_ = 0;
      return Status::OK();
    }
    next_ = info->last_revision.value() + 1;
    last_ = info->last_revision.value();
    return Status::OK();
  }

  void Push(const EventView& e) {
    SubscriptionMessage& m = Slot();
    m.kind = SubscriptionMessage::Kind::kEvent;
    m.position = e.position;
    RecordedEvent& r = m.event;
    r.stream.assign(e.stream);
    r.revision = e.revision;
    r.position = e.position;
    r.id = e.id;
    r.type.assign(e.type);
    r.content_type = e.content_type;
    r.data.assign(e.data);
    r.metadata.assign(e.metadata);
    r.created_ns = e.created_ns;
    r.caller_id = e.caller_id;
  }

  // Category and event-type targets read through the tag index: the cost
  // follows the events delivered, not the size of $all.
  Status FillFromTag(uint64_t head) {
    if (next_ >= head) return Status::OK();
    uint64_t bytes = 0, pushed = 0;
    bool full = false;
    CAIRN_RETURN_IF_ERROR(
        feed_->ScanTaggedRange(tag_, next_, head, *matcher_, [&](const EventView& e) {
          next_ = e.position.value() + 1;
          last_ = e.position.value();
          Push(e);
          ++pushed;
          bytes += e.data.size() + e.metadata.size();
          full = pushed >= options_.page_events || bytes >= kPageBytes;
          return !full;
        }));
    if (!full) {
      next_ = head;  // everything below head was considered
      last_ = head - 1;
    }
    return Status::OK();
  }

  Status FillFromAll(uint64_t head) {
    if (next_ >= head) return Status::OK();
    uint64_t bytes = 0, pushed = 0;
    const bool filtered = !matcher_->passes_all();
    Status s = feed_->ScanRange(next_, head, [&](const EventView& e) {
      next_ = e.position.value() + 1;
      last_ = e.position.value();
      if (matcher_->Matches(e.stream, e.type)) {
        Push(e);
        ++pushed;
        bytes += e.data.size() + e.metadata.size() + e.stream.size() + e.type.size();
        since_checkpoint_ = 0;
        return pushed < options_.page_events && bytes < kPageBytes;
      }
      if (filtered && options_.checkpoint_interval > 0 &&
          ++since_checkpoint_ >= options_.checkpoint_interval) {
        since_checkpoint_ = 0;
        if (pushed == 0) {
          PushMarker(SubscriptionMessage::Kind::kCheckpoint, e.position.value());
          return false;
        }
      }
      return true;
    });
    return s;
  }

  // Reads pages of the stream until something passes the filter or the
  // stream's end (as of now) is reached.
  Status FillFromStream() {
    for (;;) {
      ReadStreamOptions ro;
      ro.from = StreamRevision(next_);
      ro.max_count = options_.page_events;
      uint64_t bytes = 0, read = 0;
      Status s = feed_->store()->ReadStream(options_.name, ro, [&](const EventView& e) {
        ++read;
        next_ = e.revision.value() + 1;
        last_ = e.revision.value();
        if (matcher_->Matches(e.stream, e.type)) Push(e);
        bytes += e.data.size() + e.metadata.size();
        return bytes < kPageBytes;
      });
      if (s.code() == ErrorCode::kNotFound) return Status::OK();  // not created yet
      CAIRN_RETURN_IF_ERROR(s);
      const bool full = read >= options_.page_events || bytes >= kPageBytes;
      if (size_ > 0 || !full) return Status::OK();
    }
  }

  Feed* const feed_;
  const SubscribeOptions options_;
  const std::unique_ptr<EventMatcher> matcher_;
  std::atomic<bool> cancelled_{false};
  std::vector<SubscriptionMessage> buf_;  // messages [head_, size_) not yet handed out
  size_t head_ = 0;
  size_t size_ = 0;
  uint64_t next_ = 0;  // next position ($all targets) or revision (stream)
  std::optional<uint64_t> last_;
  uint64_t since_checkpoint_ = 0;
  bool caught_up_ = false;
  bool resolve_end_ = false;
  std::string tag_;  // category / event-type targets: the tag index key
};

}  // namespace

Result<std::unique_ptr<Subscription>> NewSubscription(Feed* feed, const SubscribeOptions& options) {
  using Target = SubscribeOptions::Target;
  EventFilter filter = options.filter;
  switch (options.target) {
    case Target::kAll:
      break;
    case Target::kStream:
      if (options.name.empty())
        return Status::InvalidArgument("stream subscription needs a stream name");
      if (options.after) {
        return Status::InvalidArgument(
            "a stream subscription starts after a revision (after_revision), not a position");
      }
      break;
    case Target::kCategory:
      if (options.name.empty() || options.name.find('-') != std::string::npos) {
        return Status::InvalidArgument("category '" + options.name +
                                       "' must be non-empty and contain no '-'");
      }
      filter.categories.push_back(options.name);
      break;
    case Target::kEventType:
      if (options.name.empty())
        return Status::InvalidArgument("event type subscription needs a type");
      filter.types.push_back(options.name);
      break;
  }
  if (options.target != Target::kStream && options.after_revision) {
    return Status::InvalidArgument(
        "only a stream subscription starts after a revision; this one takes a position (after)");
  }
  if (options.page_events == 0) return Status::InvalidArgument("page_events must be positive");
  CAIRN_ASSIGN_OR_RETURN(auto matcher, EventMatcher::Compile(filter));
  CAIRN_RETURN_IF_ERROR(feed->Follow());
  auto sub = std::make_unique<SubscriptionImpl>(feed, options, std::move(matcher));
  CAIRN_RETURN_IF_ERROR(sub->ResolveStart());
  return std::unique_ptr<Subscription>(std::move(sub));
}

}  // namespace cairn
