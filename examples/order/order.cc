// The Order aggregate's fold and decisions (order.h).
#include "examples/order/order.h"

namespace order {
namespace {

Decision Refuse(const char* rule, std::string message) {
  return Decision::Reject(rule, std::move(message));
}

std::optional<Decision> CheckOpen(const Order::State& s) {
  if (!s.created) return Refuse("order_not_found", "no such order");
  if (s.total) return Refuse("order_submitted", "the order is already submitted");
  return std::nullopt;
}

}  // namespace

Order::State Order::Evolve(State s, const Event& e) {
  if (std::holds_alternative<OrderCreated>(e)) s.created = true;
  if (const auto* i = std::get_if<ItemAdded>(&e)) {
    s.items += i->quantity;
    s.subtotal += i->quantity * i->unit_price;
  }
  if (const auto* c = std::get_if<CouponApplied>(&e)) s.percent_off = c->percent_off;
  if (const auto* x = std::get_if<OrderSubmitted>(&e)) s.total = x->total;
  if (std::holds_alternative<PaymentProcessed>(e)) s.paid = true;
  if (std::holds_alternative<OrderShipped>(e)) s.shipped = true;
  return s;
}

Decision Create(const Order::State& s, std::string customer) {
  if (s.created) return Refuse("order_exists", "the order exists");
  return Order::Event(OrderCreated{std::move(customer)});
}

Decision AddItem(const Order::State& s, std::string sku, int64_t quantity, int64_t unit_price) {
  if (auto refused = CheckOpen(s)) return *refused;
  if (quantity < 1) return Refuse("quantity_not_positive", "quantities must be positive");
  return Order::Event(ItemAdded{std::move(sku), quantity, unit_price});
}

Decision ApplyCoupon(const Order::State& s, std::string code, int64_t percent_off) {
  if (auto refused = CheckOpen(s)) return *refused;
  if (s.percent_off > 0) return Refuse("coupon_applied", "an order takes one coupon");
  return Order::Event(CouponApplied{std::move(code), percent_off});
}

Decision Submit(const Order::State& s) {
  if (auto refused = CheckOpen(s)) return *refused;
  if (s.items == 0) return Refuse("order_empty", "an order needs an item to be submitted");
  return Order::Event(OrderSubmitted{s.subtotal - s.subtotal * s.percent_off / 100});
}

Decision RecordPayment(const Order::State& s, std::string payment_ref) {
  if (!s.total) return Refuse("order_not_submitted", "only a submitted order is paid");
  if (s.paid) return Refuse("order_paid", "the order is already paid");
  return Order::Event(PaymentProcessed{*s.total, std::move(payment_ref)});
}

Decision Ship(const Order::State& s, std::string tracking) {
  if (!s.paid) return Refuse("order_not_paid", "only a paid order ships");
  if (s.shipped) return Refuse("order_shipped", "the order has shipped");
  return Order::Event(OrderShipped{std::move(tracking)});
}

}  // namespace order
