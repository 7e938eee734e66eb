#pragma once
// Feed: what catch-up and push subscriptions (subscription.cc, push.cc)
// need of a store, and no more: the head, ranges of $all and of a tag, the
// stream reads of the public API, and a way to wait for the head to move.
// The subscriptions know nothing else of the engine; StoreImpl is the one
// implementation.
//
// Thread safety: every method may be called from any thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "cairn/env.h"
#include "cairn/store.h"
#include "cairn/subscription.h"
#include "src/store/commit_queue.h"

namespace cairn {

class EventMatcher;

class Feed {
 public:
  virtual ~Feed() = default;

  // The store whose streams subscriptions read (ReadStream, GetStreamInfo).
  virtual Store* store() = 0;
  // The clock and threads subscriptions use.
  virtual Env* env() = 0;
  // The head as a reader sees it now: events at positions below it are
  // visible. A read-only process first catches up with its writer's
  // durable end. kClosed once Close has begun.
  virtual Result<uint64_t> CurrentHead() = 0;
  // The visible head as it is: no catch-up, never an error.
  virtual uint64_t VisibleHead() const = 0;
  // Visits the events at positions [from, to) of $all in order, `to` at
  // most a head CurrentHead() returned; visit returns false to stop. Counts as a
  // call in flight (Close waits for it) and holds the files steady while
  // it runs. kClosed once Close has begun.
  virtual Status ScanRange(uint64_t from, uint64_t to, const EventVisitor& visit) = 0;
  // The same for the events carrying `tag` (CategoryTag / TypeTag) that
  // `matcher` passes, in $all order, through the tag index: the cost
  // follows the events visited, not the size of $all.
  virtual Status ScanTaggedRange(const std::string& tag, uint64_t from, uint64_t to,
                                 const EventMatcher& matcher, const EventVisitor& visit) = 0;
  // Blocks until the visible head passes `head`, the Env's monotonic clock
  // reaches `deadline_ns` (measured as real time passing: see
  // Env::MonotonicNanos), `*cancelled` is set (may be null) or Close
  // begins. Costs no CPU while it waits.
  virtual void WaitPast(uint64_t head, int64_t deadline_ns, const std::atomic<bool>* cancelled) = 0;
  // Wakes every WaitPast now (a cancel, a new push subscription, Close).
  virtual void WakeWaiters() = 0;
  // Close has begun (or ended).
  virtual bool closing() const = 0;
  // A read-only process starts following its writer here, so that WaitPast
  // ends on the writer's commits; does nothing in a writer, or when
  // already following. An error when the directory cannot be watched.
  virtual Status Follow() = 0;
};

// InAppendCallback() (commit_queue.h): a push subscription's Cancel asks
// it, since it must not wait for a handler from an append callback.

// A catch-up subscription reading `feed` (which must outlive it). Checks
// `options` (kInvalidArgument naming what is wrong), starts following a
// writer when read-only, and takes a from_end start point now.
// subscription.cc.
Result<std::unique_ptr<Subscription>> NewSubscription(Feed* feed, const SubscribeOptions& options);

}  // namespace cairn
