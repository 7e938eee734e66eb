// The `bank` command: an Account aggregate on the embedded store.
//
//   bank --db DIR open ACCOUNT --owner NAME --email EMAIL --currency CUR
//   bank --db DIR deposit|withdraw ACCOUNT AMOUNT      (AMOUNT like 100.50)
//   bank --db DIR freeze ACCOUNT
//   bank --db DIR balance ACCOUNT [--as-of RFC3339 | --at-revision N]
//   bank --db DIR history ACCOUNT                     (JSON lines)
//   bank --db DIR forget-owner ACCOUNT
//   bank --db DIR balances                            (the read model)
//   bank schemas                      (JSON Schema of each event, JSON lines)
//
// DIR holds store/ (the Cairn store), keys.db (the owners' keys, apart from
// the store) and readmodel.db (balances). Output is JSON; an error is one
// JSON object on stderr. Exit status: 0 success, 1 other error, 2 usage,
// 3 a concurrency conflict retries could not resolve, 7 a business rule
// refused the command (the error names the rule, e.g. insufficient_funds).
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cairn/store.h"
#include "cairn/toolkit/aggregate.h"
#include "cairn/toolkit/crypto.h"
#include "cairn/toolkit/projection.h"
#include "examples/bank/account.h"
#include "examples/bank/balances.h"

namespace bank {
namespace {

using Json = nlohmann::ordered_json;

int Fail(int exit_code, const std::string& error, const std::string& message) {
  std::cerr << Json{{"error", error}, {"message", message}}.dump() << "\n";
  return exit_code;
}

int FailStatus(const cairn::Status& s) {
  return Fail(ExitCodeFor(s.code()), cairn::ErrorCodeName(s.code()), s.message());
}

// "2026-11-22T14:00:00Z", with optional fraction and a Z or ±HH:MM offset.
std::optional<int64_t> ParseRfc3339(const std::string& t) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t ns = 0;
  size_t i = 19;
  if (i < t.size() && t[i] == '.') {
    int64_t scale = 100000000;
    for (++i; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) {
      ns += (t[i] - '0') * scale;
      scale /= 10;
    }
  }
  int64_t offset = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':') {
    const int h = std::atoi(t.substr(i + 1, 2).c_str()), m = std::atoi(t.substr(i + 4, 2).c_str());
    if (h > 23 || m > 59) return std::nullopt;
    offset = (t[i] == '+' ? 1 : -1) * (h * 3600 + m * 60);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != t.size()) return std::nullopt;
  const time_t secs = timegm(&tm);
  return (static_cast<int64_t>(secs) - offset) * 1000000000 + ns;
}

std::string FormatRfc3339(int64_t ns) {
  const time_t secs = static_cast<time_t>(ns / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lldZ",
                static_cast<long long>(ns % 1000000000));  // ns >= 0: created after 1970
  return std::string(buf) + frac;
}

struct Bank {
  std::unique_ptr<cairn::Store> store;
  std::unique_ptr<cairn::toolkit::SqliteKeyVault> vault;
  std::unique_ptr<cairn::toolkit::PersonalDataCipher> cipher;
  std::unique_ptr<cairn::toolkit::AggregateStore<Account>> accounts;
};

cairn::Result<Bank> OpenBank(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return cairn::Status::IOError("cannot create " + dir + ": " + ec.message());
  Bank b;
  CAIRN_ASSIGN_OR_RETURN(b.store, cairn::OpenStore(dir + "/store"));
  CAIRN_ASSIGN_OR_RETURN(b.vault, cairn::toolkit::SqliteKeyVault::Open(dir + "/keys.db"));
  b.cipher = std::make_unique<cairn::toolkit::PersonalDataCipher>(b.vault.get());
  cairn::toolkit::AggregateOptions o;
  o.snapshot_every = 100;
  o.upcasters = &AccountUpcasters();
  o.cipher = b.cipher.get();
  b.accounts = std::make_unique<cairn::toolkit::AggregateStore<Account>>(b.store.get(), o);
  CAIRN_RETURN_IF_ERROR(b.accounts->Validate());
  return b;
}

