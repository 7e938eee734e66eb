// AggregateStore: load, decide, append with the exact expected revision,
// conflicts with the competing events, idempotent command ids, audit
// metadata, upcasting, snapshots, time travel. A real store on disk.
#include "cairn/toolkit/aggregate.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cairn/native.h"
#include "cairn/toolkit/testing.h"
#include "src/base/testing.h"

namespace cairn::toolkit {
namespace {

struct Opened {
  static constexpr std::string_view kType = "Opened";
  static constexpr int kVersion = 1;
  std::string owner;
  static void Describe(Fields<Opened>& f) { f.Add("owner", &Opened::owner); }
  friend bool operator==(const Opened&, const Opened&) = default;
};
// Version 2: "amount" in minor units; version 1 stored {"value":"12.34"}.
struct Deposited {
  static constexpr std::string_view kType = "Deposited";
  static constexpr int kVersion = 2;
  int64_t amount = 0;
  static void Describe(Fields<Deposited>& f) { f.Add("amount", &Deposited::amount, Min(1)); }
  friend bool operator==(const Deposited&, const Deposited&) = default;
};
struct Withdrawn {
  static constexpr std::string_view kType = "Withdrawn";
  static constexpr int kVersion = 1;
  int64_t amount = 0;
  static void Describe(Fields<Withdrawn>& f) { f.Add("amount", &Withdrawn::amount, Min(1)); }
  friend bool operator==(const Withdrawn&, const Withdrawn&) = default;
};

struct Account {
  static constexpr std::string_view kCategory = "acct";
  static constexpr int kSnapshotVersion = 1;
  using Events = EventSet<Opened, Deposited, Withdrawn>;
  struct State {
    bool open = false;
    int64_t balance = 0;
    int64_t events = 0;
    static void Describe(Fields<State>& f) {
      f.Add("open", &State::open);
      f.Add("balance", &State::balance);
      f.Add("events", &State::events);
    }
  };
  static State Evolve(State s, const Events::Variant& e) {
    ++s.events;
    if (std::holds_alternative<Opened>(e)) s.open = true;
    if (auto* d = std::get_if<Deposited>(&e)) s.balance += d->amount;
    if (auto* w = std::get_if<Withdrawn>(&e)) s.balance -= w->amount;
    return s;
  }
};
using Event = Account::Events::Variant;

auto Open(std::string owner) {
  return [owner](const Account::State& s) -> Decision<Event> {
    if (s.open) return Decision<Event>::Reject("already_open", "the account is open");
    return Event(Opened{owner});
  };
}
auto Deposit(int64_t amount) {
  return [amount](const Account::State& s) -> Decision<Event> {
    if (!s.open) return Decision<Event>::Reject("not_open", "no such account");
    return Event(Deposited{amount});
  };
}
auto Withdraw(int64_t amount) {
  return [amount](const Account::State& s) -> Decision<Event> {
    if (s.balance < amount) {
      return Decision<Event>::Reject(
          "insufficient_funds",
          "balance " + std::to_string(s.balance) + " is below " + std::to_string(amount));
    }
    return Event(Withdrawn{amount});
  };
}

Upcasters& TestUpcasters() {
  static Upcasters* u = [] {
    auto* x = new Upcasters();
    Status s = x->Add("Deposited", 1, [](nlohmann::json& d) -> Status {
      const std::string v = d.at("value").get<std::string>();
      const size_t dot = v.find('.');
      d = {{"amount", std::stoll(v.substr(0, dot)) * 100 + std::stoll(v.substr(dot + 1))}};
      return Status::OK();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return x;
  }();
  return *u;
}

class AggregateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NativeOptions o;
    o.durability = Durability::kNoSyncUnsafe;
    auto s = NativeStore::Open(dir_.path(), o);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
  }
  AggregateOptions Options(uint64_t snapshot_every = 0) {
    AggregateOptions o;
    o.snapshot_every = snapshot_every;
    o.upcasters = &TestUpcasters();
    return o;
  }
  CommandContext Ctx(int n, std::string user = "ann") {
    CommandContext c;
    c.command_id = *Uuid::Parse(testing::NthUuid(n));
    c.user = std::move(user);
    return c;
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(AggregateTest, CommandsAppendWithAuditAndTheStateIsTheFold) {
  AggregateStore<Account> accounts(store_.get(), Options());
  ASSERT_TRUE(accounts.Validate().ok());
  auto r = accounts.Handle("1", Ctx(1), Open("ann"));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_FALSE(r->rejected);
  EXPECT_EQ(r->revision, StreamRevision(0));
  EXPECT_EQ(r->attempts, 1);
  r = accounts.Handle("1", Ctx(2, "bob"), Deposit(500));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->revision, StreamRevision(1));
  EXPECT_EQ(r->position, Position(1));
  EXPECT_EQ(r->state.balance, 500);
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(std::get<Deposited>(r->events[0]), Deposited{500});

  auto stored = store_->ReadStream("acct-1", ReadStreamOptions{});
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[1].type, "Deposited");
  EXPECT_EQ((*stored)[1].data, R"({"amount":500})");
  const std::string cmd = testing::NthUuid(2);
  EXPECT_EQ((*stored)[1].metadata, R"({"schemaVersion":2,"$correlationId":")" + cmd +
                                       R"(","$causationId":")" + cmd + R"(","commandId":")" + cmd +
                                       R"(","user":"bob"})");
  EXPECT_EQ((*stored)[1].id, CommandEventId(Ctx(2).command_id, "acct-1", 0));

