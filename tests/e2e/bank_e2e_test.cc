// End-to-end tests of the `bank` example's command contract (issue 4):
// exact JSON out, one JSON error object on stderr, exit statuses 0/1/2/3/7,
// personal data never on disk in clear, upcasting of stored v1 events,
// time travel, idempotent retries, snapshots every 100 events.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/e2e/cli_runner.h"

namespace cairn::e2e {
namespace {

using Json = nlohmann::ordered_json;

class BankTest : public ::testing::Test {
 protected:
  RunResult Bank(std::vector<std::string> args) {
    std::vector<std::string> full = {"--db", bank_.Path("db"), "--user", "teller"};
    full.insert(full.end(), args.begin(), args.end());
    return bank_.Run(full);
  }
  void Open(const std::string& account) {
    RunResult r = Bank(
        {"open", account, "--owner", "Ann Lee", "--email", "ann@example.com", "--currency", "EUR"});
    ASSERT_EQ(r.exit_status, 0) << r.err;
  }
  // Every byte of every file of the bank's directory.
  std::string AllBytes() {
    std::string out;
    for (const auto& f : std::filesystem::recursive_directory_iterator(bank_.Path("db"))) {
      if (f.is_regular_file()) out += ReadWholeFile(f.path().string());
    }
    return out;
  }
  static std::vector<Json> Lines(const std::string& out) {
    std::vector<Json> v;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) v.push_back(Json::parse(line));
    return v;
  }

