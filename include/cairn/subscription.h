#pragma once
// Event filters for $all reads, and catch-up subscriptions.
//
// A subscription reads history from where it starts, then follows the log
// live: there is no gap and no duplicate at the switch, because live events
// are read from the same log by position, never copied into a separate
// feed. A subscription never holds up writers or other subscriptions: it
// reads at its own pace, one bounded page at a time; when it falls more than
// `max_lag_events` behind the head after having caught up, it says so
// (kFellBehind), keeps reading history and says kCaughtUp again when it is
// back at the head. Waiting costs no CPU: a waiting subscription sleeps on a
// condition variable woken by the commit that publishes new events (in a
// read-only process, by an inotify watch on the writer's HEAD file).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cairn/status.h"
#include "cairn/types.h"

namespace cairn {

// Which events pass. Every non-empty criterion must hold (AND); within one
// list any entry may match (OR). An empty filter passes everything.
// Regexes use RE2 syntax (linear time, no backtracking blow-ups) and pass
// when they match anywhere in the text (anchor with ^ and $ for a full
// match). An invalid regex is kInvalidArgument naming it.
struct EventFilter {
  std::vector<std::string> stream_prefixes;
  std::string stream_regex;
  // Category: the stream name's part before its first '-' ("account" for
  // "account-123"). A stream without '-' belongs to no category.
  std::vector<std::string> categories;
  std::vector<std::string> type_prefixes;
  std::string type_regex;
  std::vector<std::string> types;  // exact event types

  bool empty() const {
    return stream_prefixes.empty() && stream_regex.empty() && categories.empty() &&
           type_prefixes.empty() && type_regex.empty() && types.empty();
  }
};

// The category of a stream name, or "" when it has none.
std::string_view CategoryOf(std::string_view stream);

struct SubscribeOptions {
  enum class Target : uint8_t { kAll, kStream, kCategory, kEventType };
  Target target = Target::kAll;
  // The stream (kStream), category (kCategory) or event type (kEventType).
  std::string name;
  // Where it starts (exclusive), of the kind its target is ordered by:
  // $all, category and event-type subscriptions take the position `after`
  // (events at later positions), a stream subscription the revision
  // `after_revision`. Setting the other one is kInvalidArgument. Neither:
  // from the very beginning (unless from_end).
  std::optional<Position> after;
  std::optional<StreamRevision> after_revision;
  // Start at the head as Subscribe() finds it: only events appended after
  // that. (A tombstoned stream is then a kStreamDeleted from Subscribe.)
  bool from_end = false;
  // Further narrows which events are delivered (any target).
  EventFilter filter;
  // A filtered subscription reports a kCheckpoint after scanning this many
  // events without delivering one, so a resumed subscriber need not scan
  // them again. 0 disables periodic checkpoints.
  uint64_t checkpoint_interval = 1024;
  // Events read per page (the subscription's buffer bound, also capped at
  // 4 MiB of event bytes).
  uint64_t page_events = 1024;
  // After catching up, a subscription further behind the head than this
  // reports kFellBehind, reads history, and reports kCaughtUp again.
  uint64_t max_lag_events = 65536;

