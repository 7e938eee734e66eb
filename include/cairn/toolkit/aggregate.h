#pragma once
// Aggregates: an application writes its domain and nothing else:
//
//   struct Account {
//     static constexpr std::string_view kCategory = "account";  // streams "account-<id>"
//     using Events = toolkit::EventSet<AccountOpened, FundsDeposited, ...>;
//     struct State { ... };                                  // default: before any event
//     static State Evolve(State s, const Events::Variant& e);  // a pure fold
//     // Optional, for snapshots: State::Describe(Fields<State>&) and
//     static constexpr int kSnapshotVersion = 1;
//   };
//
// and a command is a function deciding on the current state:
//   Decision<Account::Events::Variant> Withdraw(const Account::State&, int64_t amount);
//
// AggregateStore<A> does the rest: load (snapshot + tail, upcasting old
// events), decide, append with the exact expected revision, and on a
// conflict reload and decide again, handing the domain the competing events
// (what others appended since the state it decided on) so it can retry,
// merge or refuse on business grounds; a bounded number of attempts, then a
// kWrongExpectedRevision error. A command id makes a command idempotent:
// its events get ids derived from it, and a retry that finds them stored
// writes nothing and answers "duplicate".
//
// Thread safety: an AggregateStore may be used from many threads at once
// (optimistic concurrency sorts out commands on the same aggregate).
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "cairn/store.h"
#include "cairn/toolkit/audit.h"
#include "cairn/toolkit/crypto.h"
#include "cairn/toolkit/decision.h"
#include "cairn/toolkit/event.h"
#include "cairn/toolkit/snapshot.h"
#include "cairn/toolkit/upcaster.h"

namespace cairn::toolkit {

template <class A>
concept Aggregate = requires {
  { A::kCategory } -> std::convertible_to<std::string_view>;
  typename A::State;
  typename A::Events::Variant;
}
&&requires(typename A::State s, const typename A::Events::Variant& e) {
  { A::Evolve(std::move(s), e) } -> std::same_as<typename A::State>;
};

// Aggregates whose state can be snapshotted.
template <class A>
concept Snapshotting = Aggregate<A> && requires(Fields<typename A::State>& f) {
  { A::kSnapshotVersion } -> std::convertible_to<int>;
  A::State::Describe(f);
};

struct AggregateOptions {
  // Attempts of a command before a conflict is given up (>= 1).
  int max_attempts = 5;
  // Snapshot when this many events were appended since the last snapshot
  // (aggregates that are Snapshotting only). 0: never.
  uint64_t snapshot_every = 100;
  // Upcasters for events stored at older schema versions (may be null when
  // every event type is at version 1). Must outlive the AggregateStore.
  const Upcasters* upcasters = nullptr;
  // Seals and opens Personal fields of events and snapshots (crypto.h); may
  // be null when no event type has one. Must outlive the AggregateStore.
  PersonalDataCipher* cipher = nullptr;
};

struct LoadOptions {
  std::optional<uint64_t> at_revision;  // time travel: events up to this revision
  std::optional<int64_t> as_of_ns;      // time travel: events created at or before this
  bool use_snapshot = true;
};

template <class A>
struct Loaded {
  typename A::State state{};
  std::optional<StreamRevision> revision;  // nullopt: no event yet
  int64_t last_created_ns = 0;             // of the event at `revision`
  uint64_t events_read = 0;                // events folded (after the snapshot)
  std::optional<StreamRevision> snapshot;  // the snapshot the load started from
};

// What the domain sees when it decides again after a conflict.
template <class A>
struct Competing {
  int attempt = 1;                                  // 1: the first decision
  std::vector<typename A::Events::Variant> events;  // appended by others since the last decision
};

template <class A>
struct CommandResult {
  std::optional<DomainError> rejected;  // the domain refused: nothing written
  // The command's events: appended now, or found stored (duplicate).
  std::vector<typename A::Events::Variant> events;
  std::optional<StreamRevision> revision;  // the stream's revision after the command
  Position position;                       // of the command's last event
  bool duplicate = false;                  // a retry of a command already applied
  int attempts = 0;
  // The state right after the command (for a duplicate: after the original
  // command, without the events appended since).
  typename A::State state{};
};

struct HistoryEntry {
  StreamRevision revision;
  Position position;
  std::string type;
  int64_t created_ns = 0;
  Audit audit;
  std::string data;  // JSON at the current schema version (upcast if older)
};

template <Aggregate A>
class AggregateStore {
 public:
  using State = typename A::State;
  using Event = typename A::Events::Variant;

