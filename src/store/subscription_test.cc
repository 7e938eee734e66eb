// Subscriptions and filtered $all reads through the public Store API.
#include <gtest/gtest.h>

#include <thread>

#include "cairn/native.h"
#include "src/base/testing.h"

namespace cairn {
namespace {

using Kind = SubscriptionMessage::Kind;
using std::chrono::milliseconds;
using testing::Ev;
using testing::TempDir;

class SubscriptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NativeOptions o;
    o.durability = Durability::kNoSyncUnsafe;
    auto s = NativeStore::Open(dir_.path(), o);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
  }
  void Add(const std::string& stream, const std::string& type) {
    EventData e = Ev(type);
    auto r = store_->Append(stream, ExpectedRevision::Any(), {&e, 1});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
  }
  std::unique_ptr<Subscription> Sub(const SubscribeOptions& o) {
    auto s = store_->Subscribe(o);
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    return s.has_value() ? std::move(*s) : nullptr;
  }
  // One message, waiting at most `wait`; fails the test on error or timeout.
  static SubscriptionMessage Take(Subscription* s, milliseconds wait = milliseconds(10000)) {
    auto m = s->Next(wait);
    EXPECT_TRUE(m.has_value()) << m.error().ToString();
    if (!m.has_value()) return {};
    EXPECT_TRUE(m->has_value()) << "no message within the wait";
    return m->has_value() ? std::move(**m) : SubscriptionMessage{};
  }
  // "E:stream/type@position", "C@p" (caught up), "B@p" (fell behind), "K@p" (checkpoint).
  static std::string Describe(const SubscriptionMessage& m) {
    switch (m.kind) {
      case Kind::kEvent:
        return "E:" + m.event.stream + "/" + m.event.type + "@" +
               std::to_string(m.event.position.value());
      case Kind::kCaughtUp:
        return "C@" + std::to_string(m.position.value());
      case Kind::kFellBehind:
        return "B@" + std::to_string(m.position.value());
      case Kind::kCheckpoint:
        return "K@" + std::to_string(m.position.value());
    }
    return "?";
  }
  std::vector<std::string> TakeN(Subscription* s, size_t n) {
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) out.push_back(Describe(Take(s)));
    return out;
  }
  TempDir dir_;
  std::unique_ptr<NativeStore> store_;
};

TEST_F(SubscriptionTest, StreamHistoryThenCaughtUpThenLive) {
  Add("order-1", "A");
  Add("order-2", "X");
  Add("order-1", "B");
  auto sub = Sub(SubscribeOptions::Stream("order-1"));
  EXPECT_EQ(TakeN(sub.get(), 3),
            (std::vector<std::string>{"E:order-1/A@0", "E:order-1/B@2", "C@3"}));
  // Nothing new: Next waits and times out with no message.
  auto none = sub->Next(milliseconds(20));
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  // A Next waiting in another thread receives the events appended meanwhile.
  std::vector<std::string> got;
  std::thread waiter([&] { got = TakeN(sub.get(), 2); });
  Add("order-2", "Y");
  Add("order-1", "C");
  Add("order-1", "D");
  waiter.join();
  EXPECT_EQ(got, (std::vector<std::string>{"E:order-1/C@4", "E:order-1/D@5"}));
  EXPECT_EQ(sub->last_revision(), std::optional<StreamRevision>(3));  // revision of D
  EXPECT_EQ(sub->last_position(), std::nullopt);
}

// Regression: delivered events lost RecordedEvent::caller_id (the message
// slot was filled field by field without it), so `cairn tail` said every id
// was engine-made.
TEST_F(SubscriptionTest, EventsSayWhetherTheAppenderGaveTheId) {
  EventData with_id = Ev("A");
  with_id.id = Uuid::Random();
  ASSERT_TRUE(store_->Append("ids-1", ExpectedRevision::Any(), {&with_id, 1}).has_value());
  Add("ids-1", "B");
  auto sub = Sub(SubscribeOptions::Stream("ids-1"));
  const SubscriptionMessage first = Take(sub.get());
  const SubscriptionMessage second = Take(sub.get());
  EXPECT_EQ(first.event.id, *with_id.id);
  EXPECT_TRUE(first.event.caller_id);
  EXPECT_FALSE(second.event.caller_id);
  // Live events too.
  EXPECT_EQ(Describe(Take(sub.get())), "C@2");
  with_id.id = Uuid::Random();
  ASSERT_TRUE(store_->Append("ids-1", ExpectedRevision::Any(), {&with_id, 1}).has_value());
  const SubscriptionMessage live = Take(sub.get());
  EXPECT_EQ(live.event.id, *with_id.id);
  EXPECT_TRUE(live.event.caller_id);
}

