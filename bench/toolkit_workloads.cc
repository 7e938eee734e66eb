// Toolkit workloads (system=toolkit, issue 4): rebuilding an aggregate from
// its events, loading it from a snapshot, and commands through
// AggregateStore on one aggregate and spread over 100,000 (both with a
// raw-append peer, system=cairn). Personal data sealing is in
// personal_data_workload.cc. A small bank account aggregate is defined here;
// its events are encoded exactly as AggregateStore writes them
// (EventSet::EncodeSealed + EncodeAudit), also when the setup appends them
// directly. Public API only: include/cairn/ and include/cairn/toolkit/.

#include <algorithm>
#include <cstdio>
#include <latch>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "bench/workload.h"
#include "cairn/native.h"
#include "cairn/toolkit/aggregate.h"

namespace cairn::bench {
namespace {

namespace tk = ::cairn::toolkit;

// ---- The bank account aggregate (136-152 bytes of JSON data per event) ----

struct Opened {
  static constexpr std::string_view kType = "Opened";
  static constexpr int kVersion = 1;
  std::string account;
  std::string owner;
  std::string currency;
  std::string branch;
  std::string note;
  static void Describe(tk::Fields<Opened>& f) {
    f.Add("account", &Opened::account);
    f.Add("owner", &Opened::owner);
    f.Add("currency", &Opened::currency);
    f.Add("branch", &Opened::branch);
    f.Add("note", &Opened::note);
  }
};

struct Deposited {
  static constexpr std::string_view kType = "Deposited";
  static constexpr int kVersion = 1;
  std::string account;
  int64_t amount = 0;  // minor units
  std::string currency;
  std::string reference;
  std::string channel;
  std::string note;
  static void Describe(tk::Fields<Deposited>& f) {
    f.Add("account", &Deposited::account);
    f.Add("amount", &Deposited::amount, tk::Min(1));
    f.Add("currency", &Deposited::currency);
    f.Add("reference", &Deposited::reference);
    f.Add("channel", &Deposited::channel);
    f.Add("note", &Deposited::note);
  }
};

struct Withdrawn {
  static constexpr std::string_view kType = "Withdrawn";
  static constexpr int kVersion = 1;
  std::string account;
  int64_t amount = 0;  // minor units
  std::string currency;
  std::string reference;
  std::string channel;
  std::string note;
  static void Describe(tk::Fields<Withdrawn>& f) {
    f.Add("account", &Withdrawn::account);
    f.Add("amount", &Withdrawn::amount, tk::Min(1));
    f.Add("currency", &Withdrawn::currency);
    f.Add("reference", &Withdrawn::reference);
    f.Add("channel", &Withdrawn::channel);
    f.Add("note", &Withdrawn::note);
  }
};

struct Bank {
  static constexpr std::string_view kCategory = "bank";  // streams "bank-<id>"
  static constexpr int kSnapshotVersion = 1;
  using Events = tk::EventSet<Opened, Deposited, Withdrawn>;
  struct State {
    bool open = false;
    int64_t balance = 0;
    int64_t deposits = 0;
    int64_t withdrawals = 0;
    std::string owner;
    std::string last_reference;
    static void Describe(tk::Fields<State>& f) {
      f.Add("open", &State::open);
      f.Add("balance", &State::balance);
      f.Add("deposits", &State::deposits);
      f.Add("withdrawals", &State::withdrawals);
      f.Add("owner", &State::owner);
      f.Add("last_reference", &State::last_reference);
    }
  };
  static State Evolve(State s, const Events::Variant& e) {
    if (const auto* o = std::get_if<Opened>(&e)) {
      s.open = true;
      s.owner = o->owner;
    } else if (const auto* d = std::get_if<Deposited>(&e)) {
      s.balance += d->amount;
      ++s.deposits;
      s.last_reference = d->reference;
    } else if (const auto* w = std::get_if<Withdrawn>(&e)) {
      s.balance -= w->amount;
      ++s.withdrawals;
      s.last_reference = w->reference;
    }
    return s;
  }
};
using BankEvent = Bank::Events::Variant;
using BankStore = tk::AggregateStore<Bank>;

std::string AccountName(std::string_view id) { return "acc-" + std::string(id); }

BankEvent MakeOpened(std::string_view id) {
  return Opened{AccountName(id), "Ann Example", "EUR", "branch-0042",
                "opened online, standard current account"};
}

// The i-th money movement on account `id`: a withdrawal every 4th (smaller
// than the deposits before it, so the balance stays positive), else a deposit.
BankEvent MakeMovement(std::string_view id, uint64_t i) {
  char ref[32];
  std::snprintf(ref, sizeof(ref), "tx-%010llu", static_cast<unsigned long long>(i));
  const int64_t amount = static_cast<int64_t>((i * 7919) % 50'000 + 100);
  if (i % 4 == 3) {
    return Withdrawn{
        AccountName(id), amount / 4 + 1, "EUR", ref, "card", "card payment at a grocery store"};
  }
  return Deposited{
      AccountName(id), amount, "EUR", ref, "transfer", "salary and expenses via bank transfer"};
}

// A typed event as AggregateStore::Handle stores it (no command id).
Result<EventData> StoredForm(const BankEvent& e) {
  EventData d;
  d.type = std::string(Bank::Events::TypeName(e));
  CAIRN_ASSIGN_OR_RETURN(d.data, Bank::Events::EncodeSealed(e, nullptr));
  d.metadata = tk::EncodeAudit(tk::CommandContext{}, Bank::Events::VersionOf(e));
  return d;
}

// The command of the workloads: withdraw when the balance allows it (every
// 4th command), else deposit; never rejected.
auto MoveMoney(std::string id, uint64_t i) {
  return [id = std::move(id), i](const Bank::State& s) -> tk::Decision<BankEvent> {
    BankEvent e = MakeMovement(id, i);
    if (const auto* w = std::get_if<Withdrawn>(&e); w != nullptr && s.balance < w->amount) {
      e = MakeMovement(id, i + 1);  // a deposit
    }
    return e;
  };
}

// ---- Shared plumbing ----

NativeOptions MakeOptions(bool durable) {
  NativeOptions options;
  options.durability = durable ? Durability::kFsync : Durability::kNoSyncUnsafe;
  return options;
}

std::string StoreDir(const WorkloadContext& ctx) { return ctx.scratch + "/store"; }

Measurement NewMeasurement(const WorkloadContext& ctx, const char* system) {
  Measurement m;
  m.workload = ctx.name;
  m.system = system;
  m.durable = ctx.durable;
  m.events = ctx.events;
  return m;
}

Status CheckFailed(const WorkloadContext& ctx, const std::string& what) {
  return Status(ErrorCode::kCorruption, "bench check failed in " + ctx.name + ": " + what);
}

double Seconds(int64_t nanos) { return static_cast<double>(nanos) / 1e9; }

// Writes one account of `n` events (Opened, then movements 1..n-1) to the
// stream of `id` in appends of kBatchEvents; returns its final state.
Result<Bank::State> WriteAccount(NativeStore& store, std::string_view id, uint64_t n) {
  const std::string stream = BankStore::StreamOf(id);
  Bank::State state;
  std::vector<EventData> batch;
  batch.reserve(kBatchEvents);
  for (uint64_t i = 0; i < n; ++i) {
    const BankEvent e = i == 0 ? MakeOpened(id) : MakeMovement(id, i);
    state = Bank::Evolve(std::move(state), e);
    CAIRN_ASSIGN_OR_RETURN(EventData d, StoredForm(e));
    batch.push_back(std::move(d));
    if (batch.size() == kBatchEvents || i + 1 == n) {
      auto r = store.Append(stream, ExpectedRevision::Any(), batch);
      if (!r) return r.error();
      batch.clear();
    }
  }
  return state;
}

bool SameState(const Bank::State& a, const Bank::State& b) {
  return a.open == b.open && a.balance == b.balance && a.deposits == b.deposits &&
         a.withdrawals == b.withdrawals && a.owner == b.owner &&
         a.last_reference == b.last_reference;
}

// Loads `id` `loads` times (one latency sample each), checking each result
// against the expected revision, events folded and state. Returns the time.
Result<int64_t> TimedLoads(const WorkloadContext& ctx, BankStore& bank, std::string_view id,
                           const tk::LoadOptions& options, int loads, uint64_t expect_read,
                           const Bank::State& expect, Histogram* latency) {
  const int64_t start = NowNanos();
  for (int k = 0; k < loads; ++k) {
    const int64_t t0 = NowNanos();
    auto loaded = bank.Load(id, options);
    latency->Record(NowNanos() - t0);
    if (!loaded) return loaded.error();
    if (!loaded->revision || loaded->revision->value() + 1 != ctx.events ||
        loaded->events_read != expect_read || !SameState(loaded->state, expect)) {
      return CheckFailed(
          ctx, "load of " + BankStore::StreamOf(id) + " folded " +
                   std::to_string(loaded->events_read) + " events to revision " +
                   (loaded->revision ? std::to_string(loaded->revision->value()) : "none") +
                   " (balance " + std::to_string(loaded->state.balance) + "); expected " +
                   std::to_string(expect_read) + " events to revision " +
                   std::to_string(ctx.events - 1) + " (balance " + std::to_string(expect.balance) +
                   ")");
    }
  }
  return NowNanos() - start;
}

// Median of `passes` calls of f(), in milliseconds.
template <class F>
Result<double> MedianMs(int passes, F f) {
  Histogram h;
  for (int k = 0; k < passes; ++k) {
    const int64_t t0 = NowNanos();
    CAIRN_RETURN_IF_ERROR(f());
    h.Record(NowNanos() - t0);
  }
  return h.Percentile(0.5) / 1e6;
}

// The parts of a full load of `stream`: the read alone (every view visited)
// and the read plus decoding into typed events (no fold), median ms each.
Result<std::pair<double, double>> LoadBreakdown(NativeStore& store, BankStore& bank,
                                                const std::string& stream, int passes) {
  uint64_t sink = 0;
  auto read = [&] {
    return store.ReadStream(stream, ReadStreamOptions{}, [&](const EventView& e) {
      sink += e.data.size() + e.metadata.size();
      return true;
    });
  };
  auto read_and_decode = [&] {
    Status failed;
    Status s = store.ReadStream(stream, ReadStreamOptions{}, [&](const EventView& e) {
      auto ev = bank.DecodeStored(e);
      if (!ev) failed = ev.error();
      sink += ev ? ev->index() : 0;
      return ev.has_value();
    });
    return failed.ok() ? s : failed;
  };
  CAIRN_ASSIGN_OR_RETURN(double read_ms, MedianMs(passes, read));
  CAIRN_ASSIGN_OR_RETURN(double decode_ms, MedianMs(passes, read_and_decode));
  if (sink == 0) return Status(ErrorCode::kCorruption, "bench: empty stream " + stream);
  return std::make_pair(read_ms, decode_ms);
}

// Loads of aggregate-rebuild: about kRebuildFolded events folded in all.
constexpr uint64_t kRebuildFolded = 5'000'000;
constexpr int kSnapshotLoads = 10'000;  // timed loads of aggregate-snapshot-load
constexpr int kCommandLoads = 200;      // loads after commands-one (load_p50_us)
constexpr uint64_t kSpreadAggregates = 100'000;
constexpr int kSpreadThreads = 16;

}  // namespace

// ---- aggregate-rebuild, aggregate-snapshot-load ----

Result<Measurement> ToolkitAggregateRebuild(const WorkloadContext& ctx) {
  const std::string id = "rebuild";
  Bank::State expect;
  {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                           NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
    CAIRN_ASSIGN_OR_RETURN(expect, WriteAccount(*store, id, ctx.events));
    CAIRN_RETURN_IF_ERROR(store->Close());
  }
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
  tk::AggregateOptions ao;
  ao.snapshot_every = 0;  // no snapshots: every load folds the whole stream
  BankStore bank(store.get(), ao);
  tk::LoadOptions lo;
  lo.use_snapshot = false;
  const int loads = static_cast<int>(std::clamp<uint64_t>(kRebuildFolded / ctx.events, 5, 1000));

  Measurement m = NewMeasurement(ctx, "toolkit");
  {
    Histogram warmup;
    CAIRN_RETURN_IF_ERROR(TimedLoads(ctx, bank, id, lo, 1, ctx.events, expect, &warmup).status());
  }
  ResetPeakRss();
  CAIRN_ASSIGN_OR_RETURN(int64_t took,
                         TimedLoads(ctx, bank, id, lo, loads, ctx.events, expect, &m.latency));
  m.SampleRss();
  CAIRN_ASSIGN_OR_RETURN(
      auto parts, LoadBreakdown(*store, bank, BankStore::StreamOf(id), std::max(5, loads / 5)));
  CAIRN_RETURN_IF_ERROR(store->Close());
  // events_per_s: events folded per second (the stream's events / mean load).
  m.seconds = Seconds(took) / loads;
  const double load_ms = m.latency.Percentile(0.5) / 1e6;
  m.Add("load_ms", FormatFixed(load_ms, 2));
  m.Add("aim_ms", "2");
  m.Add("loads", std::to_string(loads));
  m.Add("read_ms", FormatFixed(parts.first, 2));
  m.Add("decode_ms", FormatFixed(parts.second - parts.first, 2));
  m.Add("fold_ms", FormatFixed(std::max(0.0, load_ms - parts.second), 2));
  return m;
}

Result<Measurement> ToolkitAggregateSnapshotLoad(const WorkloadContext& ctx) {
  const std::string id = "snapshot";
  Bank::State expect;
  double write_s = 0;
  double command_ms = 0;
  uint64_t snapshot_revision = 0;
  {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                           NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
    const int64_t t0 = NowNanos();
    if (ctx.events > 1) {
      CAIRN_ASSIGN_OR_RETURN(expect, WriteAccount(*store, id, ctx.events - 1));
    }
    write_s = Seconds(NowNanos() - t0);
    // The last event through AggregateStore: its load folds the whole stream
    // (no snapshot yet), then a snapshot of the state is queued and written.
    tk::AggregateOptions ao;
    ao.snapshot_every = 1;
    BankStore bank(store.get(), ao);
    const int64_t t1 = NowNanos();
    auto r = bank.Handle(id, tk::CommandContext{}, [&](const Bank::State& s) {
      return tk::Decision<BankEvent>(s.open ? MakeMovement(id, ctx.events - 1) : MakeOpened(id));
    });
    command_ms = static_cast<double>(NowNanos() - t1) / 1e6;
    if (!r) return r.error();
    expect = r->state;
    bank.FlushSnapshots();
    const tk::SnapshotStats stats = bank.snapshot_stats();
    if (stats.written != 1) {
      return CheckFailed(ctx, "the command wrote " + std::to_string(stats.written) +
                                  " snapshots (failed " + std::to_string(stats.failed) +
                                  ", dropped " + std::to_string(stats.dropped) + "); expected 1");
    }
    snapshot_revision = r->revision->value();
    CAIRN_RETURN_IF_ERROR(store->Close());
  }
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
  tk::AggregateOptions ao;
  ao.snapshot_every = 1;  // snapshots on (Load uses them only then)
  BankStore bank(store.get(), ao);
  const tk::LoadOptions lo;  // use_snapshot = true

  Measurement m = NewMeasurement(ctx, "toolkit");
  {
    Histogram warmup;
    CAIRN_RETURN_IF_ERROR(TimedLoads(ctx, bank, id, lo, 100, 0, expect, &warmup).status());
  }
  ResetPeakRss();
  CAIRN_ASSIGN_OR_RETURN(int64_t took,
                         TimedLoads(ctx, bank, id, lo, kSnapshotLoads, 0, expect, &m.latency));
  m.SampleRss();
  auto last = bank.Load(id, lo);
  if (!last) return last.error();
  CAIRN_RETURN_IF_ERROR(store->Close());
  // events_per_s: the stream's events made available per second of load
  // (as `open` does for a store).
  m.seconds = Seconds(took) / kSnapshotLoads;
  m.Add("load_us", FormatFixed(m.latency.Percentile(0.5) / 1e3, 1));
  m.Add("aim_us", "100");
  m.Add("loads", std::to_string(kSnapshotLoads));
  m.Add("events_read", std::to_string(last->events_read));
  m.Add("snapshot_revision", std::to_string(snapshot_revision));
  m.Add("first_command_ms", FormatFixed(command_ms, 1));
  m.Add("setup_write_s", FormatFixed(write_s, 1));
  return m;
}

// ---- commands-one ----

Result<Measurement> CairnRawCommandsOne(const WorkloadContext& ctx) {
  const std::string id = "one";
  const std::string stream = BankStore::StreamOf(id);
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
  CAIRN_RETURN_IF_ERROR(WriteAccount(*store, id, 1).status());
  std::vector<EventData> pool;
  for (uint64_t i = 1; i <= kBatchEvents; ++i) {
    CAIRN_ASSIGN_OR_RETURN(EventData d, StoredForm(MakeMovement(id, i)));
    pool.push_back(std::move(d));
  }
  Measurement m = NewMeasurement(ctx, "cairn");
  ResetPeakRss();
  const int64_t start = NowNanos();
  for (uint64_t i = 0; i < ctx.events; ++i) {
    const EventData& e = pool[i % pool.size()];
    const int64_t t0 = NowNanos();
    auto r = store->Append(stream, ExpectedRevision::Any(), std::span<const EventData>(&e, 1));
    m.latency.Record(NowNanos() - t0);
    if (!r) return r.error();
    m.payload_bytes += PayloadBytes(e, stream);
  }
  m.seconds = Seconds(NowNanos() - start);
  m.SampleRss();
  CAIRN_RETURN_IF_ERROR(store->Close());
  m.Add("peer_of", "toolkit");
  return m;
}

Result<Measurement> ToolkitCommandsOne(const WorkloadContext& ctx) {
  const std::string id = "one";
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
  CAIRN_RETURN_IF_ERROR(WriteAccount(*store, id, 1).status());
  BankStore bank(store.get());  // default options: a snapshot every 100 events

  Measurement m = NewMeasurement(ctx, "toolkit");
  ResetPeakRss();
  int max_attempts = 0;
  const int64_t start = NowNanos();
  for (uint64_t i = 0; i < ctx.events; ++i) {
    const int64_t t0 = NowNanos();
    auto r = bank.Handle(id, tk::CommandContext{}, MoveMoney(id, i + 1));
    m.latency.Record(NowNanos() - t0);
    if (!r) return r.error();
    if (r->rejected || r->events.size() != 1) {
      return CheckFailed(ctx, "command " + std::to_string(i) + " on " + BankStore::StreamOf(id) +
                                  " was not applied");
    }
    max_attempts = std::max(max_attempts, r->attempts);
  }
  m.seconds = Seconds(NowNanos() - start);
  m.SampleRss();
  bank.FlushSnapshots();
  // The load half of a command on its own: snapshot + up to 99 events.
  Histogram loads;
  uint64_t tail = 0;
  for (int k = 0; k < kCommandLoads; ++k) {
    const int64_t t0 = NowNanos();
    auto loaded = bank.Load(id);
    loads.Record(NowNanos() - t0);
    if (!loaded) return loaded.error();
    tail = loaded->events_read;
    if (!loaded->revision || loaded->revision->value() != ctx.events) {
      return CheckFailed(
          ctx,
          "after " + std::to_string(ctx.events) + " commands the stream is at " +
              (loaded->revision ? std::to_string(loaded->revision->value()) : std::string("none")));
    }
  }
  const tk::SnapshotStats snaps = bank.snapshot_stats();
  CAIRN_RETURN_IF_ERROR(store->Close());
  m.Add("commands_per_s", FormatFixed(m.EventsPerSecond(), 0));
  m.Add("load_p50_us", FormatFixed(loads.Percentile(0.5) / 1e3, 1));
  m.Add("load_events_read", std::to_string(tail));
  m.Add("snapshots", std::to_string(snaps.written));
  m.Add("max_attempts", std::to_string(max_attempts));
  return m;
}

// ---- commands-spread ----

namespace {

// The aggregate ids of commands-spread: 16 random hex digits each, the same
// in every run (fixed seed).
std::vector<std::string> SpreadIds() {
  std::mt19937_64 rng(20261122);
  std::vector<std::string> ids;
  ids.reserve(kSpreadAggregates);
  char buf[24];
  for (uint64_t i = 0; i < kSpreadAggregates; ++i) {
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(rng()));
    ids.emplace_back(buf);
  }
  return ids;
}

// Setup (not timed, without fsync): a store in which every aggregate was
// opened by its own append of one Opened event, as a command would; then
// closed, so the workload reopens it with the run's durability. (One
// AppendMulti for many aggregates would put them in one record, and every
// load of one of them would then decode and checksum the whole record.)
Status CreateSpreadStore(const WorkloadContext& ctx, const std::vector<std::string>& ids) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(false)));
  for (const std::string& id : ids) {
    CAIRN_ASSIGN_OR_RETURN(EventData d, StoredForm(MakeOpened(id)));
    auto r = store->Append(BankStore::StreamOf(id), ExpectedRevision::NoStream(),
                           std::span<const EventData>(&d, 1));
    if (!r) return r.error();
  }
  return store->Close();
}