  // `store` must outlive this object.
  // Checks the upcaster chains (Validate): when one is incomplete, every
  // Load and Handle returns that error, so a missing step shows at the
  // first use, not at the first old event.
  explicit AggregateStore(Store* store, AggregateOptions options = {})
      : store_(store), options_(options), valid_(Validate()) {
    if constexpr (Snapshotting<A>) {
      if (options_.snapshot_every > 0) snapshots_ = std::make_unique<SnapshotWriter>(store);
    }
  }

  static std::string StreamOf(std::string_view id) {
    return std::string(A::kCategory) + "-" + std::string(id);
  }

  // Every event type's upcaster chain reaches its current version.
  Status Validate() const {
    Status s;
    A::Events::ForEachType([&](std::string_view type, int version) {
      if (!s.ok() || version <= 1) return;
      if (options_.upcasters == nullptr) {
        s = Status::InvalidArgument(std::string(type) + " is at version " +
                                    std::to_string(version) + " but no upcasters are registered");
      } else {
        s = options_.upcasters->Validate(type, version);
      }
    });
    return s;
  }

  // The aggregate's state: from the newest usable snapshot (one of the
  // current snapshot version, within the time-travel bounds) plus the
  // events after it. A stream with no event gives the initial state.
  Result<Loaded<A>> Load(std::string_view id, const LoadOptions& o = {}) {
    if (!valid_.ok()) return valid_;
    const std::string stream = StreamOf(id);
    Loaded<A> out;
    uint64_t from = 0;
    if constexpr (Snapshotting<A>) {
      if (o.use_snapshot && snapshots_ != nullptr) LoadSnapshot(stream, o, &out, &from);
    }
    ReadStreamOptions ro;
    ro.from = StreamRevision(from);
    Status failed;
    // One event object per type, decoded into again and again: strings keep
    // their buffers (one object for all types would be rebuilt, and its
    // strings reallocated, whenever the type changes).
    std::array<Event, std::variant_size_v<Event>> slots;
    Status s = store_->ReadStream(stream, ro, [&](const EventView& e) {
      if (o.at_revision && e.revision.value() > *o.at_revision) return false;
      if (o.as_of_ns && e.created_ns > *o.as_of_ns) return false;
      const int index = A::Events::IndexOf(e.type);
      Event& ev = slots[index < 0 ? 0 : static_cast<size_t>(index)];
      failed = DecodeStoredAt(e, index, &ev);
      if (!failed.ok()) return false;
      out.state = A::Evolve(std::move(out.state), ev);
      out.revision = e.revision;
      out.last_created_ns = e.created_ns;
      ++out.events_read;
      return true;
    });
    if (!failed.ok()) return failed;
    // A missing or soft-deleted stream is a new aggregate, whatever
    // snapshot of an earlier life its snapshot stream still holds.
    if (s.code() == ErrorCode::kNotFound) return Loaded<A>{};
    if (!s.ok()) return s;
    return out;
  }