  auto loaded = accounts.Load("1");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_EQ(loaded->state.balance, 500);
  EXPECT_EQ(loaded->revision, StreamRevision(1));
  EXPECT_EQ(loaded->events_read, 2u);
  auto fresh = accounts.Load("2");
  ASSERT_TRUE(fresh.has_value()) << fresh.error().ToString();
  EXPECT_EQ(fresh->revision, std::nullopt);
  EXPECT_FALSE(fresh->state.open);
}

TEST_F(AggregateTest, ADomainErrorWritesNothing) {
  AggregateStore<Account> accounts(store_.get(), Options());
  ASSERT_TRUE(accounts.Handle("1", Ctx(1), Open("ann")).has_value());
  ASSERT_TRUE(accounts.Handle("1", Ctx(2), Deposit(100)).has_value());
  auto r = accounts.Handle("1", Ctx(3), Withdraw(101));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->rejected.has_value());
  EXPECT_EQ(*r->rejected, (DomainError{"insufficient_funds", "balance 100 is below 101"}));
  EXPECT_TRUE(r->events.empty());
  EXPECT_EQ(r->revision, StreamRevision(1));
  EXPECT_EQ(store_->HeadPosition().value(), Position(2));
}

TEST_F(AggregateTest, AConflictHandsTheDomainTheCompetingEvents) {
  AggregateStore<Account> accounts(store_.get(), Options());
  ASSERT_TRUE(accounts.Handle("1", Ctx(1), Open("ann")).has_value());
  std::vector<Event> seen;
  auto r = accounts.Handle("1", Ctx(2), [&](const Account::State& s, const Competing<Account>& c) {
    if (c.attempt == 1) {
      // Another writer gets in between this decision and its append.
      AggregateStore<Account> other(store_.get(), Options());
      EXPECT_TRUE(other.Handle("1", Ctx(10), Deposit(7)).has_value());
      EXPECT_TRUE(other.Handle("1", Ctx(11), Deposit(8)).has_value());
    }
    seen = c.events;
    return Deposit(15)(s);
  });
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(seen, (std::vector<Event>{Deposited{7}, Deposited{8}}));
  EXPECT_EQ(r->revision, StreamRevision(3));
  EXPECT_EQ(r->state.balance, 30);
}