// Runs `total` operations from kSpreadThreads threads; thread t's k-th
// operation is op(t, k, aggregate index) with aggregates drawn from a
// per-thread generator seeded with t (the same sequence for the peer and the
// toolkit). One latency sample per operation.
template <class Op>
Status RunSpread(uint64_t total, Op op, Measurement* m) {
  constexpr int kThreads = kSpreadThreads;
  std::vector<Histogram> latencies(kThreads);
  std::vector<Status> errors(kThreads);
  std::latch ready(kThreads + 1);
  std::latch go(1);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    const uint64_t share = total / kThreads + (static_cast<uint64_t>(t) < total % kThreads);
    threads.emplace_back([&, t, share] {
      std::mt19937_64 rng(static_cast<uint64_t>(t) + 1);
      std::uniform_int_distribution<uint64_t> pick(0, kSpreadAggregates - 1);
      ready.count_down();
      go.wait();
      for (uint64_t k = 0; k < share; ++k) {
        const uint64_t agg = pick(rng);
        const int64_t t0 = NowNanos();
        Status s = op(t, k, agg);
        latencies[t].Record(NowNanos() - t0);
        if (!s.ok()) {
          errors[t] = s;
          return;
        }
      }
    });
  }
  ready.arrive_and_wait();
  const int64_t start = NowNanos();
  go.count_down();
  for (auto& th : threads) th.join();
  m->seconds = Seconds(NowNanos() - start);
  for (int t = 0; t < kThreads; ++t) {
    CAIRN_RETURN_IF_ERROR(errors[t]);
    m->latency.Merge(latencies[t]);
  }
  return Status::OK();
}

}  // namespace

