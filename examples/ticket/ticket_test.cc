// The ticket domain: the rule through given/when/then, and a concurrent
// escalation on a real store resolved by looking at the competing events.
#include "examples/ticket/ticket.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "cairn/native.h"
#include "cairn/toolkit/testing.h"

namespace ticket {
namespace {

using cairn::toolkit::Competing;
using cairn::toolkit::Given;

constexpr int64_t kDue = 1000;

auto Escalate(std::string agent, int64_t now) {
  return [agent, now](const Ticket::State& s, const Competing<Ticket>& c) {
    return RequestEscalation(s, c, agent, now);
  };
}

TEST(TicketTest, EscalatesOnceAndOnlyWhenTheTimeIsUp) {
  const Ticket::Event init = TicketInitialized{"acme", kDue};
  EXPECT_EQ(Given<Ticket>({init}).When(Escalate("ann", kDue)).ThenEvents({TicketEscalated{"ann"}}),
            "");
  EXPECT_EQ(
      Given<Ticket>({init}).When(Escalate("ann", kDue - 1)).ThenRejected("escalation_too_early"),
      "");
  EXPECT_EQ(Given<Ticket>({init, TicketEscalated{"bo"}}).When(Escalate("ann", kDue)).ThenEvents({}),
            "");
  EXPECT_EQ(Given<Ticket>().When(Escalate("ann", kDue)).ThenRejected("ticket_not_found"), "");
}

TEST(TicketTest, AConcurrentEscalationIsResolvedByTheCompetingEvents) {
  std::string dir = (std::filesystem::temp_directory_path() / "ticket-test-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  {
    cairn::NativeOptions o;
    o.durability = cairn::Durability::kNoSyncUnsafe;
    auto store = cairn::NativeStore::Open(dir, o);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    cairn::toolkit::AggregateStore<Ticket> tickets(store->get());
    ASSERT_TRUE(
        tickets.Handle("t1", {}, [](const Ticket::State& s) { return Initialize(s, "acme", kDue); })
            .has_value());
    // Ann decides on the state without an escalation; before her append,
    // Bo's escalation lands. Her retry sees it among the competing events.
    auto ann = tickets.Handle("t1", {}, [&](const Ticket::State& s, const Competing<Ticket>& c) {
      if (c.attempt == 1) {
        auto bo = tickets.Handle("t1", {}, Escalate("bo", kDue + 5));
        EXPECT_TRUE(bo.has_value() && !bo->rejected && bo->events.size() == 1u);
      }
      return RequestEscalation(s, c, "ann", kDue + 5);
    });
    ASSERT_TRUE(ann.has_value()) << ann.error().ToString();
    EXPECT_EQ(ann->attempts, 2);
    ASSERT_TRUE(ann->rejected.has_value());
    EXPECT_EQ(ann->rejected->code, "escalated_concurrently");
    EXPECT_EQ(ann->rejected->message,
              "the ticket was escalated by bo while this request was decided");
    auto t = tickets.Load("t1");
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->state.escalated_by, std::optional<std::string>("bo"));
    EXPECT_EQ(t->revision, cairn::StreamRevision(1));  // one escalation stored
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ticket