TEST_F(AggregateTest, AConflictThatNeverEndsGivesUpAfterMaxAttempts) {
  AggregateOptions o = Options();
  o.max_attempts = 3;
  AggregateStore<Account> accounts(store_.get(), o);
  ASSERT_TRUE(accounts.Handle("1", Ctx(1), Open("ann")).has_value());
  int calls = 0;
  auto r = accounts.Handle("1", Ctx(2), [&](const Account::State& s) {
    ++calls;
    AggregateStore<Account> other(store_.get(), Options());
    EXPECT_TRUE(other.Handle("1", Ctx(100 + calls), Deposit(1)).has_value());
    return Deposit(5)(s);
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kWrongExpectedRevision);
  EXPECT_EQ(r.error().message(),
            "command on acct-1 gave up after 3 attempts: others kept appending to the stream "
            "(last: stream 'acct-1' expected 2, found revision 3)");
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(accounts.Load("1")->state.balance, 3);  // only the competing deposits
}

TEST_F(AggregateTest, ARetriedCommandIdIsAppliedOnce) {
  AggregateStore<Account> accounts(store_.get(), Options(/*snapshot_every=*/2));
  ASSERT_TRUE(accounts.Handle("1", Ctx(1), Open("ann")).has_value());
  ASSERT_TRUE(accounts.Handle("1", Ctx(2), Deposit(100)).has_value());
  auto first = accounts.Handle("1", Ctx(3), Withdraw(30));
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(accounts.Handle("1", Ctx(20 + i), Deposit(1)).has_value());
  accounts.FlushSnapshots();  // the retry's events are now older than the snapshot
  auto retry = accounts.Handle("1", Ctx(3), Withdraw(30));
  ASSERT_TRUE(retry.has_value()) << retry.error().ToString();
  EXPECT_TRUE(retry->duplicate);
  EXPECT_FALSE(retry->rejected);
  EXPECT_EQ(retry->revision, first->revision);
  EXPECT_EQ(retry->position, first->position);
  EXPECT_EQ(retry->events, (std::vector<Event>{Withdrawn{30}}));
  EXPECT_EQ(retry->state.balance, 70);  // right after the withdrawal, not the 5 deposits since
  EXPECT_EQ(accounts.Load("1")->state.balance, 75);
  EXPECT_EQ(store_->ReadStream("acct-1", ReadStreamOptions{})->size(), 8u);
}

TEST_F(AggregateTest, StoredVersionOneEventsAreUpcastWhileReading) {
  std::vector<EventData> v1(2);
  v1[0].type = "Opened";
  v1[0].data = R"({"owner":"old"})";
  v1[0].metadata = "{}";  // written before the toolkit: version 1
  v1[1].type = "Deposited";
  v1[1].data = R"({"value":"12.34"})";
  v1[1].metadata = R"({"schemaVersion":1,"user":"legacy"})";
  ASSERT_TRUE(store_->Append("acct-9", ExpectedRevision::NoStream(), v1).has_value());
  AggregateStore<Account> accounts(store_.get(), Options());
  auto loaded = accounts.Load("9");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_EQ(loaded->state.balance, 1234);
  auto history = accounts.History("9");
  ASSERT_TRUE(history.has_value()) << history.error().ToString();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].data, R"({"amount":1234})");
  EXPECT_EQ((*history)[1].audit.user, "legacy");
  EXPECT_EQ((*history)[1].audit.schema_version, 1);
  // New writes use the current version.
  ASSERT_TRUE(accounts.Handle("9", Ctx(1), Deposit(66)).has_value());
  EXPECT_EQ(store_->ReadStream("acct-9", ReadStreamOptions{})->back().data, R"({"amount":66})");
  EXPECT_EQ(accounts.Load("9")->state.balance, 1300);

  // Without the step, and from the future: errors naming where.
  AggregateOptions none;
  none.snapshot_every = 0;
  AggregateStore<Account> bare(store_.get(), none);
  EXPECT_EQ(bare.Validate().message(), "Deposited is at version 2 but no upcasters are registered");
  auto l = bare.Load("9");
  ASSERT_FALSE(l.has_value());
  EXPECT_EQ(l.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(l.error().message(), "Deposited is at version 2 but no upcasters are registered");
  std::vector<EventData> v3(1);
  v3[0].type = "Deposited";
  v3[0].data = R"({"amount":1})";
  v3[0].metadata = R"({"schemaVersion":3})";
  ASSERT_TRUE(store_->Append("acct-9", ExpectedRevision::Any(), v3).has_value());
  l = accounts.Load("9");
  ASSERT_FALSE(l.has_value());
  EXPECT_EQ(l.error().message(),
            "acct-9@3: Deposited has schema version 3, newer than this program's 2");
}