// Regression: a filtered stream subscription whose first page held no match
// reported kCaughtUp and waited, missing the matches further on.
TEST_F(SubscriptionTest, FilteredStreamSubscriptionReadsPastPagesWithoutAMatch) {
  for (int i = 0; i < 5; ++i) Add("mixed-1", "Skip");
  Add("mixed-1", "Keep");
  SubscribeOptions o = SubscribeOptions::Stream("mixed-1");
  o.filter.types = {"Keep"};
  o.page_events = 2;
  auto sub = Sub(o);
  EXPECT_EQ(TakeN(sub.get(), 2), (std::vector<std::string>{"E:mixed-1/Keep@5", "C@6"}));
}

TEST_F(SubscriptionTest, NextBatchDeliversPagesThenMarkersAndReusesTheVector) {
  for (int i = 0; i < 10; ++i) Add("batch-" + std::to_string(i % 3), "T" + std::to_string(i));
  SubscribeOptions o = SubscribeOptions::All();
  o.page_events = 4;
  auto sub = Sub(o);
  std::vector<SubscriptionMessage> page;
  std::vector<std::string> got;
  std::vector<size_t> sizes;
  for (int k = 0; k < 4; ++k) {
    auto n = sub->NextBatch(&page, milliseconds(1000));
    ASSERT_TRUE(n.has_value()) << n.error().ToString();
    ASSERT_EQ(*n, page.size());
    sizes.push_back(*n);
    for (const auto& m : page) got.push_back(Describe(m));
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4, 2, 1}));
  EXPECT_EQ(got, (std::vector<std::string>{"E:batch-0/T0@0", "E:batch-1/T1@1", "E:batch-2/T2@2",
                                           "E:batch-0/T3@3", "E:batch-1/T4@4", "E:batch-2/T5@5",
                                           "E:batch-0/T6@6", "E:batch-1/T7@7", "E:batch-2/T8@8",
                                           "E:batch-0/T9@9", "C@10"}));
  auto none = sub->NextBatch(&page, milliseconds(10));
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(*none, 0u);
  EXPECT_TRUE(page.empty());
  // Next and NextBatch mix: what Next leaves of a page comes in the batch.
  Add("batch-0", "U1");
  Add("batch-0", "U2");
  std::this_thread::sleep_for(milliseconds(1));
  EXPECT_EQ(Describe(Take(sub.get())), "E:batch-0/U1@10");
  auto rest = sub->NextBatch(&page, milliseconds(1000));
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(*rest, 1u);
  EXPECT_EQ(Describe(page[0]), "E:batch-0/U2@11");
}

TEST_F(SubscriptionTest, StreamThatDoesNotExistYetIsFollowedOnceCreated) {
  auto sub = Sub(SubscribeOptions::Stream("late-1"));
  EXPECT_EQ(Describe(Take(sub.get())), "C@0");
  Add("late-1", "A");
  EXPECT_EQ(Describe(Take(sub.get())), "E:late-1/A@0");
}

TEST_F(SubscriptionTest, AfterIsExclusiveAndFromEndSkipsHistory) {
  for (int i = 0; i < 5; ++i) Add("s-" + std::to_string(i % 2), "T" + std::to_string(i));
  SubscribeOptions all = SubscribeOptions::All();
  all.after = Position(2);
  auto a = Sub(all);
  EXPECT_EQ(TakeN(a.get(), 3), (std::vector<std::string>{"E:s-1/T3@3", "E:s-0/T4@4", "C@5"}));
  SubscribeOptions st = SubscribeOptions::Stream("s-0");
  st.after_revision = StreamRevision(0);  // revision 0 is T0
  auto b = Sub(st);
  EXPECT_EQ(TakeN(b.get(), 3), (std::vector<std::string>{"E:s-0/T2@2", "E:s-0/T4@4", "C@5"}));
  SubscribeOptions end = SubscribeOptions::All();
  end.from_end = true;
  auto c = Sub(end);
  EXPECT_EQ(Describe(Take(c.get())), "C@5");
  SubscribeOptions send = SubscribeOptions::Stream("s-1");
  send.from_end = true;
  auto d = Sub(send);
  EXPECT_EQ(Describe(Take(d.get())), "C@5");
  Add("s-1", "T5");
  EXPECT_EQ(Describe(Take(c.get())), "E:s-1/T5@5");
  EXPECT_EQ(Describe(Take(d.get())), "E:s-1/T5@5");
}

