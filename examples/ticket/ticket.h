#pragma once
// The ticket example: the support-ticket aggregate of the classic
// event-sourcing write-up, mapped one to one onto the toolkit:
//
//   Ticket.from_events(events)   -> AggregateStore<Ticket>::Load (or
//                                   Given<Ticket>(events) in tests): a fold
//   Ticket.process_event(event)  -> Ticket::Evolve(state, event)
//   ticket.request_escalation()  -> RequestEscalation(state, now, competing)
//
// Rule: a ticket is escalated once, and only when its time is up. Two
// agents escalating at the same moment conflict; the one that loses sees
// the competing TicketEscalated and refuses on business grounds
// ("escalated_concurrently", naming who won) instead of failing.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/toolkit/aggregate.h"

namespace ticket {

using cairn::toolkit::Fields;
using cairn::toolkit::Min;

struct TicketInitialized {
  static constexpr std::string_view kType = "TicketInitialized";
  static constexpr int kVersion = 1;
  std::string customer;
  int64_t escalate_after_ns = 0;  // UTC ns: before this, no escalation
  static void Describe(Fields<TicketInitialized>& f) {
    f.Add("customer", &TicketInitialized::customer);
    f.Add("escalate_after_ns", &TicketInitialized::escalate_after_ns, Min(0));
  }
};

struct TicketEscalated {
  static constexpr std::string_view kType = "TicketEscalated";
  static constexpr int kVersion = 1;
  std::string by;  // the agent who escalated
  static void Describe(Fields<TicketEscalated>& f) { f.Add("by", &TicketEscalated::by); }
};

struct Ticket {
  static constexpr std::string_view kCategory = "ticket";
  using Events = cairn::toolkit::EventSet<TicketInitialized, TicketEscalated>;
  using Event = Events::Variant;
  struct State {
    bool initialized = false;
    int64_t escalate_after_ns = 0;
    std::optional<std::string> escalated_by;
  };
  static State Evolve(State s, const Event& e);  // process_event
};

using Decision = cairn::toolkit::Decision<Ticket::Event>;

Decision Initialize(const Ticket::State& s, std::string customer, int64_t escalate_after_ns);
// request_escalation: by `agent`, at `now_ns`.
Decision RequestEscalation(const Ticket::State& s,
                           const cairn::toolkit::Competing<Ticket>& competing, std::string agent,
                           int64_t now_ns);

}  // namespace ticket