// Runs one command and prints its outcome.
template <class Decide>
int RunCommand(Bank& b, const std::string& account, const cairn::toolkit::CommandContext& ctx,
               Decide&& decide) {
  auto r = b.accounts->Handle(account, ctx, std::forward<Decide>(decide));
  if (!r.has_value()) return FailStatus(r.error());
  if (r->rejected) return Fail(kExitRefused, r->rejected->code, r->rejected->message);
  Json out;
  out["account"] = account;
  out["events"] = Json::array();
  for (const auto& e : r->events)
    out["events"].push_back(std::string(Account::Events::TypeName(e)));
  out["revision"] = r->revision ? Json(r->revision->value()) : Json(nullptr);
  out["balance"] = FormatAmount(r->state.balance);
  out["currency"] = r->state.currency;
  out["frozen"] = r->state.frozen;
  out["duplicate"] = r->duplicate;
  std::cout << out.dump() << "\n";
  return 0;
}

bool ValidAccountId(const std::string& a) {
  if (a.empty() || a.size() > 64) return false;
  for (char c : a) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') return false;
  }
  return true;
}

int Main(int argc, char** argv) {
  CLI::App app("bank: an example Account aggregate on the Cairn toolkit", "bank");
  app.require_subcommand(1);
  std::string db, user, command_id, account, owner, email, currency, amount, as_of;
  std::optional<uint64_t> at_revision;
  app.add_option("--db", db, "bank data directory (store/, keys.db, readmodel.db)");
  app.add_option("--user", user, "acting user recorded in the audit trail (default: $USER)");
  app.add_option("--command-id", command_id, "UUID making the command idempotent (retries)");
  auto* open = app.add_subcommand("open", "open an account");
  open->add_option("ACCOUNT", account)->required();
  open->add_option("--owner", owner)->required();
  open->add_option("--email", email)->required();
  open->add_option("--currency", currency)->required();
  auto* deposit = app.add_subcommand("deposit", "deposit money");
  auto* withdraw = app.add_subcommand("withdraw", "withdraw money");
  for (auto* c : {deposit, withdraw}) {
    c->add_option("ACCOUNT", account)->required();
    c->add_option("AMOUNT", amount, "a decimal like 100.50")->required();
  }
  auto* freeze = app.add_subcommand("freeze", "freeze an account");
  freeze->add_option("ACCOUNT", account)->required();
  auto* balance = app.add_subcommand("balance", "balance, now or in the past");
  balance->add_option("ACCOUNT", account)->required();
  auto* as_of_opt = balance->add_option("--as-of", as_of, "RFC 3339 time");
  balance->add_option("--at-revision", at_revision, "stream revision")->excludes(as_of_opt);
  auto* history = app.add_subcommand("history", "every event of the account (JSON lines)");
  history->add_option("ACCOUNT", account)->required();
  auto* forget = app.add_subcommand("forget-owner", "erase the owner's personal data");
  forget->add_option("ACCOUNT", account)->required();
  auto* balances = app.add_subcommand("balances", "all balances, from the read model");
  auto* schemas = app.add_subcommand("schemas", "the JSON Schema of each event type (JSON lines)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return Fail(kExitUsage, "usage", e.what());
  }
  if (schemas->parsed()) {
    for (const std::string& schema : Account::Events::Schemas()) {
      std::cout << Json::parse(schema).dump() << "\n";
    }
    return 0;
  }
  if (db.empty()) return Fail(kExitUsage, "usage", "--db is required");
  if (!account.empty() && !ValidAccountId(account)) {
    return Fail(kExitUsage, "usage",
                "ACCOUNT '" + account + "' must be 1-64 letters, digits, '_' or '.'");
  }
  cairn::toolkit::CommandContext ctx;
  ctx.user = !user.empty() ? user : (std::getenv("USER") ? std::getenv("USER") : "unknown");
  if (!command_id.empty()) {
    auto id = cairn::Uuid::Parse(command_id);
    if (!id.has_value()) return Fail(kExitUsage, "usage", "--command-id: " + id.error().message());
    ctx.command_id = *id;
  }
  int64_t minor = 0;
  if (deposit->parsed() || withdraw->parsed()) {
    auto a = ParseAmount(amount);
    if (!a.has_value()) return Fail(kExitUsage, "usage", a.error().message());
    minor = *a;
  }
  if (open->parsed()) {
    bool upper = currency.size() == 3;
    for (char c : currency) upper = upper && c >= 'A' && c <= 'Z';
    if (!upper)
      return Fail(kExitUsage, "usage", "--currency '" + currency + "' must be 3 capital letters");
    if (owner.empty()) return Fail(kExitUsage, "usage", "--owner must not be empty");
    if (email.find('@') == std::string::npos) {
      return Fail(kExitUsage, "usage", "--email '" + email + "' is not an email address");
    }
  }
  std::optional<int64_t> as_of_ns;
  if (!as_of.empty()) {
    as_of_ns = ParseRfc3339(as_of);
    if (!as_of_ns)
      return Fail(kExitUsage, "usage", "--as-of '" + as_of + "' is not an RFC 3339 time");
  }

  auto opened = OpenBank(db);
  if (!opened.has_value()) return FailStatus(opened.error());
  Bank& b = *opened;

  if (open->parsed()) {
    return RunCommand(b, account, ctx, [&](const Account::State& s) {
      return Open(s, account, owner, email, currency);
    });
  }
  if (deposit->parsed()) {
    return RunCommand(b, account, ctx, [&](const Account::State& s) { return Deposit(s, minor); });
  }
  if (withdraw->parsed()) {
    return RunCommand(b, account, ctx, [&](const Account::State& s) { return Withdraw(s, minor); });
  }
  if (freeze->parsed()) return RunCommand(b, account, ctx, Freeze);
  if (forget->parsed()) {
    // The audit event first, then the key: a crash in between leaves an
    // audit event and a key that the next forget-owner erases.
    auto r = b.accounts->Forget(account, ctx, ForgetOwner, /*subject=*/account);
    if (!r.has_value()) return FailStatus(r.error());
    if (r->rejected) return Fail(kExitRefused, r->rejected->code, r->rejected->message);
    std::cout << Json{{"account", account},
                      {"owner_forgotten", true},
                      {"revision", r->revision ? Json(r->revision->value()) : Json(nullptr)}}
                     .dump()
              << "\n";
    return 0;
  }
  if (balance->parsed()) {
    cairn::toolkit::LoadOptions lo;
    lo.at_revision = at_revision;
    lo.as_of_ns = as_of_ns;
    auto l = b.accounts->Load(account, lo);
    if (!l.has_value()) return FailStatus(l.error());
    if (!l->state.open) {
      return Fail(kExitOther, "not_found",
                  "account " + account + " has no events" +
                      (lo.at_revision || lo.as_of_ns ? " at that point" : ""));
    }
    Json out;
    out["account"] = account;
    out["balance"] = FormatAmount(l->state.balance);
    out["currency"] = l->state.currency;
    out["frozen"] = l->state.frozen;
    out["revision"] = l->revision->value();
    std::cout << out.dump() << "\n";
    return 0;
  }
  if (history->parsed()) {
    auto h = b.accounts->History(account);
    if (!h.has_value()) return FailStatus(h.error());
    if (h->empty()) return Fail(kExitOther, "not_found", "account " + account + " has no events");
    for (const auto& e : *h) {
      Json line;
      line["revision"] = e.revision.value();
      line["type"] = e.type;
      line["created"] = FormatRfc3339(e.created_ns);
      line["user"] = e.audit.user;
      line["data"] = Json::parse(e.data);
      std::cout << line.dump() << "\n";
    }
    return 0;
  }
  if (balances->parsed()) {
    BalancesProjection projection(b.cipher.get());
    cairn::toolkit::ProjectionOptions po;
    po.database_path = db + "/readmodel.db";
    po.category = std::string(Account::kCategory);
    auto runner = cairn::toolkit::ProjectionRunner::Start(b.store.get(), &projection, po);
    if (!runner.has_value()) return FailStatus(runner.error());
    cairn::Result<cairn::Position> head_position = b.store->HeadPosition();
    if (!head_position.has_value()) return FailStatus(head_position.error());
    const uint64_t head = head_position->value();
    if (head > 0) {
      cairn::Status w = (*runner)->WaitFor(cairn::Position(head - 1), std::chrono::seconds(60));
      if (!w.ok()) return FailStatus(w);
    }
    cairn::Status stop = (*runner)->Stop();
    if (!stop.ok()) return FailStatus(stop);
    auto sql = cairn::toolkit::Sql::Open(po.database_path);
    if (!sql.has_value()) return FailStatus(sql.error());
    auto rows =
        (*sql)->Query("SELECT account, balance, currency, frozen FROM balances ORDER BY account");
    if (!rows.has_value()) return FailStatus(rows.error());
    for (const auto& row : *rows) {
      std::cout << Json{{"account", std::get<std::string>(row[0])},
                        {"balance", FormatAmount(std::get<int64_t>(row[1]))},
                        {"currency", std::get<std::string>(row[2])},
                        {"frozen", std::get<int64_t>(row[3]) != 0}}
                       .dump()
                << "\n";
    }
    return 0;
  }
  return Fail(kExitUsage, "usage", "no command");
}

}  // namespace
}  // namespace bank

int main(int argc, char** argv) { return bank::Main(argc, argv); }