  // Runs a command: `decide(state)` or `decide(state, competing)` returning
  // a Decision<Event>. See the top of this file.
  template <class Decide>
  Result<CommandResult<A>> Handle(std::string_view id, const CommandContext& caller,
                                  Decide&& decide) {
    if (!valid_.ok()) return valid_;
    const std::string stream = StreamOf(id);
    // Every event carries a command id: the caller's (idempotent retries),
    // or one made for this command (its events then get engine ids).
    const bool idempotent = !caller.command_id.IsNil();
    CommandContext ctx = caller;
    if (!idempotent) ctx.command_id = Uuid::Random();
    std::optional<StreamRevision> decided_on;
    std::string last_conflict;
    Competing<A> competing;
    const int attempts = std::max(1, options_.max_attempts);
    for (int attempt = 1; attempt <= attempts; ++attempt) {
      auto loaded = Load(id);
      if (!loaded.has_value()) return loaded.error();
      if (idempotent) {
        auto done = FindApplied(id, stream, ctx.command_id, *loaded);
        if (!done.has_value()) return done.error();
        if (*done) {
          (*done)->attempts = attempt;
          return std::move(**done);
        }
      }
      competing.attempt = attempt;
      competing.events.clear();
      if (attempt > 1) {
        Status cs = ReadBetween(stream, decided_on, loaded->revision, &competing.events);
        if (!cs.ok()) return cs;
      }
      Decision<Event> d = Call(decide, loaded->state, competing);
      CommandResult<A> result;
      result.attempts = attempt;
      if (!d.accepted()) {
        result.rejected = d.error();
        result.revision = loaded->revision;
        result.state = std::move(loaded->state);
        return result;
      }
      if (d.events().empty()) {
        result.revision = loaded->revision;
        result.state = std::move(loaded->state);
        return result;
      }
      std::vector<EventData> data;
      data.reserve(d.events().size());
      for (size_t i = 0; i < d.events().size(); ++i) {
        EventData e;
        if (idempotent) e.id = CommandEventId(ctx.command_id, stream, static_cast<uint32_t>(i));
        e.type = std::string(A::Events::TypeName(d.events()[i]));
        auto sealed = A::Events::EncodeSealed(d.events()[i], options_.cipher);
        if (!sealed.has_value()) return sealed.error();  // e.g. a forgotten subject
        e.data = std::move(*sealed);
        e.metadata = EncodeAudit(ctx, A::Events::VersionOf(d.events()[i]));
        data.push_back(std::move(e));
      }
      const ExpectedRevision expected = loaded->revision
                                            ? ExpectedRevision::Exact(*loaded->revision)
                                            : ExpectedRevision::NoStream();
      auto r = store_->Append(stream, expected, data);
      if (!r.has_value()) {
        if (r.error().code() != ErrorCode::kWrongExpectedRevision) return r.error();
        decided_on = loaded->revision;
        last_conflict = r.error().message();
        continue;  // someone else appended: reload and decide again
      }
      State state = std::move(loaded->state);
      for (const Event& e : d.events()) state = A::Evolve(std::move(state), e);
      result.events = std::move(d.events());
      result.revision = r->revision;
      result.position = r->position;
      result.duplicate = r->duplicate;  // a concurrent retry of this very command won
      if constexpr (Snapshotting<A>) {
        if (!r->duplicate) MaybeSnapshot(stream, *loaded, state, *r->revision);
      }
      result.state = std::move(state);
      return result;
    }
    return Status(ErrorCode::kWrongExpectedRevision,
                  "command on " + stream + " gave up after " + std::to_string(attempts) +
                      " attempts: others kept appending to the stream (last: " + last_conflict +
                      ")");
  }

  // Forgets a data subject the way crypto-shredding asks: `decide` appends
  // the audit event of the erasure (as Handle), then the subject's key is
  // erased (AggregateOptions::cipher). Run again after a crash between the
  // two: the key is erased even when the decision writes nothing.
  // kFailedPrecondition without a cipher.
  template <class Decide>
  Result<CommandResult<A>> Forget(std::string_view id, const CommandContext& ctx, Decide&& decide,
                                  std::string_view subject) {
    if (options_.cipher == nullptr) {
      return Status(ErrorCode::kFailedPrecondition,
                    "forgetting a subject needs AggregateOptions::cipher");
    }
    auto r = Handle(id, ctx, std::forward<Decide>(decide));
    if (!r.has_value() || r->rejected) return r;
    CAIRN_RETURN_IF_ERROR(options_.cipher->Forget(subject));
    return r;
  }

