// End-to-end tests of `cairn backup`: backups taken while `cairn import`
// writes 200,000 events from another process, and while `cairn scavenge`
// rewrites the store, each verify clean and export exactly what the source
// held at the copy's head (the first N lines of the source's export, which
// is in $all order, N being the copy's event count; or, beside a scavenge,
// the store's whole export before or after it). Also: a backup of a store
// no process writes, and the error for a DEST that is not empty.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/output.h"
#include "tests/e2e/cli_runner.h"

namespace cairn::e2e {
namespace {

using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

constexpr int kEvents = 200'000;
constexpr int kStreams = 7;

// The report's keys, in the order printed.
const std::vector<std::string> kReportKeys = {
    "backup", "head", "events", "segments_linked", "segments_copied", "bytes_copied"};

// Whether the child `pid` has exited (it is not reaped: Wait collects it).
bool Exited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

// `lines` joined back into text, each ended by '\n'.
std::string Joined(const std::vector<std::string>& lines, size_t n) {
  std::string out;
  for (size_t i = 0; i < n && i < lines.size(); ++i) out += lines[i] + "\n";
  return out;
}

class BackupE2eTest : public ::testing::Test {
 protected:
  static std::string Shown(const std::vector<std::string>& args) {
    std::string shown = "cairn";
    for (const std::string& arg : args) shown += " " + arg;
    return shown + ": ";
  }

  // Runs `cairn --db <db> args`, expects exit 0 and no stderr; returns stdout.
  std::string Ok(const std::string& db, const std::vector<std::string>& args,
                 const std::string& input = "") {
    RunResult result = cli_.RunDb(db, args, input);
    EXPECT_EQ(result.exit_status, 0) << Shown(args) << result.err;
    EXPECT_EQ(result.err, "") << Shown(args);
    return result.out;
  }

  // 200,000 events for `cairn import`: runs of 100 lines per stream (one
  // append each), over 7 streams "acct-0".."acct-6", data of varied size.
  std::string WriteEvents() {
    const std::string path = cli_.Path("events.jsonl");
    std::ofstream out(path);
    for (int i = 0; i < kEvents; ++i) {
      out << "{\"stream\":\"acct-" << (i / 100) % kStreams << "\",\"type\":\""
          << (i % 3 == 0 ? "Deposited" : "Withdrawn") << "\",\"data\":{\"i\":" << i
          << ",\"note\":\"" << std::string(i % 50, 'x') << "\"}}\n";
    }
    return path;
  }

  // Runs `cairn --db <db> backup <Path(dest)>`, checks its report line and
  // returns it.
  Json Backup(const std::string& db, const std::string& dest) {
    const auto started = std::chrono::steady_clock::now();
    RunResult result = cli_.RunDb(db, {"backup", cli_.Path(dest)});
    last_backup_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
    EXPECT_EQ(result.exit_status, 0) << result.err;
    EXPECT_EQ(result.err, "");
    std::vector<std::string> lines = SplitLines(result.out);
    EXPECT_EQ(lines.size(), 1u) << result.out;
    if (lines.size() != 1) return Json::object();
    Json report = Json::parse(lines[0]);
    std::vector<std::string> keys;
    for (const auto& [key, value] : report.items()) keys.push_back(key);
    EXPECT_EQ(keys, kReportKeys);
    EXPECT_EQ(report["backup"], cli_.Path(dest));
    return report;
  }

  // `cairn verify` of the copy in `dest` finds nothing; returns its export.
  std::string VerifiedExport(const std::string& dest) {
    RunResult verified = cli_.RunDb(dest, {"verify"});
    EXPECT_EQ(verified.exit_status, 0) << dest << ": " << verified.out << verified.err;
    EXPECT_NE(verified.out.find("\"ok\":true"), std::string::npos) << verified.out;
    return Ok(dest, {"export"});
  }

