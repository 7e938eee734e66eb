// The balances read model (balances.h).
#include "examples/bank/balances.h"

#include "examples/bank/account.h"

namespace bank {

using cairn::Status;
using cairn::toolkit::Sql;
using cairn::toolkit::SqlValue;

Status BalancesProjection::Setup(Sql& sql) {
  return sql.Exec(
      "CREATE TABLE IF NOT EXISTS balances (account TEXT PRIMARY KEY, currency TEXT NOT NULL, "
      "balance INTEGER NOT NULL, frozen INTEGER NOT NULL, revision INTEGER NOT NULL)");
}

Status BalancesProjection::Reset(Sql& sql) { return sql.Exec("DELETE FROM balances"); }

Status BalancesProjection::Apply(Sql& sql, const cairn::RecordedEvent& e) {
  // Upcast older versions first: the read model sees what the domain sees.
  const int current = Account::Events::CurrentVersion(e.type);
  auto version = cairn::toolkit::SchemaVersionOf(e.metadata);
  if (!version.has_value()) return version.error();
  std::string data = e.data;
  if (current != 0 && *version < current) {
    auto up = AccountUpcasters().Upcast(e.type, *version, current, e.data);
    if (!up.has_value()) return up.error();
    data = std::move(*up);
  }
  auto ev = Account::Events::Decode(e.type, data, cipher_);
  if (!ev.has_value()) return ev.error();
  const auto rev = static_cast<int64_t>(e.revision.value());
  const std::string account = e.stream.substr(Account::kCategory.size() + 1);
  if (const auto* o = std::get_if<AccountOpened>(&*ev)) {
    return sql.Exec(
        "INSERT INTO balances (account, currency, balance, frozen, revision) VALUES (?, ?, 0, 0, "
        "?)",
        {account, o->currency, rev});
  }
  int64_t delta = 0;
  if (const auto* d = std::get_if<FundsDeposited>(&*ev)) delta = d->amount;
  if (const auto* w = std::get_if<FundsWithdrawn>(&*ev)) delta = -w->amount;
  const int64_t frozen = std::holds_alternative<AccountFrozen>(*ev) ? 1 : 0;
  return sql.Exec(
      "UPDATE balances SET balance = balance + ?, frozen = MAX(frozen, ?), revision = ? WHERE "
      "account = ?",
      {delta, frozen, rev, account});
}

}  // namespace bank