  static SubscribeOptions All() { return {}; }
  static SubscribeOptions Stream(std::string stream) {
    SubscribeOptions o;
    o.target = Target::kStream;
    o.name = std::move(stream);
    return o;
  }
  static SubscribeOptions Category(std::string category) {
    SubscribeOptions o;
    o.target = Target::kCategory;
    o.name = std::move(category);
    return o;
  }
  static SubscribeOptions EventType(std::string type) {
    SubscribeOptions o;
    o.target = Target::kEventType;
    o.name = std::move(type);
    return o;
  }
};

struct SubscriptionMessage {
  enum class Kind : uint8_t {
    kEvent,       // `event` holds the next event
    kCaughtUp,    // history is delivered; following live from here
    kFellBehind,  // lagging more than max_lag_events: reading history again
    kCheckpoint,  // nothing passed the filter up to `position` (inclusive)
  };
  Kind kind = Kind::kEvent;
  RecordedEvent event;
  // kCheckpoint: the last position scanned (resume with after = position).
  // kCaughtUp / kFellBehind: the head at that moment ($all positions below
  // it have all been considered for kCaughtUp).
  Position position;
};

// A catch-up subscription. Next() is called by one thread at a time;
// Cancel() from any thread. A Subscription must be destroyed before its
// Store is closed.
class Subscription {
 public:
  virtual ~Subscription() = default;
  // The next message. Waits up to `timeout` for new events once live and
  // returns nullopt when none came. kCancelled after Cancel();
  // kClosed once the store is closed; read errors (kCorruption,
  // kIOError) as they happen (the subscription may be retried from the
  // last position it delivered).
  virtual Result<std::optional<SubscriptionMessage>> Next(std::chrono::milliseconds timeout) = 0;
  // The same messages, a page at a time: replaces *out with the next ones
  // (up to page_events events, or one marker) and returns how many; 0 when
  // `timeout` passed with nothing new. The storage of *out's strings is
  // reused, so a loop calling it with the same vector does not allocate per
  // event (the fast way to catch up). Errors as for Next.
  virtual Result<size_t> NextBatch(std::vector<SubscriptionMessage>* out,
                                   std::chrono::milliseconds timeout) = 0;
  // Makes a waiting and every later Next() return kCancelled, promptly.
  virtual void Cancel() = 0;
  // The position of the last event delivered or scanned by a $all,
  // category or event-type subscription (resume with after = it); nullopt
  // before any, and always for a stream subscription.
  virtual std::optional<Position> last_position() const = 0;
  // The revision of the last event a stream subscription delivered (resume
  // with after_revision = it); nullopt before any, and for other targets.
  virtual std::optional<StreamRevision> last_revision() const = 0;
};

// A push subscription (Store::SubscribePush): the same messages as a
// Subscription, delivered to handlers by the store's dispatcher threads
// instead of a thread of the caller's blocking in Next(). One dispatcher
// thread serves many subscriptions: on each commit it hands the new events
// to every live subscription in turn, so a fan-out to many subscribers costs
// one thread wake-up instead of one per subscriber. A subscription catching
// up on history gets one page per turn, so it does not hold the others up
// for more than a page.
//
// Handlers run on a dispatcher thread, one message at a time per
// subscription, never concurrently with each other on the same dispatcher.
// They must be quick (a slow handler delays the other subscriptions of its
// dispatcher, never the writers) and must not throw (that ends the
// process); they may read, append and subscribe, and cancel any
// subscription, their own included, but not Close or destroy the Store. `on_message` returns false
// to end the subscription (then `on_end` gets OK). `on_end` is called exactly once when the
// subscription ends for any other reason than Cancel: with the read error (kCorruption, kIOError,
// kStreamDeleted...) or kClosed when the store closes. After Cancel() returns, no handler of the
// subscription runs again and `on_end` is not called.
struct PushHandlers {
  std::function<bool(const SubscriptionMessage&)> on_message;
  std::function<void(const Status&)> on_end;  // may be empty
};

class PushSubscription {
 public:
  // Cancels.
  virtual ~PushSubscription() = default;
  // Stops delivery. Waits for a handler of this subscription that is
  // running on another thread to return, so that none runs after Cancel
  // returns. Called from its own handler, from a handler on another
  // dispatcher thread or from an append callback it does not wait (that
  // could deadlock): the message being handled is then the last. Idempotent.
  virtual void Cancel() = 0;
  // As Subscription::last_position() / last_revision(), readable from any
  // thread.
  virtual std::optional<Position> last_position() const = 0;
  virtual std::optional<StreamRevision> last_revision() const = 0;
};

}  // namespace cairn