TEST_F(AggregateTest, UpcasterChainsAreCheckedWhenRegistered) {
  Upcasters u;
  auto noop = [](nlohmann::json&) { return Status::OK(); };
  ASSERT_TRUE(u.Add("X", 1, noop).ok());
  ASSERT_TRUE(u.Add("X", 3, noop).ok());
  EXPECT_EQ(u.Add("X", 1, noop).message(), "upcaster of X v1 -> v2 is registered twice");
  EXPECT_EQ(u.Add("X", 0, noop).message(), "upcaster of X: versions start at 1, got 0");
  EXPECT_EQ(u.Validate("X", 4).message(), "upcaster of X v2 -> v3 is missing (current version 4)");
  EXPECT_EQ(u.Validate("X", 2).message(), "upcaster of X v3 -> v4 goes past the current version 2");
  ASSERT_TRUE(u.Add("X", 2, noop).ok());
  EXPECT_TRUE(u.Validate("X", 4).ok());
  auto bad = u.Upcast("X", 1, 4, "{nope");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "X v1: stored data is not JSON");
}

TEST_F(AggregateTest, SnapshotsShortenLoadsAndOldSchemasAreIgnored) {
  AggregateStore<Account> accounts(store_.get(), Options(/*snapshot_every=*/10));
  ASSERT_TRUE(accounts.Handle("1", Ctx(1), Open("ann")).has_value());
  for (int i = 0; i < 24; ++i)
    ASSERT_TRUE(accounts.Handle("1", Ctx(100 + i), Deposit(2)).has_value());
  accounts.FlushSnapshots();
  EXPECT_EQ(accounts.snapshot_stats().failed, 0u);
  EXPECT_GE(accounts.snapshot_stats().written, 1u);  // queued ones may merge
  auto with = accounts.Load("1");
  ASSERT_TRUE(with.has_value()) << with.error().ToString();
  // Snapshots are written in the background: which revisions they hold
  // depends on timing, but one is at least 10 events after the start.
  ASSERT_TRUE(with->snapshot.has_value());
  const uint64_t at = with->snapshot->value();
  EXPECT_GE(at, 9u);
  EXPECT_EQ(with->events_read, 24 - at);
  LoadOptions no_snapshot;
  no_snapshot.use_snapshot = false;
  auto without = accounts.Load("1", no_snapshot);
  ASSERT_TRUE(without.has_value());
  EXPECT_EQ(without->events_read, 25u);
  EXPECT_EQ(with->state.balance, 48);
  EXPECT_EQ(without->state.balance, 48);
  EXPECT_EQ(with->state.events, 25);
  EXPECT_EQ(with->revision, without->revision);

  // A newer snapshot of another schema version is skipped for the older
  // usable one; a damaged one (with "$maxCount": 2, the last real one is
  // then out of sight) leaves a rebuild from events: never misread.
  std::vector<EventData> odd(1);
  odd[0].type = "Snapshot";
  odd[0].data = R"({"open":true,"balance":999999,"events":1})";
  odd[0].metadata = R"({"schemaVersion":0,"aggregateRevision":24,"lastCreatedNs":1})";
  ASSERT_TRUE(store_->Append(SnapshotStreamOf("acct-1"), ExpectedRevision::Any(), odd).has_value());
  auto again = accounts.Load("1");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->snapshot, StreamRevision(at));
  EXPECT_EQ(again->state.balance, 48);
  odd[0].data = R"({"open":true,"balance":"lots"})";
  odd[0].metadata = R"({"schemaVersion":1,"aggregateRevision":24,"lastCreatedNs":1})";
  ASSERT_TRUE(store_->Append(SnapshotStreamOf("acct-1"), ExpectedRevision::Any(), odd).has_value());
  again = accounts.Load("1");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->snapshot, std::nullopt);
  EXPECT_EQ(again->events_read, 25u);
  EXPECT_EQ(again->state.balance, 48);
}