TEST_F(SubscriptionTest, AStartPointOfTheWrongKindIsAnInvalidArgument) {
  Add("s-0", "T0");
  SubscribeOptions stream = SubscribeOptions::Stream("s-0");
  stream.after = Position(0);
  auto a = store_->Subscribe(stream);
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().ToString(),
            "invalid_argument: a stream subscription starts after a revision (after_revision), "
            "not a position");
  SubscribeOptions category = SubscribeOptions::Category("s");
  category.after_revision = StreamRevision(0);
  auto b = store_->Subscribe(category);
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().ToString(),
            "invalid_argument: only a stream subscription starts after a revision; this one "
            "takes a position (after)");
}

TEST_F(SubscriptionTest, CategoryAndEventTypeSubscriptions) {
  Add("account-1", "Opened");
  Add("order-1", "Created");
  Add("account-2", "Opened");
  Add("accounting", "Opened");  // no '-': no category
  Add("account-1", "Deposited");
  auto cat = Sub(SubscribeOptions::Category("account"));
  EXPECT_EQ(TakeN(cat.get(), 4),
            (std::vector<std::string>{"E:account-1/Opened@0", "E:account-2/Opened@2",
                                      "E:account-1/Deposited@4", "C@5"}));
  auto type = Sub(SubscribeOptions::EventType("Opened"));
  EXPECT_EQ(TakeN(type.get(), 4),
            (std::vector<std::string>{"E:account-1/Opened@0", "E:account-2/Opened@2",
                                      "E:accounting/Opened@3", "C@5"}));
  Add("order-2", "Opened");
  Add("account-3", "Opened");
  EXPECT_EQ(Describe(Take(cat.get())), "E:account-3/Opened@6");
  EXPECT_EQ(TakeN(type.get(), 2),
            (std::vector<std::string>{"E:order-2/Opened@5", "E:account-3/Opened@6"}));
}

TEST_F(SubscriptionTest, FilteredSubscriptionReportsCheckpointsWhenNothingMatches) {
  for (int i = 0; i < 2500; ++i) Add("noise-" + std::to_string(i % 7), "Noise");
  SubscribeOptions o = SubscribeOptions::All();
  o.filter.type_prefixes = {"Wanted"};
  o.checkpoint_interval = 1000;
  auto sub = Sub(o);
  EXPECT_EQ(TakeN(sub.get(), 3), (std::vector<std::string>{"K@999", "K@1999", "C@2500"}));
  Add("x-1", "WantedThing");
  EXPECT_EQ(Describe(Take(sub.get())), "E:x-1/WantedThing@2500");
  // Resuming after a checkpoint starts past it.
  SubscribeOptions resume = o;
  resume.after = Position(1999);
  auto again = Sub(resume);
  EXPECT_EQ(TakeN(again.get(), 2), (std::vector<std::string>{"E:x-1/WantedThing@2500", "C@2501"}));
}

TEST_F(SubscriptionTest, SlowSubscriberFallsBehindReadsHistoryAndCatchesUpAgain) {
  SubscribeOptions o = SubscribeOptions::All();
  o.max_lag_events = 100;
  o.page_events = 16;
  auto sub = Sub(o);
  EXPECT_EQ(Describe(Take(sub.get())), "C@0");
  for (int i = 0; i < 300; ++i) Add("busy-" + std::to_string(i % 3), "T");
  EXPECT_EQ(Describe(Take(sub.get())), "B@300");
  for (uint64_t p = 0; p < 300; ++p) {
    SubscriptionMessage m = Take(sub.get());
    ASSERT_EQ(m.kind, Kind::kEvent) << p;
    ASSERT_EQ(m.event.position.value(), p);
  }
  EXPECT_EQ(Describe(Take(sub.get())), "C@300");
  // A lag within the bound is no fall: events just keep coming.
  for (int i = 0; i < 50; ++i) Add("busy-0", "T");
  EXPECT_EQ(Describe(Take(sub.get())), "E:busy-0/T@300");
}

TEST_F(SubscriptionTest, CancelWakesAWaitingNextAndEveryLaterOne) {
  auto sub = Sub(SubscribeOptions::All());
  EXPECT_EQ(Describe(Take(sub.get())), "C@0");
  Result<std::optional<SubscriptionMessage>> waited = std::optional<SubscriptionMessage>();
  std::thread waiter([&] { waited = sub->Next(std::chrono::minutes(10)); });
  std::this_thread::sleep_for(milliseconds(50));
  sub->Cancel();
  waiter.join();  // returns at once, not after ten minutes
  ASSERT_FALSE(waited.has_value());
  EXPECT_EQ(waited.error().code(), ErrorCode::kCancelled);
  auto later = sub->Next(milliseconds(0));
  ASSERT_FALSE(later.has_value());
  EXPECT_EQ(later.error().code(), ErrorCode::kCancelled);
}

