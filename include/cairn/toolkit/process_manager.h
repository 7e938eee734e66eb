#pragma once
// Process managers: react to events by issuing commands (OrderSubmitted ->
// charge payment; PaymentProcessed -> ship). A ProcessManagerRunner follows
// a category (or $all with a filter) from the manager's checkpoint and hands
// it each event with a ReactionContext whose command contexts carry command
// ids derived from (manager, event id, index): when an event is delivered
// again (a crash after its commands and before the checkpoint), the same
// commands carry the same ids and AggregateStore answers "duplicate" instead
// of applying them twice. The checkpoint lives in the event store itself,
// in the stream "checkpoint-<name>" (one "Checkpoint" event per save,
// {"position": P}, "$maxCount": 2), appended with the exact expected
// revision so two runners of one manager cannot both advance it.
//
// Thread safety: the runner calls Handle from its one thread; its other
// methods may be called from any thread.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "cairn/store.h"
#include "cairn/subscription.h"
#include "cairn/toolkit/audit.h"

namespace cairn::toolkit {

inline constexpr std::string_view kCheckpointCategory = "checkpoint";

// What a manager needs to issue the commands of one event.
class ReactionContext {
 public:
  ReactionContext(std::string_view manager, const RecordedEvent& event, std::string user);
  // The context of the index-th command issued for this event: its id is
  // derived from (manager, event id, index); causation is the event's id,
  // correlation the event's correlation id (or its id); user the manager's.
  CommandContext Command(uint32_t index) const;

 private:
  std::string manager_;
  Uuid event_id_;
  std::string correlation_;
  std::string user_;
};

class ProcessManager {
 public:
  virtual ~ProcessManager() = default;
  // Names the checkpoint stream and scopes the command ids: stable, and
  // unique among the managers of a store; a valid stream-name part.
  virtual std::string name() const = 0;
  // Reacts to one event (commands through AggregateStore::Handle with
  // ctx.Command(i)). A non-OK status stops the runner before the event's
  // position is checkpointed: after a restart the event comes again.
  virtual Status Handle(const RecordedEvent& event, const ReactionContext& ctx) = 0;
};

struct ProcessManagerOptions {
  // The source: this category, or all of $all when empty; narrowed by
  // `filter`.
  std::string category;
  EventFilter filter;
  // Save the checkpoint after this many handled events (and whenever the
  // runner has caught up, and on Stop). Default 100.
  uint64_t checkpoint_every = 100;
  // The acting user of the commands; default "process:<name>".
  std::string user;
};

class ProcessManagerRunner {
 public:
  virtual ~ProcessManagerRunner() = default;
  // Reads the checkpoint and starts following. `store` and `manager` must
  // outlive the runner. kInvalidArgument for a bad name or filter.
  static Result<std::unique_ptr<ProcessManagerRunner>> Start(Store* store, ProcessManager* manager,
                                                             ProcessManagerOptions options);
  // OK while running; the error that stopped it otherwise.
  virtual Status status() const = 0;
  // The last position handled (or passed over); nullopt before any.
  virtual std::optional<Position> checkpoint() const = 0;
  // Blocks until every event at or before `p` is handled: OK;
  // kDeadlineExceeded when `timeout` passes, kCancelled after Stop, or the
  // error that stopped the runner.
  virtual Status WaitFor(Position p, std::chrono::milliseconds timeout) = 0;
  // Stops the thread and saves the checkpoint. Idempotent.
  virtual Status Stop() = 0;
};

}  // namespace cairn::toolkit