TEST_F(AggregateTest, ASnapshotOfAnEarlierLifeIsNeverUsed) {
  AggregateStore<Account> accounts(store_.get(), Options(/*snapshot_every=*/2));
  ASSERT_TRUE(accounts.Handle("1", Ctx(1), Open("ann")).has_value());
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(accounts.Handle("1", Ctx(10 + i), Deposit(5)).has_value());
  accounts.FlushSnapshots();
  ASSERT_TRUE(accounts.Load("1")->snapshot.has_value());
  ASSERT_TRUE(store_->DeleteStream("acct-1", ExpectedRevision::Any()).has_value());
  auto gone = accounts.Load("1");
  ASSERT_TRUE(gone.has_value()) << gone.error().ToString();
  EXPECT_EQ(gone->revision, std::nullopt);  // a new aggregate, not the snapshot's
  EXPECT_FALSE(gone->state.open);
  // Recreated: revisions continue; the old life's snapshots stay unused,
  // the new life's first snapshot (at its first event) is used.
  auto again = accounts.Handle("1", Ctx(30), Open("bob"));
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_FALSE(again->rejected);
  EXPECT_EQ(again->revision, StreamRevision(5));
  LoadOptions events_only;
  events_only.use_snapshot = false;
  auto fresh = accounts.Load("1", events_only);
  ASSERT_TRUE(fresh.has_value()) << fresh.error().ToString();
  EXPECT_EQ(fresh->state.balance, 0);
  EXPECT_EQ(fresh->state.events, 1);
  accounts.FlushSnapshots();
  auto l = accounts.Load("1");
  ASSERT_TRUE(l.has_value()) << l.error().ToString();
  EXPECT_EQ(l->snapshot, StreamRevision(5));
  EXPECT_EQ(l->state.balance, 0);
  EXPECT_EQ(l->state.events, 1);
}

TEST_F(AggregateTest, ASnapshotThatCannotBeWrittenDoesNotFailTheCommand) {
  AggregateStore<Account> accounts(store_.get(), Options(/*snapshot_every=*/3));
  ASSERT_TRUE(
      store_->TombstoneStream(SnapshotStreamOf("acct-1"), ExpectedRevision::Any()).has_value());
  ASSERT_TRUE(accounts.Handle("1", Ctx(1), Open("ann")).has_value());
  for (int i = 0; i < 6; ++i) {
    auto r = accounts.Handle("1", Ctx(10 + i), Deposit(1));
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
  }
  accounts.FlushSnapshots();
  EXPECT_GE(accounts.snapshot_stats().failed, 1u);
  EXPECT_EQ(accounts.snapshot_stats().written, 0u);
  EXPECT_EQ(accounts.Load("1")->state.balance, 6);
}

TEST_F(AggregateTest, TimeTravelByRevisionAndByTime) {
  AggregateStore<Account> accounts(store_.get(), Options(/*snapshot_every=*/2));
  ASSERT_TRUE(accounts.Handle("1", Ctx(1), Open("ann")).has_value());
  for (int i = 1; i <= 6; ++i)
    ASSERT_TRUE(accounts.Handle("1", Ctx(10 + i), Deposit(i)).has_value());
  accounts.FlushSnapshots();
  LoadOptions at;
  at.at_revision = 3;  // opened + 1 + 2 + 3
  auto l = accounts.Load("1", at);
  ASSERT_TRUE(l.has_value()) << l.error().ToString();
  EXPECT_EQ(l->state.balance, 6);
  EXPECT_EQ(l->revision, StreamRevision(3));
  auto events = store_->ReadStream("acct-1", ReadStreamOptions{});
  ASSERT_TRUE(events.has_value());
  LoadOptions asof;
  asof.as_of_ns = (*events)[4].created_ns;  // each command is its own commit
  auto t = accounts.Load("1", asof);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->revision, StreamRevision(4));
  EXPECT_EQ(t->state.balance, 10);
  asof.as_of_ns = (*events)[0].created_ns - 1;
  EXPECT_EQ(accounts.Load("1", asof)->revision, std::nullopt);
  // Bounds at or after a kept snapshot start from it and fold the rest.
  auto now = accounts.Load("1");
  ASSERT_TRUE(now.has_value() && now->snapshot.has_value());
  const uint64_t snap = now->snapshot->value();
  LoadOptions at_snap;
  at_snap.at_revision = snap;
  auto s1 = accounts.Load("1", at_snap);
  ASSERT_TRUE(s1.has_value()) << s1.error().ToString();
  EXPECT_EQ(s1->snapshot, StreamRevision(snap));
  EXPECT_EQ(s1->events_read, 0u);
  EXPECT_EQ(s1->state.balance, static_cast<int64_t>(snap * (snap + 1) / 2));  // deposits 1..snap
  LoadOptions by_time;
  by_time.as_of_ns = (*events)[6].created_ns;
  auto s2 = accounts.Load("1", by_time);
  ASSERT_TRUE(s2.has_value()) << s2.error().ToString();
  EXPECT_EQ(s2->revision, StreamRevision(6));
  EXPECT_EQ(s2->state.balance, 21);
  EXPECT_EQ(s2->events_read, 6 - snap);  // from the newest snapshot, stored before revision 6
}

