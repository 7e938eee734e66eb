// The Account aggregate's fold, decisions and upcasters (account.h).
#include "examples/bank/account.h"

#include <charconv>
#include <nlohmann/json.hpp>

namespace bank {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

Decision Refuse(const char* rule, std::string message) {
  return Decision::Reject(rule, std::move(message));
}

// What every money command needs: an open account that is not frozen and a
// positive amount.
std::optional<Decision> CheckMoney(const Account::State& s, int64_t amount) {
  if (!s.open) return Refuse("account_not_found", "no account with this id is open");
  if (s.frozen) return Refuse("account_frozen", "account " + s.account + " is frozen");
  if (amount <= 0)
    return Refuse("amount_not_positive", "amounts must be positive, got " + FormatAmount(amount));
  return std::nullopt;
}

// v1 {"amount":"100.50 EUR"} -> v2 {"amount":10050,"currency":"EUR"}.
cairn::Status AmountToMinorUnits(nlohmann::json& d) {
  if (!d.is_object() || !d.contains("amount") || !d["amount"].is_string()) {
    return cairn::Status::InvalidArgument("v1 amount must be a string like \"100.50 EUR\"");
  }
  const std::string text = d["amount"].get<std::string>();
  const size_t space = text.find(' ');
  if (space == std::string::npos) {
    return cairn::Status::InvalidArgument("v1 amount '" + text + "' has no currency");
  }
  auto minor = ParseAmount(std::string_view(text).substr(0, space));
  if (!minor.has_value()) return minor.error();
  d = {{"amount", *minor}, {"currency", text.substr(space + 1)}};
  return cairn::Status::OK();
}

}  // namespace

Account::State Account::Evolve(State s, const Event& e) {
  std::visit(Overloaded{
                 [&](const AccountOpened& x) {
                   s.open = true;
                   s.account = x.account;
                   s.owner = x.owner;
                   s.email = x.email;
                   s.currency = x.currency;
                 },
                 [&](const FundsDeposited& x) { s.balance += x.amount; },
                 [&](const FundsWithdrawn& x) { s.balance -= x.amount; },
                 [&](const AccountFrozen&) { s.frozen = true; },
                 [&](const OwnerForgotten&) {
                   s.owner_forgotten = true;
                   s.owner = Personal::Forgotten();
                   s.email = Personal::Forgotten();
                 },
             },
             e);
  return s;
}

Decision Open(const Account::State& s, std::string_view account, std::string owner,
              std::string email, std::string currency) {
  if (s.open) return Refuse("account_exists", "account " + s.account + " is already open");
  return Account::Event(AccountOpened{std::string(account), Personal(std::move(owner)),
                                      Personal(std::move(email)), std::move(currency)});
}

Decision Deposit(const Account::State& s, int64_t amount) {
  if (auto refused = CheckMoney(s, amount)) return *refused;
  return Account::Event(FundsDeposited{amount, s.currency});
}

Decision Withdraw(const Account::State& s, int64_t amount) {
  if (auto refused = CheckMoney(s, amount)) return *refused;
  if (amount > s.balance) {
    return Refuse("insufficient_funds", "balance " + FormatAmount(s.balance) + " " + s.currency +
                                            " is less than " + FormatAmount(amount));
  }
  return Account::Event(FundsWithdrawn{amount, s.currency});
}

Decision Freeze(const Account::State& s) {
  if (!s.open) return Refuse("account_not_found", "no account with this id is open");
  if (s.frozen) return Refuse("account_frozen", "account " + s.account + " is already frozen");
  return Account::Event(AccountFrozen{});
}

Decision ForgetOwner(const Account::State& s) {
  if (!s.open) return Refuse("account_not_found", "no account with this id is open");
  if (s.owner_forgotten) return std::vector<Account::Event>{};  // already done: idempotent
  return Account::Event(OwnerForgotten{s.account});
}

const cairn::toolkit::Upcasters& AccountUpcasters() {
  static const cairn::toolkit::Upcasters* u = [] {
    auto* x = new cairn::toolkit::Upcasters();
    (void)x->Add(FundsDeposited::kType, 1, AmountToMinorUnits);
    (void)x->Add(FundsWithdrawn::kType, 1, AmountToMinorUnits);
    return x;
  }();
  return *u;
}

cairn::Result<int64_t> ParseAmount(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return cairn::Status::InvalidArgument("amount '" + std::string(text) + "' " + why);
  };
  std::string_view t = text;
  const bool negative = !t.empty() && t[0] == '-';
  if (negative) t.remove_prefix(1);
  const size_t dot = t.find('.');
  std::string_view whole = t.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : t.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && frac.empty())) {
    return bad("is not a decimal like 100.50");
  }
  if (frac.size() > 2) return bad("has more than two decimals");
  for (char c : whole) {
    if (c < '0' || c > '9') return bad("is not a decimal like 100.50");
  }
  for (char c : frac) {
    if (c < '0' || c > '9') return bad("is not a decimal like 100.50");
  }
  int64_t units = 0;
  auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), units);
  if (ec != std::errc() || units > INT64_MAX / 100 - 1) return bad("is too large");
  int64_t cents = 0;
  for (size_t i = 0; i < 2; ++i) cents = cents * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  const int64_t v = units * 100 + cents;
  return negative ? -v : v;
}

std::string FormatAmount(int64_t minor) {
  const bool negative = minor < 0;
  const uint64_t m = negative ? 0 - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  std::string cents = std::to_string(m % 100);
  if (cents.size() < 2) cents = "0" + cents;
  return (negative ? "-" : "") + std::to_string(m / 100) + "." + cents;
}

}  // namespace bank