  // Every event of the aggregate with who did it, when, and its data at the
  // current schema version.
  Result<std::vector<HistoryEntry>> History(std::string_view id) {
    std::vector<HistoryEntry> out;
    Status failed;
    Status s = store_->ReadStream(StreamOf(id), ReadStreamOptions{}, [&](const EventView& e) {
      auto ev = DecodeStored(e);
      auto audit = DecodeAudit(e.metadata);
      if (!ev.has_value() || !audit.has_value()) {
        failed = !ev.has_value() ? ev.error() : audit.error();
        return false;
      }
      out.push_back({e.revision, e.position, std::string(e.type), e.created_ns, std::move(*audit),
                     A::Events::Encode(*ev)});
      return true;
    });
    if (!failed.ok()) return failed;
    if (!s.ok()) return s;
    return out;
  }

  // Waits until queued snapshots are written (tests, shutdown).
  void FlushSnapshots() {
    if (snapshots_) snapshots_->Flush();
  }
  SnapshotStats snapshot_stats() const {
    return snapshots_ ? snapshots_->stats() : SnapshotStats{};
  }

  // A stored event as a typed event: upcast from its stored schema version
  // when older; kInvalidArgument naming stream, revision and problem.
  Result<Event> DecodeStored(const EventView& e) const {
    Event ev;
    if (Status s = DecodeStoredInto(e, &ev); !s.ok()) return s;
    return ev;
  }
  // The same into *out, reusing its storage.
  Status DecodeStoredInto(const EventView& e, Event* out) const {
    return DecodeStoredAt(e, A::Events::IndexOf(e.type), out);
  }

 private:
  // DecodeStoredInto with the index of e.type in A::Events (-1: unknown).
  Status DecodeStoredAt(const EventView& e, int index, Event* out) const {
    auto where = [&] {
      return std::string(e.stream) + "@" + std::to_string(e.revision.value()) + ": ";
    };
    if (index < 0) {
      return Status::InvalidArgument(where() + "unknown event type '" + std::string(e.type) + "'");
    }
    const int current = A::Events::VersionAt(index);
    auto version = SchemaVersionOf(e.metadata);
    if (!version.has_value()) return Status::InvalidArgument(where() + version.error().message());
    if (*version > current) {
      return Status::InvalidArgument(where() + std::string(e.type) + " has schema version " +
                                     std::to_string(*version) + ", newer than this program's " +
                                     std::to_string(current));
    }
    std::string upcast;
    if (*version < current) {
      if (options_.upcasters == nullptr) {
        return Status::InvalidArgument(where() + std::string(e.type) + " v" +
                                       std::to_string(*version) +
                                       " needs upcasters, none are registered");
      }
      auto up = options_.upcasters->Upcast(e.type, *version, current, e.data);
      if (!up.has_value()) return Status::InvalidArgument(where() + up.error().message());
      upcast = std::move(*up);
    }
    Status s = A::Events::DecodeAt(index, *version < current ? std::string_view(upcast) : e.data,
                                   out, options_.cipher);
    if (!s.ok()) return Status(s.code(), where() + s.message());
    return Status::OK();
  }

  template <class Decide>
  static Decision<Event> Call(Decide& decide, const State& s, const Competing<A>& c) {
    if constexpr (std::is_invocable_v<Decide&, const State&, const Competing<A>&>) {
      return decide(s, c);
    } else {
      return decide(s);
    }
  }

  // The decoded events with revisions in (after, upto].
  Status ReadBetween(const std::string& stream, std::optional<StreamRevision> after,
                     std::optional<StreamRevision> upto, std::vector<Event>* out) {
    if (!upto) return Status::OK();
    ReadStreamOptions ro;
    ro.from = StreamRevision(after ? after->value() + 1 : 0);
    Status failed;
    Status s = store_->ReadStream(stream, ro, [&](const EventView& e) {
      if (e.revision.value() > upto->value()) return false;
      auto ev = DecodeStored(e);
      if (!ev.has_value()) {
        failed = ev.error();
        return false;
      }
      out->push_back(std::move(*ev));
      return true;
    });
    return failed.ok() ? s : failed;
  }