TEST_F(AggregateTest, HistorySaysWhoDidWhat) {
  AggregateStore<Account> accounts(store_.get(), Options());
  CommandContext c = Ctx(1, "ann");
  c.correlation_id = "req-7";
  ASSERT_TRUE(accounts.Handle("1", c, Open("ann")).has_value());
  ASSERT_TRUE(accounts.Handle("1", Ctx(2, "bob"), Deposit(5)).has_value());
  auto h = accounts.History("1");
  ASSERT_TRUE(h.has_value()) << h.error().ToString();
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].type, "Opened");
  EXPECT_EQ((*h)[0].audit.user, "ann");
  EXPECT_EQ((*h)[0].audit.correlation_id, "req-7");
  EXPECT_EQ((*h)[0].audit.causation_id, testing::NthUuid(1));
  EXPECT_EQ((*h)[0].audit.command_id, testing::NthUuid(1));
  EXPECT_EQ((*h)[1].audit.user, "bob");
  EXPECT_EQ((*h)[1].audit.schema_version, 2);
  EXPECT_EQ((*h)[1].data, R"({"amount":5})");
  EXPECT_GT((*h)[1].created_ns, 0);
}

TEST(AuditTest, CommandEventIdsAreStableAndDistinct) {
  const Uuid c = *Uuid::Parse("00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(CommandEventId(c, "a-1", 0), CommandEventId(c, "a-1", 0));
  EXPECT_FALSE(CommandEventId(c, "a-1", 0) == CommandEventId(c, "a-1", 1));
  EXPECT_FALSE(CommandEventId(c, "a-1", 0) == CommandEventId(c, "a-2", 0));
  const std::string s = CommandEventId(c, "a-1", 0).ToString();
  EXPECT_EQ(s[14], '8');  // version 8
  EXPECT_TRUE(s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
  EXPECT_EQ(*SchemaVersionOf(R"({"schemaVersion":12,"user":"x"})"), 12);
  EXPECT_EQ(*SchemaVersionOf(R"({"user":"x","schemaVersion":3})"), 3);
  EXPECT_EQ(*SchemaVersionOf("not json"), 1);
  EXPECT_EQ(SchemaVersionOf(R"({"schemaVersion":"2"})").error().message(),
            "event metadata: schemaVersion must be a positive integer, got \"2\"");
}

TEST(GivenWhenThenTest, ComparesDecisionsAndSaysWhatDiffers) {
  EXPECT_EQ(Given<Account>({Opened{"ann"}, Deposited{100}})
                .When(Withdraw(30))
                .ThenEvents({Withdrawn{30}}),
            "");
  EXPECT_EQ(Given<Account>({Opened{"ann"}}).When(Withdraw(1)).ThenRejected("insufficient_funds"),
            "");
  EXPECT_EQ(Given<Account>({Opened{"ann"}}).When(Deposit(5)).ThenEvents({Deposited{6}}),
            R"(expected events [Deposited {"amount":6}], got [Deposited {"amount":5}])");
  EXPECT_EQ(
      Given<Account>({Opened{"ann"}}).When(Withdraw(1)).ThenEvents({Withdrawn{1}}),
      R"(expected events [Withdrawn {"amount":1}], got the domain error insufficient_funds (balance 0 is below 1))");
  EXPECT_EQ(Given<Account>().When(Open("x")).ThenRejected("already_open"),
            R"(expected the domain error already_open, got events [Opened {"owner":"x"}])");
  EXPECT_EQ(Given<Account>({Opened{"ann"}}).When(Open("x")).ThenRejected("not_open"),
            "expected the domain error not_open, got already_open (the account is open)");
}

}  // namespace
}  // namespace cairn::toolkit