  CliRunner cli_;
  int64_t last_backup_ms_ = 0;
};

TEST_F(BackupE2eTest, BackupsDuringAnImportHoldExactlyTheEventsBelowTheirHead) {
  const std::string events = WriteEvents();
  const pid_t import =
      cli_.Start({"--db", cli_.Path("db"), "import", events}, "/dev/null", "import");
  ChildGuard guard(import);
  // The first backup needs a store to copy: the import's writer creates it.
  while (!fs::exists(cli_.Path("db/HEAD")) && !Exited(import)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::vector<std::pair<std::string, Json>> taken;
  // Backups while the import runs, spread over it by a pause (pacing only:
  // how many overlap the import is not what the test checks).
  for (int i = 0; i < 6 && (i == 0 || !Exited(import)); ++i) {
    const std::string dest = "during-" + std::to_string(i);
    taken.emplace_back(dest, Backup("db", dest));
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  }
  RunResult imported = cli_.Wait(import, "import");
  guard.Release();
  ASSERT_EQ(imported.exit_status, 0) << imported.err;
  EXPECT_EQ(imported.out,
            "{\"imported\":200000,\"lines\":200000,\"batches\":200,\"last_position\":199999}\n");

  const std::vector<std::string> all = SplitLines(Ok("db", {"export"}));
  ASSERT_EQ(all.size(), static_cast<size_t>(kEvents));
  for (const auto& [dest, report] : taken) {
    SCOPED_TRACE(dest);
    const uint64_t n = report["events"].get<uint64_t>();
    EXPECT_EQ(report["head"], n);  // appends only: no holes
    EXPECT_LE(n, all.size());
    EXPECT_EQ(report["segments_copied"], 1);
    EXPECT_EQ(VerifiedExport(dest), Joined(all, n));
    std::printf("backup during the import: %llu events\n", static_cast<unsigned long long>(n));
  }

  // No process writes the store now.
  Json last = Backup("db", "after");
  EXPECT_EQ(last["head"], kEvents);
  EXPECT_EQ(last["events"], kEvents);
  EXPECT_EQ(VerifiedExport("after"), Joined(all, all.size()));
  std::printf("backup of %d events: %lld ms, %s\n", kEvents,
              static_cast<long long>(last_backup_ms_), last.dump().c_str());
}

TEST_F(BackupE2eTest, BackupsDuringAScavengeAreTheStoreBeforeOrAfterIt) {
  // Something to scavenge: three capped streams (set before the import, so
  // the cap removes most of their events), and a tombstoned one.
  for (int k = 0; k < 3; ++k) {
    Ok("db", {"metadata", "acct-" + std::to_string(k), "--set", R"({"$maxCount":10})"});
  }
  RunResult imported = cli_.RunDb("db", {"import", WriteEvents()});
  ASSERT_EQ(imported.exit_status, 0) << imported.err;
  Ok("db", {"delete", "acct-3", "--hard"});
  const std::string before = Ok("db", {"export"});

  const pid_t scavenge = cli_.Start({"--db", cli_.Path("db"), "scavenge"}, "/dev/null", "scavenge");
  ChildGuard guard(scavenge);
  // Backups until the scavenge ends, spread over it by a pause (pacing
  // only: whether one lands on its swap is not what the test checks).
  std::vector<std::pair<std::string, Json>> taken;
  for (int i = 0; i < 100 && (i == 0 || !Exited(scavenge)); ++i) {
    const std::string dest = "during-" + std::to_string(i);
    taken.emplace_back(dest, Backup("db", dest));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  RunResult scavenged = cli_.Wait(scavenge, "scavenge");
  guard.Release();
  ASSERT_EQ(scavenged.exit_status, 0) << scavenged.err;
  const Json report = Json::parse(scavenged.out);
  ASSERT_GT(report["events_removed"].get<uint64_t>(), 0u);
  const std::string after = Ok("db", {"export"});
  ASSERT_NE(after, before);

  // Every copy holds the whole store before or after the scavenge: its
  // count says which. The first and the last three, nearest the swap, are
  // verified and exported whole (an export takes seconds here).
  const uint64_t count_before = SplitLines(before).size();
  const uint64_t count_after = SplitLines(after).size();
  int old_copies = 0, new_copies = 0;
  for (size_t i = 0; i < taken.size(); ++i) {
    const auto& [dest, backup] = taken[i];
    SCOPED_TRACE(dest);
    const uint64_t n = backup["events"].get<uint64_t>();
    EXPECT_TRUE(n == count_before || n == count_after) << n;
    EXPECT_EQ(Ok(dest, {"count"}), "{\"count\":" + std::to_string(n) + "}\n");
    old_copies += n == count_before ? 1 : 0;
    new_copies += n == count_after ? 1 : 0;
    if (i == 0 || i + 3 >= taken.size()) {
      EXPECT_EQ(VerifiedExport(dest), n == count_before ? before : after);
    }
  }
  std::printf("%d backups beside the scavenge: %d before it, %d after it\n",
              static_cast<int>(taken.size()), old_copies, new_copies);
  Json last = Backup("db", "after");
  EXPECT_EQ(VerifiedExport("after"), after);
  EXPECT_EQ(last["events"], SplitLines(after).size());
}

TEST_F(BackupE2eTest, ADestinationThatIsNotEmptyIsAnInvalidArgument) {
  Ok("db", {"import"}, "{\"stream\":\"a-1\",\"type\":\"T\"}\n");
  fs::create_directories(cli_.Path("full"));
  std::ofstream(cli_.Path("full/keep.txt")) << "mine";
  std::ofstream(cli_.Path("file")) << "a file";
  for (const char* dest : {"full", "file"}) {
    SCOPED_TRACE(dest);
    RunResult result = cli_.RunDb("db", {"backup", cli_.Path(dest)});
    EXPECT_EQ(result.exit_status, cli::ExitStatusFor(ErrorCode::kInvalidArgument));
    EXPECT_EQ(result.out, "");
    std::vector<std::string> lines = SplitLines(result.err);
    ASSERT_EQ(lines.size(), 1u) << result.err;
    Json error = Json::parse(lines[0]);
    EXPECT_EQ(error["error"], "invalid_argument");
    EXPECT_NE(error["message"].get<std::string>().find(cli_.Path(dest)), std::string::npos);
  }
  EXPECT_EQ(ReadWholeFile(cli_.Path("full/keep.txt")), "mine");
  EXPECT_EQ(std::distance(fs::directory_iterator(cli_.Path("full")), fs::directory_iterator()), 1);
  EXPECT_EQ(ReadWholeFile(cli_.Path("file")), "a file");
  // An empty directory is a fine DEST.
  fs::create_directories(cli_.Path("empty"));
  Json report = Backup("db", "empty");
  EXPECT_EQ(report["events"], 1);
  EXPECT_EQ(VerifiedExport("empty"), Ok("db", {"export"}));
}

}  // namespace
}  // namespace cairn::e2e