Result<Measurement> CairnRawCommandsSpread(const WorkloadContext& ctx) {
  const std::vector<std::string> ids = SpreadIds();
  CAIRN_RETURN_IF_ERROR(CreateSpreadStore(ctx, ids));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
  // What the toolkit appends, pre-encoded: the command's event of the same shape.
  std::vector<EventData> pool;
  for (uint64_t i = 1; i <= kBatchEvents; ++i) {
    CAIRN_ASSIGN_OR_RETURN(EventData d, StoredForm(MakeMovement(ids[i], i)));
    pool.push_back(std::move(d));
  }
  std::vector<std::string> streams;
  streams.reserve(ids.size());
  for (const std::string& id : ids) streams.push_back(BankStore::StreamOf(id));

  Measurement m = NewMeasurement(ctx, "cairn");
  ResetPeakRss();
  CAIRN_RETURN_IF_ERROR(RunSpread(
      ctx.events,
      [&](int t, uint64_t k, uint64_t agg) -> Status {
        const EventData& e = pool[(k * kSpreadThreads + t) % pool.size()];
        auto r =
            store->Append(streams[agg], ExpectedRevision::Any(), std::span<const EventData>(&e, 1));
        return r ? Status::OK() : r.error();
      },
      &m));
  m.SampleRss();
  CAIRN_ASSIGN_OR_RETURN(const Position head_position, store->HeadPosition());
  const uint64_t head = head_position.value();
  CAIRN_RETURN_IF_ERROR(store->Close());
  if (head != kSpreadAggregates + ctx.events) {
    return CheckFailed(ctx, "head position is " + std::to_string(head) + " after " +
                                std::to_string(kSpreadAggregates + ctx.events) + " appends");
  }
  m.Add("threads", std::to_string(kSpreadThreads));
  m.Add("aggregates", std::to_string(kSpreadAggregates));
  m.Add("setup", "nosync");
  m.Add("peer_of", "toolkit");
  return m;
}

