// The order example end to end on a real store: people submit, the
// Fulfilment process manager charges and ships; an event delivered twice
// charges and ships once; a failed charge stops the manager before its
// checkpoint, and a restart takes the event again.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "cairn/native.h"
#include "cairn/toolkit/testing.h"
#include "examples/order/fulfilment.h"

namespace order {
namespace {

using cairn::toolkit::Given;
using std::chrono::seconds;

// A fresh directory for one test's store, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "order-test-XXXXXX").string();
    path_ = ::mkdtemp(t.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class FakeGateway : public PaymentGateway {
 public:
  cairn::Result<std::string> Charge(const std::string& order, int64_t amount,
                                    const std::string& key) override {
    ++calls;
    if (fail) return cairn::Status::IOError("gateway unreachable");
    auto [it, added] = charges.emplace(key, "PAY-" + order + "-" + std::to_string(amount));
    return it->second;
  }
  int calls = 0;
  bool fail = false;
  std::map<std::string, std::string> charges;  // idempotency key -> reference
};

class OrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cairn::NativeOptions o;
    o.durability = cairn::Durability::kNoSyncUnsafe;
    auto s = cairn::NativeStore::Open(dir_.path(), o);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
    cairn::toolkit::AggregateOptions ao;
    ao.snapshot_every = 0;
    orders_ = std::make_unique<cairn::toolkit::AggregateStore<Order>>(store_.get(), ao);
  }
  void Do(const std::string& id, std::function<Decision(const Order::State&)> decide) {
    cairn::toolkit::CommandContext c;
    c.user = "clerk";
    c.correlation_id = "checkout-" + id;
    auto r = orders_->Handle(id, c, decide);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    ASSERT_FALSE(r->rejected) << r->rejected->code;
  }
  void PlaceOrder(const std::string& id) {
    Do(id, [](const auto& s) { return Create(s, "c-1"); });
    Do(id, [](const auto& s) { return AddItem(s, "book", 2, 1500); });
    Do(id, [](const auto& s) { return AddItem(s, "pen", 1, 1000); });
    Do(id, [](const auto& s) { return ApplyCoupon(s, "TENOFF", 10); });
    Do(id, [](const auto& s) { return Submit(s); });
  }
  std::vector<cairn::RecordedEvent> Events(const std::string& id) {
    auto r = store_->ReadStream("order-" + id, cairn::ReadStreamOptions{});
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.has_value() ? *r : std::vector<cairn::RecordedEvent>{};
  }
  std::vector<std::string> Types(const std::string& id) {
    std::vector<std::string> t;
    for (const auto& e : Events(id)) t.push_back(e.type);
    return t;
  }
  // Waits until the manager has handled everything, including the events
  // its own commands appended.
  void Settle(cairn::toolkit::ProcessManagerRunner& runner) {
    for (int i = 0; i < 10; ++i) {
      const uint64_t head = store_->HeadPosition()->value();
      ASSERT_TRUE(runner.WaitFor(cairn::Position(head - 1), seconds(30)).ok())
          << runner.status().ToString();
      if (store_->HeadPosition()->value() == head) return;
    }
  }

