#pragma once
// The Fulfilment process manager: OrderSubmitted -> charge the payment
// (through a PaymentGateway, then RecordPayment); PaymentProcessed -> Ship.
// Its commands carry the ids ReactionContext derives from the event, so an
// event delivered twice charges and ships once.
#include <string>

#include "cairn/toolkit/process_manager.h"
#include "examples/order/order.h"

namespace order {

// The outside world that takes money. `idempotency_key` is the command id:
// a real gateway receives it so a retried charge is not taken twice.
class PaymentGateway {
 public:
  virtual ~PaymentGateway() = default;
  virtual cairn::Result<std::string> Charge(const std::string& order, int64_t amount,
                                            const std::string& idempotency_key) = 0;
};

class Fulfilment : public cairn::toolkit::ProcessManager {
 public:
  // `orders` and `gateway` must outlive the manager.
  Fulfilment(cairn::toolkit::AggregateStore<Order>* orders, PaymentGateway* gateway)
      : orders_(orders), gateway_(gateway) {}
  std::string name() const override { return "fulfilment"; }
  cairn::Status Handle(const cairn::RecordedEvent& event,
                       const cairn::toolkit::ReactionContext& ctx) override;

 private:
  cairn::toolkit::AggregateStore<Order>* orders_;
  PaymentGateway* gateway_;
};

}  // namespace order