Result<Measurement> ToolkitCommandsSpread(const WorkloadContext& ctx) {
  const std::vector<std::string> ids = SpreadIds();
  CAIRN_RETURN_IF_ERROR(CreateSpreadStore(ctx, ids));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store,
                         NativeStore::Open(StoreDir(ctx), MakeOptions(ctx.durable)));
  BankStore bank(store.get());  // default options

  Measurement m = NewMeasurement(ctx, "toolkit");
  std::vector<int> retries(kSpreadThreads, 0);
  ResetPeakRss();
  CAIRN_RETURN_IF_ERROR(RunSpread(
      ctx.events,
      [&](int t, uint64_t k, uint64_t agg) -> Status {
        auto r = bank.Handle(ids[agg], tk::CommandContext{}, MoveMoney(ids[agg], k + 1));
        if (!r) return r.error();
        if (r->rejected || r->events.size() != 1) {
          return CheckFailed(ctx,
                             "a command on " + BankStore::StreamOf(ids[agg]) + " was not applied");
        }
        retries[t] += r->attempts - 1;
        return Status::OK();
      },
      &m));
  m.SampleRss();
  bank.FlushSnapshots();
  CAIRN_ASSIGN_OR_RETURN(const Position head_position, store->HeadPosition());
  const uint64_t head = head_position.value();
  CAIRN_RETURN_IF_ERROR(store->Close());
  if (head != kSpreadAggregates + ctx.events) {
    return CheckFailed(ctx, "head position is " + std::to_string(head) + " after " +
                                std::to_string(kSpreadAggregates + ctx.events) + " appends");
  }
  int conflicts = 0;
  for (int r : retries) conflicts += r;
  m.Add("commands_per_s", FormatFixed(m.EventsPerSecond(), 0));
  m.Add("threads", std::to_string(kSpreadThreads));
  m.Add("aggregates", std::to_string(kSpreadAggregates));
  m.Add("conflicts", std::to_string(conflicts));
  m.Add("setup", "nosync");
  return m;
}

}  // namespace cairn::bench