  // The result of a command whose events are already stored, or nullopt.
  Result<std::optional<CommandResult<A>>> FindApplied(std::string_view id,
                                                      const std::string& stream,
                                                      const Uuid& command, Loaded<A>& loaded) {
    auto first = store_->FindEvent(stream, CommandEventId(command, stream, 0));
    if (!first.has_value()) {
      if (first.error().code() == ErrorCode::kNotFound) return std::optional<CommandResult<A>>();
      return first.error();
    }
    if (!*first) return std::optional<CommandResult<A>>();
    CommandResult<A> r;
    r.duplicate = true;
    ReadStreamOptions ro;
    ro.from = (*first)->revision;
    Status failed;
    uint32_t index = 0;
    Status s = store_->ReadStream(stream, ro, [&](const EventView& e) {
      if (!(e.id == CommandEventId(command, stream, index))) return false;
      auto ev = DecodeStored(e);
      if (!ev.has_value()) {
        failed = ev.error();
        return false;
      }
      r.events.push_back(std::move(*ev));
      r.revision = e.revision;
      r.position = e.position;
      ++index;
      return true;
    });
    if (!failed.ok()) return failed;
    if (!s.ok()) return s;
    if (r.revision && r.revision != loaded.revision) {
      // Events came after the original command: its state is an earlier one.
      LoadOptions then;
      then.at_revision = r.revision->value();
      auto at = Load(id, then);
      if (!at.has_value()) return at.error();
      r.state = std::move(at->state);
    } else {
      r.state = loaded.state;
    }
    return std::optional<CommandResult<A>>(std::move(r));
  }

  void LoadSnapshot(const std::string& stream, const LoadOptions& o, Loaded<A>* out,
                    uint64_t* from) requires Snapshotting<A> {
    ReadStreamOptions ro;
    ro.direction = Direction::kBackwards;
    ro.max_count = 4;  // the newest usable one within the time-travel bounds
    std::optional<std::optional<uint64_t>> truncated;  // the stream's "$tb", read once if needed
    (void)store_->ReadStream(SnapshotStreamOf(stream), ro, [&](const EventView& e) {
      SnapshotHeader h;
      if (!ParseSnapshotHeader(e.metadata, &h)) return true;
      if (!truncated) {
        // A snapshot from before a soft delete belongs to an earlier life
        // of the stream: never combined with the events after it.
        auto md = store_->GetStreamMetadata(stream);
        truncated = md.has_value() ? md->metadata.truncate_before : std::optional<uint64_t>();
      }
      if (*truncated && **truncated > h.revision) return false;
      if (h.schema_version != A::kSnapshotVersion) return true;  // older schema: never misread
      if (o.at_revision && h.revision > *o.at_revision) return true;
      if (o.as_of_ns && h.last_created_ns > *o.as_of_ns) return true;
      State s{};
      typename Fields<State>::Into sink(StateFields(), &s);
      if (!DecodeFields("snapshot of " + stream, StateFields().specs(), e.data, &sink,
                        options_.cipher)
               .ok()) {
        return true;  // damaged, or sealed for a key this program cannot use: rebuild
      }
      out->state = std::move(s);
      out->revision = StreamRevision(h.revision);
      out->snapshot = StreamRevision(h.revision);
      out->last_created_ns = h.last_created_ns;
      *from = h.revision + 1;
      return false;
    });
  }

  void MaybeSnapshot(const std::string& stream, const Loaded<A>& before, const State& state,
                     StreamRevision revision) requires Snapshotting<A> {
    if (snapshots_ == nullptr) return;
    const uint64_t since =
        before.snapshot ? revision.value() - before.snapshot->value() : revision.value() + 1;
    if (since < options_.snapshot_every) return;
    // Encoded (personal data sealed like in events) on the writer's thread:
    // the vault is never asked on the command's.
    PersonalDataCipher* cipher = options_.cipher;
    snapshots_->Enqueue(
        stream,
        [state, cipher]() -> Result<std::string> {
          std::vector<FieldValue> values;
          StateFields().Get(state, &values);
          return EncodeFields(StateFields().specs(), values, cipher);
        },
        A::kSnapshotVersion, revision.value());
  }

  static const Fields<State>& StateFields() {
    static const Fields<State> f = [] {
      Fields<State> x;
      State::Describe(x);
      return x;
    }();
    return f;
  }

  Store* store_;
  AggregateOptions options_;
  Status valid_;  // Validate() at construction
  std::unique_ptr<SnapshotWriter> snapshots_;
};

}  // namespace cairn::toolkit
