// Projections over a real store and a real SQLite file: exact read models,
// read-your-writes, restart and rebuild, handler failures, and exactly-once
// after a SIGKILL at a random moment.
#include "cairn/toolkit/projection.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "cairn/native.h"
#include "src/base/testing.h"

namespace cairn::toolkit {
namespace {

using cairn::testing::TempDir;
using std::chrono::milliseconds;

// account-* streams: "Deposited" / "Withdrawn" with the amount as data.
// Records every application in `applied` (position, stream).
class Balances : public Projection {
 public:
  std::string name() const override { return "balances"; }
  Status Setup(Sql& sql) override {
    return sql.Exec(
        "CREATE TABLE IF NOT EXISTS balances(account TEXT PRIMARY KEY, balance INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS applied(position INTEGER NOT NULL, stream TEXT NOT NULL)");
  }
  Status Reset(Sql& sql) override {
    return sql.Exec("DROP TABLE IF EXISTS balances; DROP TABLE IF EXISTS applied");
  }
  Status Apply(Sql& sql, const RecordedEvent& e) override {
    {
      std::lock_guard l(mu_);
      seen_.push_back(e.stream);
    }
    if (static_cast<int64_t>(e.position.value()) == fail_at.load()) {
      return Status::InvalidArgument("amount rejected");
    }
    if (!extra_sql.empty()) CAIRN_RETURN_IF_ERROR(sql.Exec(extra_sql));
    int64_t amount = std::stoll(e.data);
    if (e.type == "Withdrawn") amount = -amount;
    CAIRN_RETURN_IF_ERROR(
        sql.Exec("INSERT INTO balances(account, balance) VALUES(?, ?) "
                 "ON CONFLICT(account) DO UPDATE SET balance = balance + excluded.balance",
                 {e.stream, amount}));
    return sql.Exec("INSERT INTO applied(position, stream) VALUES(?, ?)",
                    {static_cast<int64_t>(e.position.value()), e.stream});
  }
  std::vector<std::string> seen() {
    std::lock_guard l(mu_);
    return seen_;
  }

  std::atomic<int64_t> fail_at{-1};
  std::string extra_sql;  // run before each event (set before Start)

