#pragma once
// The order example: an Order aggregate driven to shipment by a process
// manager. OrderCreated -> ItemAdded -> CouponApplied -> OrderSubmitted ->
// PaymentProcessed -> OrderShipped: people create, fill and submit orders;
// the Fulfilment process manager (fulfilment.h) charges the payment when an
// order is submitted and ships it when the payment is processed.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/toolkit/aggregate.h"

namespace order {

using cairn::toolkit::Fields;
using cairn::toolkit::Min;
using cairn::toolkit::Range;

struct OrderCreated {
  static constexpr std::string_view kType = "OrderCreated";
  static constexpr int kVersion = 1;
  std::string customer;
  static void Describe(Fields<OrderCreated>& f) { f.Add("customer", &OrderCreated::customer); }
};
struct ItemAdded {
  static constexpr std::string_view kType = "ItemAdded";
  static constexpr int kVersion = 1;
  std::string sku;
  int64_t quantity = 0;
  int64_t unit_price = 0;  // minor units
  static void Describe(Fields<ItemAdded>& f) {
    f.Add("sku", &ItemAdded::sku);
    f.Add("quantity", &ItemAdded::quantity, Range(1, 1000));
    f.Add("unit_price", &ItemAdded::unit_price, Min(0));
  }
};
struct CouponApplied {
  static constexpr std::string_view kType = "CouponApplied";
  static constexpr int kVersion = 1;
  std::string code;
  int64_t percent_off = 0;
  static void Describe(Fields<CouponApplied>& f) {
    f.Add("code", &CouponApplied::code);
    f.Add("percent_off", &CouponApplied::percent_off, Range(1, 100));
  }
};
struct OrderSubmitted {
  static constexpr std::string_view kType = "OrderSubmitted";
  static constexpr int kVersion = 1;
  int64_t total = 0;  // minor units, after the coupon
  static void Describe(Fields<OrderSubmitted>& f) {
    f.Add("total", &OrderSubmitted::total, Min(0));
  }
};
struct PaymentProcessed {
  static constexpr std::string_view kType = "PaymentProcessed";
  static constexpr int kVersion = 1;
  int64_t amount = 0;
  std::string payment_ref;
  static void Describe(Fields<PaymentProcessed>& f) {
    f.Add("amount", &PaymentProcessed::amount, Min(0));
    f.Add("payment_ref", &PaymentProcessed::payment_ref);
  }
};
struct OrderShipped {
  static constexpr std::string_view kType = "OrderShipped";
  static constexpr int kVersion = 1;
  std::string tracking;
  static void Describe(Fields<OrderShipped>& f) { f.Add("tracking", &OrderShipped::tracking); }
};

struct Order {
  static constexpr std::string_view kCategory = "order";
  using Events = cairn::toolkit::EventSet<OrderCreated, ItemAdded, CouponApplied, OrderSubmitted,
                                          PaymentProcessed, OrderShipped>;
  using Event = Events::Variant;
  struct State {
    bool created = false;
    int64_t items = 0;
    int64_t subtotal = 0;
    int64_t percent_off = 0;
    std::optional<int64_t> total;  // set when submitted
    bool paid = false;
    bool shipped = false;
  };
  static State Evolve(State s, const Event& e);
};

using Decision = cairn::toolkit::Decision<Order::Event>;

Decision Create(const Order::State& s, std::string customer);
Decision AddItem(const Order::State& s, std::string sku, int64_t quantity, int64_t unit_price);
Decision ApplyCoupon(const Order::State& s, std::string code, int64_t percent_off);
Decision Submit(const Order::State& s);
Decision RecordPayment(const Order::State& s, std::string payment_ref);
Decision Ship(const Order::State& s, std::string tracking);

}  // namespace order