TEST_F(SubscriptionTest, CloseWakesAWaitingNextWithFailedPrecondition) {
  auto sub = Sub(SubscribeOptions::All());
  EXPECT_EQ(Describe(Take(sub.get())), "C@0");
  Result<std::optional<SubscriptionMessage>> waited = std::optional<SubscriptionMessage>();
  std::thread waiter([&] { waited = sub->Next(std::chrono::minutes(10)); });
  std::this_thread::sleep_for(milliseconds(50));
  ASSERT_TRUE(store_->Close().ok());
  waiter.join();
  ASSERT_FALSE(waited.has_value());
  EXPECT_EQ(waited.error().code(), ErrorCode::kClosed);
}

TEST_F(SubscriptionTest, BadFiltersAndNamesAreInvalidArguments) {
  SubscribeOptions o = SubscribeOptions::All();
  o.filter.stream_regex = "acc(ount";
  auto r = store_->Subscribe(o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message().rfind("stream regex 'acc(ount' is not a valid regex: ", 0), 0u)
      << r.error().message();
  auto c = store_->Subscribe(SubscribeOptions::Category("account-1"));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(c.error().message(), "category 'account-1' must be non-empty and contain no '-'");
  auto s = store_->Subscribe(SubscribeOptions::Stream(""));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  ReadAllOptions ro;
  ro.filter.type_regex = "[";
  Status st = store_->ReadAll(ro, [](const EventView&) { return true; });
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
}

TEST_F(SubscriptionTest, FilteredReadAllForwardsAndBackwards) {
  Add("account-1", "Opened");     // 0
  Add("order-1", "Created");      // 1
  Add("account-2", "Opened");     // 2
  Add("account-1", "Deposited");  // 3
  Add("orders-9", "Created");     // 4
  auto positions = [&](ReadAllOptions o) {
    std::vector<uint64_t> out;
    auto r = store_->ReadAll(o);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    if (r.has_value()) {
      for (const auto& e : *r) out.push_back(e.position.value());
    }
    return out;
  };
  ReadAllOptions o;
  o.filter.categories = {"account"};
  EXPECT_EQ(positions(o), (std::vector<uint64_t>{0, 2, 3}));
  o.max_count = 2;
  EXPECT_EQ(positions(o), (std::vector<uint64_t>{0, 2}));
  o.direction = Direction::kBackwards;
  EXPECT_EQ(positions(o), (std::vector<uint64_t>{3, 2}));
  ReadAllOptions p;
  p.filter.stream_prefixes = {"order"};
  EXPECT_EQ(positions(p), (std::vector<uint64_t>{1, 4}));
  p.filter.stream_regex = "^order-\\d+$";
  EXPECT_EQ(positions(p), (std::vector<uint64_t>{1}));
  ReadAllOptions t;
  t.filter.type_regex = "^(Opened|Created)$";
  t.from = Position(2);
  EXPECT_EQ(positions(t), (std::vector<uint64_t>{2, 4}));
  ReadAllOptions both;
  both.filter.categories = {"account"};
  both.filter.types = {"Opened"};
  EXPECT_EQ(positions(both), (std::vector<uint64_t>{0, 2}));
}

TEST_F(SubscriptionTest, ReadOnlyProcessSubscriptionSeesTheWritersCommits) {
  Add("shared-1", "Before");
  NativeOptions ro;
  ro.read_only = true;
  auto reader = NativeStore::Open(dir_.path(), ro);
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  auto sub = (*reader)->Subscribe(SubscribeOptions::All());
  ASSERT_TRUE(sub.has_value()) << sub.error().ToString();
  EXPECT_EQ(TakeN(sub->get(), 2), (std::vector<std::string>{"E:shared-1/Before@0", "C@1"}));
  std::vector<std::string> got;
  std::thread waiter([&] { got = TakeN(sub->get(), 1); });
  std::this_thread::sleep_for(milliseconds(30));
  Add("shared-1", "After");
  waiter.join();
  EXPECT_EQ(got, (std::vector<std::string>{"E:shared-1/After@1"}));
  sub->reset();
  ASSERT_TRUE((*reader)->Close().ok());
}

}  // namespace
}  // namespace cairn
