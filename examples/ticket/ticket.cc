// The Ticket aggregate (ticket.h).
#include "examples/ticket/ticket.h"

namespace ticket {

Ticket::State Ticket::Evolve(State s, const Event& e) {
  if (const auto* i = std::get_if<TicketInitialized>(&e)) {
    s.initialized = true;
    s.escalate_after_ns = i->escalate_after_ns;
  }
  if (const auto* x = std::get_if<TicketEscalated>(&e)) s.escalated_by = x->by;
  return s;
}

Decision Initialize(const Ticket::State& s, std::string customer, int64_t escalate_after_ns) {
  if (s.initialized) return Decision::Reject("ticket_exists", "the ticket exists");
  return Ticket::Event(TicketInitialized{std::move(customer), escalate_after_ns});
}

Decision RequestEscalation(const Ticket::State& s,
                           const cairn::toolkit::Competing<Ticket>& competing, std::string agent,
                           int64_t now_ns) {
  if (!s.initialized) return Decision::Reject("ticket_not_found", "no such ticket");
  // Someone escalated it between our first decision and our append: that
  // is what we wanted, but the agent should know it was not them.
  for (const auto& e : competing.events) {
    if (const auto* x = std::get_if<TicketEscalated>(&e)) {
      return Decision::Reject("escalated_concurrently", "the ticket was escalated by " + x->by +
                                                            " while this request was decided");
    }
  }
  if (s.escalated_by) return std::vector<Ticket::Event>{};  // already escalated: nothing to do
  if (now_ns < s.escalate_after_ns) {
    return Decision::Reject("escalation_too_early", "the ticket's time is not up yet");
  }
  return Ticket::Event(TicketEscalated{std::move(agent)});
}

}  // namespace ticket
