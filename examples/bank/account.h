#pragma once
// The bank's Account aggregate: events, state, fold and decisions. This is
// all an application writes; the toolkit does loading, concurrency,
// idempotency, snapshots, upcasting and personal data.
//
// Rules: amounts are positive; no withdrawal beyond the balance; nothing on
// a frozen account (neither money nor a second freeze); an account is
// opened once. Money is integer minor units (cents) of the account's
// currency, written as decimals with two places ("100.50").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/toolkit/aggregate.h"
#include "cairn/toolkit/upcaster.h"

namespace bank {

using cairn::toolkit::Fields;
using cairn::toolkit::Min;
using cairn::toolkit::Personal;
using cairn::toolkit::SubjectIs;

struct AccountOpened {
  static constexpr std::string_view kType = "AccountOpened";
  static constexpr int kVersion = 1;
  std::string account;
  Personal owner;  // personal data of the account's owner (subject: the account)
  Personal email;
  std::string currency;
  static void Describe(Fields<AccountOpened>& f) {
    f.Add("account", &AccountOpened::account);
    f.Add("owner", &AccountOpened::owner, SubjectIs("account"));
    f.Add("email", &AccountOpened::email, SubjectIs("account"));
    f.Add("currency", &AccountOpened::currency);
  }
};

// Version 2: integer minor units plus currency. Version 1 stored the amount
// as a decimal string with the currency: {"amount":"100.50 EUR"}.
struct FundsDeposited {
  static constexpr std::string_view kType = "FundsDeposited";
  static constexpr int kVersion = 2;
  int64_t amount = 0;  // minor units, >= 1
  std::string currency;
  static void Describe(Fields<FundsDeposited>& f) {
    f.Add("amount", &FundsDeposited::amount, Min(1).Described("minor units"));
    f.Add("currency", &FundsDeposited::currency);
  }
};

struct FundsWithdrawn {
  static constexpr std::string_view kType = "FundsWithdrawn";
  static constexpr int kVersion = 2;
  int64_t amount = 0;
  std::string currency;
  static void Describe(Fields<FundsWithdrawn>& f) {
    f.Add("amount", &FundsWithdrawn::amount, Min(1).Described("minor units"));
    f.Add("currency", &FundsWithdrawn::currency);
  }
};

struct AccountFrozen {
  static constexpr std::string_view kType = "AccountFrozen";
  static constexpr int kVersion = 1;
  std::optional<std::string> reason;
  static void Describe(Fields<AccountFrozen>& f) { f.Add("reason", &AccountFrozen::reason); }
};

// The audit event of an erasure: the owner's key is deleted right after.
struct OwnerForgotten {
  static constexpr std::string_view kType = "OwnerForgotten";
  static constexpr int kVersion = 1;
  std::string account;
  static void Describe(Fields<OwnerForgotten>& f) { f.Add("account", &OwnerForgotten::account); }
};

struct Account {
  static constexpr std::string_view kCategory = "account";
  static constexpr int kSnapshotVersion = 1;
  using Events = cairn::toolkit::EventSet<AccountOpened, FundsDeposited, FundsWithdrawn,
                                          AccountFrozen, OwnerForgotten>;
  using Event = Events::Variant;

  struct State {
    bool open = false;
    std::string account;
    std::string currency;
    int64_t balance = 0;  // minor units
    bool frozen = false;
    Personal owner;
    Personal email;
    bool owner_forgotten = false;
    static void Describe(Fields<State>& f) {
      f.Add("open", &State::open);
      f.Add("account", &State::account);
      f.Add("currency", &State::currency);
      f.Add("balance", &State::balance);
      f.Add("frozen", &State::frozen);
      f.Add("owner", &State::owner, SubjectIs("account"));
      f.Add("email", &State::email, SubjectIs("account"));
      f.Add("owner_forgotten", &State::owner_forgotten);
    }
  };

  static State Evolve(State s, const Event& e);
};

using Decision = cairn::toolkit::Decision<Account::Event>;

// The commands: each decides on the current state.
Decision Open(const Account::State& s, std::string_view account, std::string owner,
              std::string email, std::string currency);
Decision Deposit(const Account::State& s, int64_t amount);
Decision Withdraw(const Account::State& s, int64_t amount);
Decision Freeze(const Account::State& s);
Decision ForgetOwner(const Account::State& s);

// The upcasters of the account's events (FundsDeposited and FundsWithdrawn
// v1 -> v2); registered once.
const cairn::toolkit::Upcasters& AccountUpcasters();

// "100.50" -> 10050. kInvalidArgument naming the problem for anything but
// an optional '-', digits, and at most two decimals.
cairn::Result<int64_t> ParseAmount(std::string_view text);
// 10050 -> "100.50", -5 -> "-0.05".
std::string FormatAmount(int64_t minor);

// The `bank` command's exit status for an engine or toolkit error: 3 when
// the command gave up on a concurrency conflict (AggregateStore::Handle
// returns kWrongExpectedRevision after max_attempts), 1 for anything else.
// (0 success, 2 usage and 7 refused by a rule are decided by the command.)
inline constexpr int kExitOther = 1, kExitUsage = 2, kExitConflict = 3, kExitRefused = 7;
inline int ExitCodeFor(cairn::ErrorCode code) {
  return code == cairn::ErrorCode::kWrongExpectedRevision ? kExitConflict : kExitOther;
}

}  // namespace bank
