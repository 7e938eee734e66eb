// `order-demo DIR`: places one order on the store in DIR and lets the
// Fulfilment process manager charge and ship it, then prints the order's
// history as JSON lines. The shape of a real service, in one process.
#include <iostream>
#include <nlohmann/json.hpp>

#include "examples/order/fulfilment.h"

namespace {

class DemoGateway : public order::PaymentGateway {
 public:
  cairn::Result<std::string> Charge(const std::string& order, int64_t amount,
                                    const std::string&) override {
    return "PAY-" + order + "-" + std::to_string(amount);
  }
};

int Fail(const cairn::Status& s) {
  std::cerr
      << nlohmann::json{{"error", cairn::ErrorCodeName(s.code())}, {"message", s.message()}}.dump()
      << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << R"({"error":"usage","message":"order-demo DIR"})"
              << "\n";
    return 2;
  }
  auto store = cairn::OpenStore(argv[1]);
  if (!store.has_value()) return Fail(store.error());
  cairn::toolkit::AggregateStore<order::Order> orders(store->get());
  DemoGateway gateway;
  order::Fulfilment fulfilment(&orders, &gateway);
  cairn::toolkit::ProcessManagerOptions po;
  po.category = "order";
  auto runner = cairn::toolkit::ProcessManagerRunner::Start(store->get(), &fulfilment, po);
  if (!runner.has_value()) return Fail(runner.error());
  const std::string id = cairn::Uuid::Random().ToString().substr(0, 8);
  cairn::toolkit::CommandContext ctx;
  ctx.user = "demo";
  for (auto decide : std::vector<std::function<order::Decision(const order::Order::State&)>>{
           [](const auto& s) { return order::Create(s, "customer-1"); },
           [](const auto& s) { return order::AddItem(s, "book", 2, 1500); },
           [](const auto& s) { return order::ApplyCoupon(s, "TENOFF", 10); },
           [](const auto& s) { return order::Submit(s); }}) {
    auto r = orders.Handle(id, ctx, decide);
    if (!r.has_value()) return Fail(r.error());
  }
  // Wait until the manager has reacted to its own events too.
  for (int i = 0; i < 3; ++i) {
    cairn::Result<cairn::Position> head = (*store)->HeadPosition();
    if (!head.has_value()) return Fail(head.error());
    cairn::Status w =
        (*runner)->WaitFor(cairn::Position(head->value() - 1), std::chrono::seconds(30));
    if (!w.ok()) return Fail(w);
  }
  (void)(*runner)->Stop();
  auto history = orders.History(id);
  if (!history.has_value()) return Fail(history.error());
  for (const auto& e : *history) {
    std::cout << nlohmann::json{{"stream", "order-" + id},
                                {"revision", e.revision.value()},
                                {"type", e.type},
                                {"user", e.audit.user},
                                {"data", nlohmann::json::parse(e.data)}}
                     .dump()
              << "\n";
  }
  return 0;
}