  TempDir dir_;
  std::unique_ptr<cairn::Store> store_;
  std::unique_ptr<cairn::toolkit::AggregateStore<Order>> orders_;
  FakeGateway gateway_;
};

const std::vector<std::string> kShipped = {"OrderCreated",  "ItemAdded",      "ItemAdded",
                                           "CouponApplied", "OrderSubmitted", "PaymentProcessed",
                                           "OrderShipped"};

TEST(OrderRulesTest, SubmitTotalsAndRefusals) {
  const std::vector<Order::Event> placed = {OrderCreated{"c"}, ItemAdded{"a", 2, 1500},
                                            CouponApplied{"X", 10}};
  EXPECT_EQ(Given<Order>(placed).When(Submit).ThenEvents({OrderSubmitted{2700}}), "");
  EXPECT_EQ(Given<Order>({OrderCreated{"c"}}).When(Submit).ThenRejected("order_empty"), "");
  EXPECT_EQ(Given<Order>(placed)
                .When([](const auto& s) { return ApplyCoupon(s, "Y", 5); })
                .ThenRejected("coupon_applied"),
            "");
  EXPECT_EQ(Given<Order>(placed)
                .When([](const auto& s) { return Ship(s, "T"); })
                .ThenRejected("order_not_paid"),
            "");
  auto submitted = placed;
  submitted.push_back(OrderSubmitted{2700});
  EXPECT_EQ(Given<Order>(submitted)
                .When([](const auto& s) { return AddItem(s, "b", 1, 1); })
                .ThenRejected("order_submitted"),
            "");
  EXPECT_EQ(Given<Order>(submitted)
                .When([](const auto& s) { return RecordPayment(s, "P"); })
                .ThenEvents({PaymentProcessed{2700, "P"}}),
            "");
}

TEST_F(OrderTest, TheProcessManagerChargesAndShipsASubmittedOrder) {
  Fulfilment fulfilment(orders_.get(), &gateway_);
  cairn::toolkit::ProcessManagerOptions po;
  po.category = "order";
  auto runner = cairn::toolkit::ProcessManagerRunner::Start(store_.get(), &fulfilment, po);
  ASSERT_TRUE(runner.has_value()) << runner.error().ToString();
  PlaceOrder("o1");
  Settle(**runner);
  EXPECT_EQ(Types("o1"), kShipped);
  const auto events = Events("o1");
  EXPECT_EQ(events[5].data, R"({"amount":3600,"payment_ref":"PAY-o1-3600"})");
  EXPECT_EQ(events[6].data, R"({"tracking":"TRACK-o1"})");
  // The audit trail links each step to the event that caused it.
  auto pay = nlohmann::json::parse(events[5].metadata);
  EXPECT_EQ(pay["$causationId"], events[4].id.ToString());
  EXPECT_EQ(pay["$correlationId"], "checkout-o1");
  EXPECT_EQ(pay["user"], "process:fulfilment");
  auto ship = nlohmann::json::parse(events[6].metadata);
  EXPECT_EQ(ship["$causationId"], events[5].id.ToString());
  EXPECT_EQ(ship["$correlationId"], "checkout-o1");
  EXPECT_EQ(gateway_.calls, 1);
  ASSERT_TRUE((*runner)->Stop().ok());
  // Its checkpoint is in the store.
  auto cp = store_->ReadStream("checkpoint-fulfilment", cairn::ReadStreamOptions{});
  ASSERT_TRUE(cp.has_value()) << cp.error().ToString();
  ASSERT_FALSE(cp->empty());
  // At or past the shipment (the manager also passes over its own
  // checkpoint events), and below the checkpoint event itself.
  const uint64_t at = nlohmann::json::parse(cp->back().data)["position"].get<uint64_t>();
  EXPECT_GE(at, events[6].position.value());
  EXPECT_LT(at, cp->back().position.value());
  EXPECT_EQ((*runner)->checkpoint(), cairn::Position(at));
}

TEST_F(OrderTest, AnEventDeliveredTwiceChargesAndShipsOnce) {
  PlaceOrder("o2");
  Fulfilment fulfilment(orders_.get(), &gateway_);
  const cairn::RecordedEvent submitted = Events("o2")[4];
  for (int i = 0; i < 2; ++i) {
    cairn::toolkit::ReactionContext ctx("fulfilment", submitted, "process:fulfilment");
    ASSERT_TRUE(fulfilment.Handle(submitted, ctx).ok());
  }
  EXPECT_EQ(gateway_.calls, 2);
  EXPECT_EQ(gateway_.charges.size(), 1u);  // the same idempotency key both times
  const cairn::RecordedEvent paid = Events("o2")[5];
  for (int i = 0; i < 2; ++i) {
    cairn::toolkit::ReactionContext ctx("fulfilment", paid, "process:fulfilment");
    ASSERT_TRUE(fulfilment.Handle(paid, ctx).ok());
  }
  EXPECT_EQ(Types("o2"), kShipped);
}

TEST_F(OrderTest, AFailedChargeStopsTheManagerAndARestartRetriesIt) {
  Fulfilment fulfilment(orders_.get(), &gateway_);
  cairn::toolkit::ProcessManagerOptions po;
  po.category = "order";
  gateway_.fail = true;
  auto runner = cairn::toolkit::ProcessManagerRunner::Start(store_.get(), &fulfilment, po);
  ASSERT_TRUE(runner.has_value()) << runner.error().ToString();
  PlaceOrder("o3");
  // The manager's own checkpoint appends may come between the order's
  // events: take the submission's position from the stream.
  const uint64_t submitted = Events("o3")[4].position.value();
  cairn::Status w = (*runner)->WaitFor(cairn::Position(submitted), seconds(30));
  EXPECT_EQ(w.code(), cairn::ErrorCode::kIOError);
  EXPECT_EQ(w.message(), "process manager fulfilment at position " + std::to_string(submitted) +
                             " (order-o3@4): gateway unreachable");
  // Never at or past the failed event (what lies between it and the
  // coupon is the manager's own checkpoint, outside its category).
  ASSERT_TRUE((*runner)->checkpoint().has_value());
  EXPECT_GE((*runner)->checkpoint()->value(), Events("o3")[3].position.value());
  EXPECT_LT((*runner)->checkpoint()->value(), submitted);
  (void)(*runner)->Stop();
  EXPECT_EQ(Types("o3").size(), 5u);

  gateway_.fail = false;
  auto again = cairn::toolkit::ProcessManagerRunner::Start(store_.get(), &fulfilment, po);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  Settle(**again);
  EXPECT_EQ(Types("o3"), kShipped);
  EXPECT_EQ(gateway_.charges.size(), 1u);
  ASSERT_TRUE((*again)->Stop().ok());
}

TEST_F(OrderTest, ARestartedManagerTakesOnlyNewEvents) {
  Fulfilment fulfilment(orders_.get(), &gateway_);
  cairn::toolkit::ProcessManagerOptions po;
  po.category = "order";
  {
    auto runner = cairn::toolkit::ProcessManagerRunner::Start(store_.get(), &fulfilment, po);
    ASSERT_TRUE(runner.has_value());
    PlaceOrder("o4");
    Settle(**runner);
    ASSERT_TRUE((*runner)->Stop().ok());
  }
  EXPECT_EQ(gateway_.calls, 1);
  PlaceOrder("o5");
  auto runner = cairn::toolkit::ProcessManagerRunner::Start(store_.get(), &fulfilment, po);
  ASSERT_TRUE(runner.has_value());
  Settle(**runner);
  EXPECT_EQ(gateway_.calls, 2);  // o5 only
  EXPECT_EQ(Types("o5"), kShipped);
  ASSERT_TRUE((*runner)->Stop().ok());
}

}  // namespace
}  // namespace order