  CliRunner bank_{BANK_BINARY};
  CliRunner cairn_;
};

TEST_F(BankTest, CommandsPrintJsonAndBalanceFollowsTheContract) {
  RunResult r =
      Bank({"open", "a1", "--owner", "Ann Lee", "--email", "ann@example.com", "--currency", "EUR"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(
      r.out,
      R"({"account":"a1","events":["AccountOpened"],"revision":0,"balance":"0.00","currency":"EUR","frozen":false,"duplicate":false})"
      "\n");
  EXPECT_EQ(r.err, "");
  r = Bank({"deposit", "a1", "100.50"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  r = Bank({"withdraw", "a1", "0.5"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(
      r.out,
      R"({"account":"a1","events":["FundsWithdrawn"],"revision":2,"balance":"100.00","currency":"EUR","frozen":false,"duplicate":false})"
      "\n");
  r = Bank({"balance", "a1"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.out,
            R"({"account":"a1","balance":"100.00","currency":"EUR","frozen":false,"revision":2})"
            "\n");
  ASSERT_EQ(Bank({"freeze", "a1"}).exit_status, 0);
  r = Bank({"balance", "a1"});
  EXPECT_EQ(r.out,
            R"({"account":"a1","balance":"100.00","currency":"EUR","frozen":true,"revision":3})"
            "\n");
}

TEST_F(BankTest, RefusedCommandsExitSevenNamingTheRule) {
  Open("a1");
  ASSERT_EQ(Bank({"deposit", "a1", "10"}).exit_status, 0);
  auto refused = [&](std::vector<std::string> args, const std::string& rule,
                     const std::string& message) {
    RunResult r = Bank(std::move(args));
    EXPECT_EQ(r.exit_status, 7) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, Json({{"error", rule}, {"message", message}}).dump() + "\n");
  };
  refused({"withdraw", "a1", "10.01"}, "insufficient_funds",
          "balance 10.00 EUR is less than 10.01");
  refused({"deposit", "a1", "0"}, "amount_not_positive", "amounts must be positive, got 0.00");
  refused({"deposit", "a1", "-5"}, "amount_not_positive", "amounts must be positive, got -5.00");
  refused({"deposit", "b2", "1"}, "account_not_found", "no account with this id is open");
  refused({"open", "a1", "--owner", "Bo", "--email", "bo@example.com", "--currency", "EUR"},
          "account_exists", "account a1 is already open");
  ASSERT_EQ(Bank({"freeze", "a1"}).exit_status, 0);
  refused({"deposit", "a1", "1"}, "account_frozen", "account a1 is frozen");
  refused({"withdraw", "a1", "1"}, "account_frozen", "account a1 is frozen");
  refused({"freeze", "a1"}, "account_frozen", "account a1 is already frozen");
  EXPECT_EQ(Lines(Bank({"balance", "a1"}).out)[0]["balance"], "10.00");
}

TEST_F(BankTest, UsageErrorsExitTwoAndOtherErrorsOne) {
  Open("a1");
  auto usage = [&](std::vector<std::string> args, const std::string& message) {
    RunResult r = Bank(std::move(args));
    EXPECT_EQ(r.exit_status, 2) << r.err;
    EXPECT_EQ(r.err, Json({{"error", "usage"}, {"message", message}}).dump() + "\n");
  };
  usage({"deposit", "a1", "1.234"}, "amount '1.234' has more than two decimals");
  usage({"deposit", "a1", "ten"}, "amount 'ten' is not a decimal like 100.50");
  usage({"open", "a2", "--owner", "X", "--email", "nope", "--currency", "EUR"},
        "--email 'nope' is not an email address");
  usage({"open", "a2", "--owner", "X", "--email", "x@y", "--currency", "eur"},
        "--currency 'eur' must be 3 capital letters");
  usage({"balance", "a1", "--as-of", "yesterday"}, "--as-of 'yesterday' is not an RFC 3339 time");
  usage({"balance", "a1", "--as-of", "2026-13-01T00:00:00Z"},
        "--as-of '2026-13-01T00:00:00Z' is not an RFC 3339 time");
  usage({"balance", "a1", "--as-of", "2026-01-01T00:00:00+99:00"},
        "--as-of '2026-01-01T00:00:00+99:00' is not an RFC 3339 time");
  usage({"deposit", "a/1", "1"}, "ACCOUNT 'a/1' must be 1-64 letters, digits, '_' or '.'");
  RunResult r = Bank({"balance", "nobody"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.err, R"({"error":"not_found","message":"account nobody has no events"})"
                   "\n");
  r = bank_.Run({"deposit", "a1", "1"});  // no --db
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.err, R"({"error":"usage","message":"--db is required"})"
                   "\n");
}

TEST_F(BankTest, SchemasDescribeEveryEventType) {
  RunResult r = bank_.Run({"schemas"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::vector<Json> s = Lines(r.out);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[1]["title"], "FundsDeposited");
  EXPECT_EQ(s[1]["$id"], "urn:cairn:event:FundsDeposited:v2");
  EXPECT_EQ(
      s[1]["properties"]["amount"],
      Json::parse(
          R"({"type":"integer","minimum":1,"maximum":9223372036854775807,"description":"minor units"})"));
  EXPECT_EQ(s[1]["additionalProperties"], false);
  EXPECT_EQ(s[0]["properties"]["email"]["x-cairn-personal-data"],
            Json::parse(R"({"subject":"account"})"));
}

TEST_F(BankTest, TimeTravelAndHistory) {
  Open("a1");
  for (const char* amount : {"1", "2", "3"})
    ASSERT_EQ(Bank({"deposit", "a1", amount}).exit_status, 0);
  RunResult h = Bank({"history", "a1"});
  ASSERT_EQ(h.exit_status, 0) << h.err;
  std::vector<Json> lines = Lines(h.out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["type"], "AccountOpened");
  EXPECT_EQ(lines[0]["user"], "teller");
  EXPECT_EQ(
      lines[0]["data"],
      Json::parse(
          R"({"account":"a1","owner":"Ann Lee","email":"ann@example.com","currency":"EUR"})"));
  EXPECT_EQ(lines[2]["revision"], 2);
  EXPECT_EQ(lines[2]["data"], Json::parse(R"({"amount":200,"currency":"EUR"})"));
  std::vector<std::string> keys;
  for (auto& [k, v] : lines[1].items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"revision", "type", "created", "user", "data"}));

  RunResult at = Bank({"balance", "a1", "--at-revision", "2"});
  EXPECT_EQ(at.out,
            R"({"account":"a1","balance":"3.00","currency":"EUR","frozen":false,"revision":2})"
            "\n");
  // "created" is RFC 3339 with nanoseconds: the balance as of revision 1's time.
  RunResult asof = Bank({"balance", "a1", "--as-of", lines[1]["created"].get<std::string>()});
  EXPECT_EQ(asof.out,
            R"({"account":"a1","balance":"1.00","currency":"EUR","frozen":false,"revision":1})"
            "\n");
  RunResult before = Bank({"balance", "a1", "--as-of", "2000-01-01T00:00:00+02:00"});
  EXPECT_EQ(before.exit_status, 1);
  EXPECT_EQ(before.err,
            R"({"error":"not_found","message":"account a1 has no events at that point"})"
            "\n");
  RunResult both = Bank({"balance", "a1", "--as-of", "2000-01-01T00:00:00Z", "--at-revision", "1"});
  EXPECT_EQ(both.exit_status, 2);
}

TEST_F(BankTest, ForgettingTheOwnerLeavesNoPersonalDataAnywhere) {
  Open("a1");
  ASSERT_EQ(Bank({"deposit", "a1", "5"}).exit_status, 0);
  RunResult bal = Bank({"balances"});
  ASSERT_EQ(bal.exit_status, 0) << bal.err;
  EXPECT_EQ(bal.out, R"({"account":"a1","balance":"5.00","currency":"EUR","frozen":false})"
                     "\n");
  std::string disk = AllBytes();
  EXPECT_EQ(disk.find("Ann Lee"), std::string::npos);
  EXPECT_EQ(disk.find("ann@example.com"), std::string::npos);

  RunResult f = Bank({"forget-owner", "a1"});
  ASSERT_EQ(f.exit_status, 0) << f.err;
  EXPECT_EQ(f.out, R"({"account":"a1","owner_forgotten":true,"revision":2})"
                   "\n");
  std::vector<Json> h = Lines(Bank({"history", "a1"}).out);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0]["data"],
            Json::parse(R"({"account":"a1","owner":null,"email":null,"currency":"EUR"})"));
  EXPECT_EQ(h[2]["type"], "OwnerForgotten");
  // Money still works; forgetting again changes nothing.
  ASSERT_EQ(Bank({"deposit", "a1", "1"}).exit_status, 0);
  f = Bank({"forget-owner", "a1"});
  EXPECT_EQ(f.exit_status, 0) << f.err;
  EXPECT_EQ(f.out, R"({"account":"a1","owner_forgotten":true,"revision":3})"
                   "\n");
  EXPECT_EQ(Bank({"balances"}).out,
            R"({"account":"a1","balance":"6.00","currency":"EUR","frozen":false})"
            "\n");
}

TEST_F(BankTest, ARetriedCommandIdIsAppliedOnce) {
  Open("a1");
  const std::string id = "6f1c2a3b-0000-4000-8000-0000000000aa";
  RunResult first = Bank({"--command-id", id, "deposit", "a1", "7"});
  ASSERT_EQ(first.exit_status, 0) << first.err;
  ASSERT_EQ(Bank({"deposit", "a1", "5"}).exit_status, 0);  // another command in between
  RunResult retry = Bank({"--command-id", id, "deposit", "a1", "7"});
  ASSERT_EQ(retry.exit_status, 0) << retry.err;
  // The original command's result: its revision and the balance right after it.
  EXPECT_EQ(
      retry.out,
      R"({"account":"a1","events":["FundsDeposited"],"revision":1,"balance":"7.00","currency":"EUR","frozen":false,"duplicate":true})"
      "\n");
  EXPECT_EQ(Lines(Bank({"balance", "a1"}).out)[0]["balance"], "12.00");
}

TEST_F(BankTest, StoredVersionOneEventsAreUpcast) {
  Open("a1");
  // An event as an older program wrote it: the amount a decimal string.
  RunResult a = cairn_.Run({"append", "--db", bank_.Path("db") + "/store", "account-a1", "--type",
                            "FundsDeposited", "--data", R"({"amount":"12.34 EUR"})", "--metadata",
                            R"({"schemaVersion":1})"});
  ASSERT_EQ(a.exit_status, 0) << a.err;
  EXPECT_EQ(Lines(Bank({"balance", "a1"}).out)[0]["balance"], "12.34");
  ASSERT_EQ(Bank({"deposit", "a1", "0.66"}).exit_status, 0);
  std::vector<Json> h = Lines(Bank({"history", "a1"}).out);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[1]["data"], Json::parse(R"({"amount":1234,"currency":"EUR"})"));
  EXPECT_EQ(Lines(Bank({"balances"}).out)[0]["balance"], "13.00");
  RunResult raw =
      cairn_.Run({"read", "--db", bank_.Path("db") + "/store", "account-a1", "--from", "2"});
  ASSERT_EQ(raw.exit_status, 0) << raw.err;
  EXPECT_EQ(Lines(raw.out)[0]["data"], Json::parse(R"({"amount":66,"currency":"EUR"})"));
}

TEST_F(BankTest, ASnapshotIsWrittenEveryHundredEvents) {
  Open("a1");
  for (int i = 0; i < 100; ++i) ASSERT_EQ(Bank({"deposit", "a1", "1"}).exit_status, 0);
  // Snapshots go on after the owner is forgotten, holding null for them.
  ASSERT_EQ(Bank({"forget-owner", "a1"}).exit_status, 0);
  for (int i = 0; i < 99; ++i) ASSERT_EQ(Bank({"deposit", "a1", "1"}).exit_status, 0);
  RunResult after = cairn_.Run({"read", "--db", bank_.Path("db") + "/store", "snapshot-account-a1",
                                "--backwards", "--limit", "1"});
  ASSERT_EQ(after.exit_status, 0) << after.err;
  std::vector<Json> last = Lines(after.out);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0]["metadata"]["aggregateRevision"], 199);  // 100 events after the one at 99
  EXPECT_EQ(last[0]["data"]["owner"], nullptr);
  EXPECT_EQ(last[0]["data"]["owner_forgotten"], true);
  EXPECT_EQ(Lines(Bank({"balance", "a1"}).out)[0]["balance"], "199.00");
  RunResult snap = cairn_.Run({"read", "--db", bank_.Path("db") + "/store", "snapshot-account-a1"});
  ASSERT_EQ(snap.exit_status, 0) << snap.err;
  std::vector<Json> s = Lines(snap.out);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0]["type"], "Snapshot");
  EXPECT_EQ(s[0]["metadata"]["aggregateRevision"], 99);
  EXPECT_EQ(s[0]["data"]["balance"], 9900);
  EXPECT_EQ(s[0]["data"].dump().find("Ann Lee"), std::string::npos);  // sealed
  EXPECT_EQ(s[0]["data"]["owner"].get<std::string>().rfind("cairn:v1:", 0), 0u);
}

}  // namespace
}  // namespace cairn::e2e
