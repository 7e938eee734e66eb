#pragma once
// Testing helpers for domains, without a store:
//
//   EXPECT_EQ(Given<Account>({Opened{"ann"}, Deposited{100}})
//                 .When(Withdraw(30))
//                 .ThenEvents({Withdrawn{30}}), "");
//   EXPECT_EQ(Given<Account>({Opened{"ann"}}).When(Withdraw(1)).ThenRejected("insufficient_funds"),
//   "");
//
// Then* return "" when the outcome is the expected one, otherwise a
// description of both (events shown as type and JSON), so any test
// framework prints what differs.
//
// Thread safety: value types.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/toolkit/aggregate.h"

namespace cairn::toolkit {

template <Aggregate A>
class Then {
 public:
  using Event = typename A::Events::Variant;
  Then(typename A::State state, Decision<Event> decision)
      : state_(std::move(state)), decision_(std::move(decision)) {}

  std::string ThenEvents(const std::vector<Event>& expected) const {
    if (!decision_.accepted()) {
      return "expected events " + Show(expected) + ", got the domain error " +
             decision_.error().code + " (" + decision_.error().message + ")";
    }
    const std::string want = Show(expected), got = Show(decision_.events());
    return want == got ? std::string() : "expected events " + want + ", got " + got;
  }
  std::string ThenRejected(std::string_view code) const {
    if (decision_.accepted()) {
      return "expected the domain error " + std::string(code) + ", got events " +
             Show(decision_.events());
    }
    if (decision_.error().code != code) {
      return "expected the domain error " + std::string(code) + ", got " + decision_.error().code +
             " (" + decision_.error().message + ")";
    }
    return std::string();
  }
  const Decision<Event>& decision() const { return decision_; }
  // The state the command decided on (the fold of the given events).
  const typename A::State& state() const { return state_; }

 private:
  static std::string Show(const std::vector<Event>& events) {
    std::string out = "[";
    for (const Event& e : events) {
      if (out.size() > 1) out += ", ";
      out += std::string(A::Events::TypeName(e)) + " " + A::Events::Encode(e);
    }
    return out + "]";
  }
  typename A::State state_;
  Decision<Event> decision_;
};

template <Aggregate A>
class Given {
 public:
  using Event = typename A::Events::Variant;
  explicit Given(std::vector<Event> history = {}) {
    for (const Event& e : history) state_ = A::Evolve(std::move(state_), e);
  }
  // Runs `decide` (taking the state, or the state and Competing) on the
  // state the given events fold to.
  template <class Decide>
  Then<A> When(Decide&& decide) const {
    if constexpr (std::is_invocable_v<Decide&, const typename A::State&, const Competing<A>&>) {
      return Then<A>(state_, decide(state_, Competing<A>{}));
    } else {
      return Then<A>(state_, decide(state_));
    }
  }
  const typename A::State& state() const { return state_; }

 private:
  typename A::State state_{};
};

}  // namespace cairn::toolkit
