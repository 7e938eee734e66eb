// The Fulfilment process manager (fulfilment.h).
#include "examples/order/fulfilment.h"

namespace order {

cairn::Status Fulfilment::Handle(const cairn::RecordedEvent& event,
                                 const cairn::toolkit::ReactionContext& ctx) {
  const std::string id = event.stream.substr(Order::kCategory.size() + 1);
  auto run = [&](auto decide) -> cairn::Status {
    auto r = orders_->Handle(id, ctx.Command(0), decide);
    if (!r.has_value()) return r.error();
    // A refusal here is a business outcome (e.g. shipped already), not a
    // failure of the process: it is in the order's history.
    return cairn::Status::OK();
  };
  if (event.type == OrderSubmitted::kType) {
    auto submitted = cairn::toolkit::Decode<OrderSubmitted>(event.data);
    if (!submitted.has_value()) return submitted.error();
    const std::string key = ctx.Command(0).command_id.ToString();
    auto ref = gateway_->Charge(id, submitted->total, key);
    if (!ref.has_value()) return ref.error();
    return run([&](const Order::State& s) { return RecordPayment(s, *ref); });
  }
  if (event.type == PaymentProcessed::kType) {
    return run([&](const Order::State& s) { return Ship(s, "TRACK-" + id); });
  }
  return cairn::Status::OK();
}

}  // namespace order