 private:
  std::mutex mu_;
  std::vector<std::string> seen_;
};

std::string Text(const SqlValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return "NULL";
  if (const int64_t* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (const double* d = std::get_if<double>(&v)) return std::to_string(*d);
  return std::get<std::string>(v);
}

// Every row of `query` on `db`, values joined by '|'.
std::vector<std::string> Rows(const std::string& db, std::string_view query) {
  auto sql = Sql::Open(db);
  EXPECT_TRUE(sql.has_value()) << sql.error().ToString();
  if (!sql) return {};
  auto rows = (*sql)->Query(query);
  EXPECT_TRUE(rows.has_value()) << rows.error().ToString();
  std::vector<std::string> out;
  if (!rows) return out;
  for (const SqlRow& r : *rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) line += (i ? "|" : "") + Text(r[i]);
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> Numbers(uint64_t from, uint64_t to) {  // [from, to]
  std::vector<std::string> out;
  for (uint64_t p = from; p <= to; ++p) out.push_back(std::to_string(p));
  return out;
}

class ProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NativeOptions o;
    o.durability = Durability::kNoSyncUnsafe;
    auto s = NativeStore::Open(dir_.Sub("store"), o);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    runner_.reset();  // before the store: it owns a subscription
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
    }
  }
  Position Add(const std::string& stream, const std::string& type, int64_t amount) {
    EventData e = cairn::testing::Ev(type, std::to_string(amount));
    auto r = store_->Append(stream, ExpectedRevision::Any(), {&e, 1});
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.has_value() ? r->position : Position();
  }
  ProjectionOptions Options(uint64_t batch = 500) {
    ProjectionOptions o;
    o.database_path = db_;
    o.category = "account";
    o.batch_size = batch;
    o.idle_poll = milliseconds(10);
    return o;
  }
  void StartRunner(ProjectionOptions o) {
    auto r = ProjectionRunner::Start(store_.get(), &balances_, std::move(o));
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    runner_ = std::move(*r);
  }
  void Wait(Position p) {
    Status s = runner_->WaitFor(p, milliseconds(5000));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // 12 account events at positions 0..11 on account-0..2, amounts 1..12,
  // every third one a withdrawal.
  void AddTwelve() {
    for (int i = 0; i < 12; ++i) {
      Add("account-" + std::to_string(i % 3), i % 3 == 2 ? "Withdrawn" : "Deposited", i + 1);
    }
  }

  TempDir dir_;
  std::string db_ = dir_.Sub("read.db");
  std::unique_ptr<Store> store_;
  Balances balances_;
  std::unique_ptr<ProjectionRunner> runner_;
};

TEST_F(ProjectionTest, BalancesOverACategoryHaveExactRows) {
  AddTwelve();  // account-0: 1+4+7+10, account-1: 2+5+8+11, account-2: -(3+6+9+12)
  StartRunner(Options(5));
  Wait(Position(11));
  EXPECT_EQ(Rows(db_, "SELECT account, balance FROM balances ORDER BY account"),
            (std::vector<std::string>{"account-0|22", "account-1|26", "account-2|-30"}));
  EXPECT_EQ(Rows(db_, "SELECT position FROM applied ORDER BY position"), Numbers(0, 11));
  EXPECT_EQ(Rows(db_, "SELECT name, position FROM cairn_projection_checkpoints"),
            (std::vector<std::string>{"balances|11"}));
  EXPECT_EQ(runner_->checkpoint(), std::optional<Position>(Position(11)));
  EXPECT_TRUE(runner_->status().ok());
}

TEST_F(ProjectionTest, WaitForTheLastAppendThenTheQuerySeesIt) {
  StartRunner(Options());
  EXPECT_EQ(runner_->checkpoint(), std::nullopt);
  for (int i = 0; i < 20; ++i) {
    const Position p = Add("account-7", "Deposited", 5);
    Wait(p);  // read your own write at once
    EXPECT_EQ(Rows(db_, "SELECT balance FROM balances WHERE account = 'account-7'"),
              (std::vector<std::string>{std::to_string(5 * (i + 1))}));
  }
  Status late = runner_->WaitFor(Position(999), milliseconds(30));
  EXPECT_EQ(late.code(), ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(late.message(),
            "projection 'balances' did not reach position 999 within 30 ms (checkpoint 19)");
  ASSERT_TRUE(runner_->Stop().ok());
  Status stopped = runner_->WaitFor(Position(999), milliseconds(5000));
  EXPECT_EQ(stopped.code(), ErrorCode::kCancelled);
  EXPECT_EQ(stopped.message(), "projection 'balances' stopped before position 999 (checkpoint 19)");
  EXPECT_TRUE(runner_->WaitFor(Position(19), milliseconds(0)).ok());
  EXPECT_EQ(runner_->Rebuild().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(ProjectionTest, RestartContinuesFromTheCheckpointWithoutReapplying) {
  AddTwelve();
  StartRunner(Options(4));
  Wait(Position(11));
  ASSERT_TRUE(runner_->Stop().ok());
  runner_.reset();
  EXPECT_EQ(balances_.seen().size(), 12u);
  for (int i = 0; i < 8; ++i) Add("account-0", "Deposited", 100);  // positions 12..19
  StartRunner(Options(4));
  EXPECT_EQ(runner_->checkpoint(), std::optional<Position>(Position(11)));
  Wait(Position(19));
  EXPECT_EQ(balances_.seen().size(), 20u);  // 8 more handler calls, none repeated
  EXPECT_EQ(
      Rows(db_, "SELECT position, count(*) FROM applied GROUP BY position HAVING count(*) <> 1"),
      std::vector<std::string>{});
  EXPECT_EQ(Rows(db_, "SELECT position FROM applied ORDER BY position"), Numbers(0, 19));
  EXPECT_EQ(Rows(db_, "SELECT balance FROM balances WHERE account = 'account-0'"),
            (std::vector<std::string>{"822"}));
}

TEST_F(ProjectionTest, HandlerErrorRollsBackItsBatchAndNamesThePosition) {
  AddTwelve();
  balances_.fail_at = 7;  // in the second page of five: 5..9
  StartRunner(Options(5));
  Status s = runner_->WaitFor(Position(11), milliseconds(5000));
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  const std::string want =
      "projection 'balances' failed at position 7 (stream 'account-1', type 'Deposited'): "
      "amount rejected";
  EXPECT_EQ(s.message(), want);
  EXPECT_EQ(runner_->status().message(), want);
  // Exactly the first batch: 5 and 6 were applied and rolled back.
  EXPECT_EQ(Rows(db_, "SELECT position FROM applied ORDER BY position"), Numbers(0, 4));
  EXPECT_EQ(Rows(db_, "SELECT account, balance FROM balances ORDER BY account"),
            (std::vector<std::string>{"account-0|5", "account-1|7", "account-2|-3"}));
  EXPECT_EQ(Rows(db_, "SELECT position FROM cairn_projection_checkpoints"),
            (std::vector<std::string>{"4"}));
  EXPECT_EQ(runner_->checkpoint(), std::optional<Position>(Position(4)));
  // No later event reached the handler: 0..7 and nothing after.
  EXPECT_EQ(balances_.seen().size(), 8u);
  EXPECT_EQ(runner_->Stop().message(), want);
}

TEST_F(ProjectionTest, SkipPolicyRecordsTheFailedEventAndGoesOn) {
  AddTwelve();
  balances_.fail_at = 7;
  ProjectionOptions o = Options(5);
  o.on_error = ErrorPolicy::kSkip;
  StartRunner(o);
  Wait(Position(11));
  EXPECT_TRUE(runner_->status().ok());
  std::vector<std::string> want = Numbers(0, 11);
  want.erase(want.begin() + 7);
  EXPECT_EQ(Rows(db_, "SELECT position FROM applied ORDER BY position"), want);
  EXPECT_EQ(Rows(db_, "SELECT * FROM cairn_projection_skipped"),
            (std::vector<std::string>{
                "balances|7|account-1|Deposited|invalid_argument|amount rejected"}));
}

TEST_F(ProjectionTest, RebuildFromScratchGivesIdenticalRowsAndClearsAnError) {
  AddTwelve();
  StartRunner(Options(5));
  Wait(Position(11));
  const auto before = Rows(db_, "SELECT account, balance FROM balances ORDER BY account");
  ASSERT_TRUE(runner_->Rebuild().ok());
  Wait(Position(11));
  EXPECT_EQ(Rows(db_, "SELECT account, balance FROM balances ORDER BY account"), before);
  EXPECT_EQ(Rows(db_, "SELECT position FROM applied ORDER BY position"), Numbers(0, 11));
  EXPECT_EQ(balances_.seen().size(), 24u);
  // A failed runner: fix the cause, rebuild, and it runs again.
  balances_.fail_at = 12;
  Add("account-0", "Deposited", 1000);
  EXPECT_EQ(runner_->WaitFor(Position(12), milliseconds(5000)).code(), ErrorCode::kInvalidArgument);
  balances_.fail_at = -1;
  ASSERT_TRUE(runner_->Rebuild().ok());
  EXPECT_TRUE(runner_->status().ok());
  Wait(Position(12));
  EXPECT_EQ(Rows(db_, "SELECT account, balance FROM balances ORDER BY account"),
            (std::vector<std::string>{"account-0|1022", "account-1|26", "account-2|-30"}));
  EXPECT_EQ(Rows(db_, "SELECT position FROM applied ORDER BY position"), Numbers(0, 12));
}

TEST_F(ProjectionTest, OtherCategoriesNeverReachTheHandlerButWaitForTheirPositionsReturns) {
  Add("account-1", "Deposited", 10);  // 0
  Add("order-1", "Created", 0);       // 1
  Add("accounting", "Deposited", 0);  // 2: no category
  Add("account-1", "Deposited", 5);   // 3
  Add("order-2", "Created", 0);       // 4
  StartRunner(Options());
  Wait(Position(4));
  EXPECT_EQ(balances_.seen(), (std::vector<std::string>{"account-1", "account-1"}));
  // Live: an unrelated append is noticed within idle_poll.
  const Position order = Add("order-3", "Created", 0);
  Wait(order);
  EXPECT_EQ(runner_->checkpoint(), std::optional<Position>(order));
  EXPECT_EQ(balances_.seen().size(), 2u);
  EXPECT_EQ(Rows(db_, "SELECT account, balance FROM balances"),
            (std::vector<std::string>{"account-1|15"}));
}

TEST_F(ProjectionTest, FilteredAllSourceStoresCheckpointsPastEventsThatDoNotPass) {
  Add("account-1", "Deposited", 3);                                            // 0
  for (int i = 0; i < 50; ++i) Add("noise-" + std::to_string(i), "Noise", 0);  // 1..50
  ProjectionOptions o = Options();
  o.category.clear();
  o.filter.types = {"Deposited", "Withdrawn"};
  o.checkpoint_interval = 10;
  StartRunner(o);
  Wait(Position(50));
  // Stored on disk, not only in memory: a restart does not rescan them.
  EXPECT_EQ(Rows(db_, "SELECT position FROM cairn_projection_checkpoints"),
            (std::vector<std::string>{"50"}));
  EXPECT_EQ(balances_.seen(), (std::vector<std::string>{"account-1"}));
}

TEST_F(ProjectionTest, HandlersCannotEndTheRunnersTransaction) {
  Add("account-1", "Deposited", 3);
  balances_.extra_sql = "COMMIT";
  StartRunner(Options());
  Status s = runner_->WaitFor(Position(0), milliseconds(5000));
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "projection 'balances' failed at position 0 (stream 'account-1', type "
            "'Deposited'): sqlite '" +
                db_ +
                "': transaction statements are not allowed in a projection handler (the runner "
                "owns the transaction) in 'COMMIT'");
  EXPECT_EQ(Rows(db_, "SELECT count(*) FROM applied"), (std::vector<std::string>{"0"}));
}

TEST_F(ProjectionTest, SecondRunnerOfTheSameProjectionIsRefusedAtItsFirstCommit) {
  StartRunner(Options());
  Balances other;
  auto second = ProjectionRunner::Start(store_.get(), &other, Options());
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  Add("account-1", "Deposited", 3);
  Status a = runner_->WaitFor(Position(0), milliseconds(5000));
  Status b = (*second)->WaitFor(Position(0), milliseconds(5000));
  // One commits, the other finds the checkpoint moved under it.
  ASSERT_NE(a.ok(), b.ok()) << a.ToString() << " / " << b.ToString();
  const Status& refused = a.ok() ? b : a;
  EXPECT_EQ(refused.code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(), "projection 'balances': checkpoint in '" + db_ +
                                   "' moved to 0, expected none (another runner of the same "
                                   "projection?)");
  EXPECT_EQ(Rows(db_, "SELECT position FROM applied"), (std::vector<std::string>{"0"}));
  second->reset();
}

TEST_F(ProjectionTest, StartRejectsBadOptions) {
  ProjectionOptions o = Options();
  o.database_path.clear();
  auto r = ProjectionRunner::Start(store_.get(), &balances_, o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "projection 'balances': database_path is empty");
  o = Options(0);
  r = ProjectionRunner::Start(store_.get(), &balances_, o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "projection 'balances': batch_size must be positive");
  o = Options();
  o.category = "account-1";
  r = ProjectionRunner::Start(store_.get(), &balances_, o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(),
            "projection 'balances': category 'account-1' must be non-empty and contain no '-'");
}

TEST(SqlTest, ValuesRoundTripAndErrorsNameTheStatement) {
  TempDir dir;
  const std::string path = dir.Sub("t.db");
  auto sql = Sql::Open(path);
  ASSERT_TRUE(sql.has_value()) << sql.error().ToString();
  Sql& db = **sql;
  ASSERT_TRUE(db.Exec("CREATE TABLE t(a, b, c, d)").ok());
  ASSERT_TRUE(db.Exec("INSERT INTO t VALUES(?, ?, ?, ?)",
                      {std::monostate(), int64_t{-7}, 2.5, std::string("x\0y", 3)})
                  .ok());
  EXPECT_EQ(db.changes(), 1);
  auto rows = db.Query("SELECT a, b, c, d FROM t WHERE b = ?", {int64_t{-7}});
  ASSERT_TRUE(rows.has_value()) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0], (SqlRow{std::monostate(), int64_t{-7}, 2.5, std::string("x\0y", 3)}));
  EXPECT_EQ(Rows(path, "PRAGMA journal_mode"), (std::vector<std::string>{"wal"}));

  Status bad = db.Exec("INSERT INTO missing VALUES(1)");
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.message(),
            "sqlite '" + path + "': no such table: missing in 'INSERT INTO missing VALUES(1)'");
  Status count = db.Exec("INSERT INTO t VALUES(?, ?, ?, ?)", {int64_t{1}});
  EXPECT_EQ(count.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(count.message(),
            "sqlite: 'INSERT INTO t VALUES(?, ?, ?, ?)' takes 4 parameters, got 1");
  Status two = db.Exec("SELECT 1; SELECT 2", {int64_t{1}});
  EXPECT_EQ(two.code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(db.Exec("CREATE TABLE u(k PRIMARY KEY); INSERT INTO u VALUES(1)").ok());
  EXPECT_EQ(db.Exec("INSERT INTO u VALUES(1)").code(), ErrorCode::kInvalidArgument);

  SqlOptions ro;
  ro.read_only = true;
  auto missing = Sql::Open(dir.Sub("nope.db"), ro);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  std::ofstream(dir.Sub("junk.db")) << std::string(4096, 'j');
  auto junk = Sql::Open(dir.Sub("junk.db"));
  ASSERT_FALSE(junk.has_value());
  EXPECT_EQ(junk.error().code(), ErrorCode::kCorruption);
}

// The child: follows the store read-only into the projection until killed.
[[noreturn]] void RunChild(const std::string& store_dir, const std::string& db) {
  NativeOptions so;
  so.read_only = true;
  auto store = NativeStore::Open(store_dir, so);
  if (!store) _exit(2);
  Balances balances;
  ProjectionOptions o;
  o.database_path = db;
  o.category = "account";
  o.batch_size = 7;  // many commits: the kill lands in or between them
  auto runner = ProjectionRunner::Start(store->get(), &balances, o);
  if (!runner) _exit(3);
  for (;;) {
    if (!(*runner)->status().ok()) _exit(4);
    std::this_thread::sleep_for(milliseconds(2));
  }
}

TEST(ProjectionCrashTest, KilledRunnerResumesWithEveryEventAppliedExactlyOnce) {
  const uint64_t seed = std::random_device()();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::printf("ProjectionCrashTest seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::string store_dir = dir.Sub("store");
  const std::string db = dir.Sub("read.db");
  NativeOptions so;
  so.durability = Durability::kNoSyncUnsafe;
  std::map<std::string, int64_t> balance;
  std::vector<std::string> account_positions;
  uint64_t appended = 0;
  auto append = [&](Store* store) {
    const bool account = rng() % 4 != 0;
    const std::string stream = (account ? "account-" : "order-") + std::to_string(rng() % 5);
    const int64_t amount = static_cast<int64_t>(rng() % 100) + 1;
    EventData e = cairn::testing::Ev("Deposited", std::to_string(amount));
    auto r = store->Append(stream, ExpectedRevision::Any(), {&e, 1});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    ASSERT_EQ(r->position.value(), appended++);
    if (account) {
      balance[stream] += amount;
      account_positions.push_back(std::to_string(r->position.value()));
    }
  };
  for (int round = 0; round < 3; ++round) {
    {
      auto store = NativeStore::Open(store_dir, so);
      ASSERT_TRUE(store.has_value()) << store.error().ToString();
      for (int i = 0; i < 100; ++i) append(store->get());
      ASSERT_TRUE((*store)->Close().ok());
    }
    // No store, thread or SQLite connection is open across the fork.
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) RunChild(store_dir, db);
    auto store = NativeStore::Open(store_dir, so);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    // Round 0 kills within 3 ms of the fork, mostly before the child has
    // created its tables (the restarted runner must then start from nothing);
    // later rounds land anywhere in its batches.
    const auto kill_at = std::chrono::steady_clock::now() +
                         (round == 0 ? milliseconds(rng() % 4) : milliseconds(30 + rng() % 300));
    while (std::chrono::steady_clock::now() < kill_at) {
      append(store->get());
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
        << "child exited early with status " << wstatus;
    ASSERT_TRUE((*store)->Close().ok());
    // Where the kill landed (the connection is closed before the next fork).
    // A kill before the child created its checkpoint table leaves none.
    const bool has_checkpoints = Rows(db,
                                      "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                      "name = 'cairn_projection_checkpoints'") ==
                                 std::vector<std::string>{"cairn_projection_checkpoints"};
    const auto at = has_checkpoints ? Rows(db, "SELECT position FROM cairn_projection_checkpoints")
                                    : std::vector<std::string>{};
    std::printf("ProjectionCrashTest round %d: killed at checkpoint %s of %llu events\n", round,
                at.empty() ? "none" : at[0].c_str(), static_cast<unsigned long long>(appended));
  }
  // Restart in this process and catch up with everything.
  auto store = NativeStore::Open(store_dir, so);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  Balances balances;
  ProjectionOptions o;
  o.database_path = db;
  o.category = "account";
  o.batch_size = 7;
  {
    auto runner = ProjectionRunner::Start(store->get(), &balances, o);
    ASSERT_TRUE(runner.has_value()) << runner.error().ToString();
    Status s = (*runner)->WaitFor(Position(appended - 1), milliseconds(10000));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ASSERT_TRUE((*store)->Close().ok());
  EXPECT_EQ(Rows(db,
                 "SELECT position, count(*) FROM applied GROUP BY position "
                 "HAVING count(*) <> 1"),
            std::vector<std::string>{});
  EXPECT_EQ(Rows(db, "SELECT position FROM applied ORDER BY position"), account_positions);
  std::vector<std::string> want;
  for (const auto& [stream, sum] : balance) want.push_back(stream + "|" + std::to_string(sum));
  EXPECT_EQ(Rows(db, "SELECT account, balance FROM balances ORDER BY account"), want);
  std::printf("ProjectionCrashTest: %llu events, %zu applied, %zu by the restarted runner\n",
              static_cast<unsigned long long>(appended), account_positions.size(),
              balances.seen().size());
}

}  // namespace
}  // namespace cairn::toolkit
