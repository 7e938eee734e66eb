// The Account domain through given/when/then, its upcaster and its money
// parsing: no store needed.
#include "examples/bank/account.h"

#include <gtest/gtest.h>

#include "cairn/toolkit/testing.h"

namespace bank {
namespace {

using cairn::toolkit::Given;
using E = Account::Event;

const E kOpened = AccountOpened{"a1", Personal("Ann"), Personal("ann@example.com"), "EUR"};

TEST(AccountTest, DepositsAndWithdrawalsWithinTheBalance) {
  EXPECT_EQ(Given<Account>({kOpened})
                .When([](const auto& s) { return Deposit(s, 10050); })
                .ThenEvents({FundsDeposited{10050, "EUR"}}),
            "");
  EXPECT_EQ(Given<Account>({kOpened, FundsDeposited{500, "EUR"}})
                .When([](const auto& s) { return Withdraw(s, 500); })
                .ThenEvents({FundsWithdrawn{500, "EUR"}}),
            "");
}

TEST(AccountTest, RulesRefuseWithTheirNames) {
  auto withdraw = [](int64_t a) { return [a](const Account::State& s) { return Withdraw(s, a); }; };
  auto deposit = [](int64_t a) { return [a](const Account::State& s) { return Deposit(s, a); }; };
  EXPECT_EQ(Given<Account>({kOpened, FundsDeposited{500, "EUR"}})
                .When(withdraw(501))
                .ThenRejected("insufficient_funds"),
            "");
  auto t = Given<Account>({kOpened, FundsDeposited{500, "EUR"}}).When(withdraw(501));
  EXPECT_EQ(t.decision().error().message, "balance 5.00 EUR is less than 5.01");
  EXPECT_EQ(Given<Account>({kOpened}).When(deposit(0)).ThenRejected("amount_not_positive"), "");
  EXPECT_EQ(Given<Account>({kOpened}).When(withdraw(-5)).ThenRejected("amount_not_positive"), "");
  EXPECT_EQ(
      Given<Account>({kOpened, AccountFrozen{}}).When(deposit(1)).ThenRejected("account_frozen"),
      "");
  EXPECT_EQ(Given<Account>({kOpened, AccountFrozen{}}).When(Freeze).ThenRejected("account_frozen"),
            "");
  EXPECT_EQ(Given<Account>().When(deposit(1)).ThenRejected("account_not_found"), "");
  EXPECT_EQ(Given<Account>({kOpened})
                .When([](const auto& s) { return Open(s, "a1", "Bo", "bo@example.com", "EUR"); })
                .ThenRejected("account_exists"),
            "");
}

TEST(AccountTest, ForgettingTheOwnerIsAnAuditEventOnce) {
  EXPECT_EQ(Given<Account>({kOpened}).When(ForgetOwner).ThenEvents({OwnerForgotten{"a1"}}), "");
  EXPECT_EQ(Given<Account>({kOpened, OwnerForgotten{"a1"}}).When(ForgetOwner).ThenEvents({}), "");
  auto g = Given<Account>({kOpened, OwnerForgotten{"a1"}});
  EXPECT_TRUE(g.state().owner.forgotten());
  EXPECT_TRUE(g.state().email.forgotten());
}

TEST(AccountTest, VersionOneAmountsBecomeMinorUnitsAndCurrency) {
  const auto& u = AccountUpcasters();
  EXPECT_TRUE(u.Validate("FundsDeposited", 2).ok());
  EXPECT_TRUE(u.Validate("FundsWithdrawn", 2).ok());
  EXPECT_EQ(*u.Upcast("FundsDeposited", 1, 2, R"({"amount":"100.50 EUR"})"),
            R"({"amount":10050,"currency":"EUR"})");
  EXPECT_EQ(*u.Upcast("FundsWithdrawn", 1, 2, R"({"amount":"7 USD"})"),
            R"({"amount":700,"currency":"USD"})");
  auto bad = u.Upcast("FundsDeposited", 1, 2, R"({"amount":"100.50"})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(),
            "upcaster FundsDeposited v1 -> v2 failed: v1 amount '100.50' has no currency");
}

TEST(AccountTest, AmountsParseAndPrintWithTwoDecimals) {
  EXPECT_EQ(*ParseAmount("100.50"), 10050);
  EXPECT_EQ(*ParseAmount("100.5"), 10050);
  EXPECT_EQ(*ParseAmount("100"), 10000);
  EXPECT_EQ(*ParseAmount("0.07"), 7);
  EXPECT_EQ(*ParseAmount("-3.20"), -320);
  EXPECT_EQ(ParseAmount("1.234").error().message(), "amount '1.234' has more than two decimals");
  EXPECT_EQ(ParseAmount("1e5").error().message(), "amount '1e5' is not a decimal like 100.50");
  EXPECT_EQ(ParseAmount("").error().message(), "amount '' is not a decimal like 100.50");
  EXPECT_EQ(ParseAmount("5.").error().message(), "amount '5.' is not a decimal like 100.50");
  EXPECT_EQ(ParseAmount("99999999999999999999").error().message(),
            "amount '99999999999999999999' is too large");
  EXPECT_EQ(FormatAmount(10050), "100.50");
  EXPECT_EQ(FormatAmount(7), "0.07");
  EXPECT_EQ(FormatAmount(-5), "-0.05");
  EXPECT_EQ(FormatAmount(0), "0.00");
}

// Exit 3 cannot be provoked through the command line: a store has one
// writing process, and one `bank` process appends alone. The chain is
// checked in parts: Handle gives up with kWrongExpectedRevision
// (AggregateTest.AConflictThatNeverEndsGivesUpAfterMaxAttempts), mapped here.
TEST(AccountTest, AConflictThatRetriesCouldNotResolveExitsWithThree) {
  EXPECT_EQ(ExitCodeFor(cairn::ErrorCode::kWrongExpectedRevision), 3);
  EXPECT_EQ(ExitCodeFor(cairn::ErrorCode::kLocked), 1);
  EXPECT_EQ(ExitCodeFor(cairn::ErrorCode::kIOError), 1);
  EXPECT_EQ(ExitCodeFor(cairn::ErrorCode::kNotFound), 1);
}

}  // namespace
}  // namespace bank
