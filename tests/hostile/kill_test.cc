// Signals to running commands: L4 (row 87), SIGINT and SIGTERM stop an
// import between two lines with its summary and exactly what it says is
// stored; M4 (rows 78-79), a kill -9 of `cairn scavenge` the moment its
// intent file index/SCAVENGE disappears leaves a store that read-only
// commands read without a corruption error, equal to the scavenged store.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/json_checks.h"
#include "tests/hostile/hostile_util.h"

namespace cairn::hostile {
namespace {

namespace fs = std::filesystem;

bool Exited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

class KillTest : public ::testing::Test {
 protected:
  // The summary and error of an import stopped by a signal before line
  // `line`, with every line before it stored: `imported` lines of `input`.
  void ExpectCancelled(const RunResult& run, uint64_t line) {
    EXPECT_EQ(run.exit_status, 1) << run.err;
    std::vector<std::string> out = e2e::SplitLines(run.out);
    ASSERT_EQ(out.size(), 1u) << run.out;
    Json summary = ParseObject(out[0]);
    EXPECT_EQ(summary["imported"], line - 1) << run.out;
    EXPECT_EQ(summary["lines"], line - 1) << run.out;
    EXPECT_EQ(summary["stopped_at_line"], line) << run.out;
    EXPECT_EQ(run.err,
              "{\"error\":\"cancelled\",\"message\":\"interrupted by a signal before line " +
                  std::to_string(line) +
                  ": every line before it is stored; run the same import again to go on "
                  "(stored lines count as duplicates)\",\"line\":" +
                  std::to_string(line) + "}\n");
  }

  // The export of `db` is exactly the first `n` lines of `input` (ids,
  // streams, data and order).
  void ExpectPrefixStored(const std::string& db, const std::string& input, uint64_t n) {
    RunResult exported = cli_.Run({"--db", db, "export"});
    ASSERT_EQ(exported.exit_status, 0) << exported.err;
    const std::vector<std::string> stored = e2e::SplitLines(exported.out);
    const std::vector<std::string> lines = e2e::SplitLines(input);
    ASSERT_EQ(stored.size(), n);
    for (uint64_t i = 0; i < n; ++i) {
      Json event = ParseObject(stored[i]), line = ParseObject(lines[i]);
      ASSERT_EQ(event["id"], line["id"]) << "event " << i;
      ASSERT_EQ(event["stream"], line["stream"]) << "event " << i;
      ASSERT_EQ(event["data"], line["data"]) << "event " << i;
      ASSERT_EQ(event["position"], i) << "event " << i;
    }
  }

  CliRunner cli_;
};

// L4, row 87: SIGINT to an import fed through a FIFO, stopped while it
// waits for more input: the 3,000 lines it was given are stored (it stores
// what it holds before waiting) and the summary says so.
TEST_F(KillTest, SigintStopsAnImportWaitingForInputWithItsSummary) {
  const std::string fifo = cli_.Path("feed");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int read_end = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(read_end, 0);
  const int feed = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(feed, 0);
  const std::string db = cli_.Path("db");
  pid_t import = cli_.Start({"--db", db, "import"}, fifo, "import");
  e2e::ChildGuard guard(import);
  ::close(read_end);
  const std::string input = ImportLines(3000);
  size_t written = 0;
  while (written < input.size()) {
    const ssize_t n = ::write(feed, input.data() + written, input.size() - written);
    ASSERT_GT(n, 0);
    written += static_cast<size_t>(n);
  }
  // Bounded wait until a reader sees all 3,000 (the import now waits).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (CountStored(cli_, db, /*may_be_missing=*/true) != 3000) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the lines were never stored";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(::kill(import, SIGINT), 0);
  guard.Release();
  RunResult run = cli_.Wait(import, "import");
  ::close(feed);
  ExpectCancelled(run, 3001);
  ExpectPrefixStored(db, input, 3000);
}

// L4, row 87: SIGTERM to an import of a large file while it runs: it stops
// between two lines; the summary counts exactly what is stored, a prefix of
// the file; running the same import again stores the rest.
TEST_F(KillTest, SigtermStopsALargeImportBetweenLinesWithItsSummary) {
  const std::string file = cli_.Path("large.jsonl");
  const std::string input = ImportLines(200000);
  WriteFile(file, input);
  const std::string db = cli_.Path("db");
  pid_t import = cli_.Start({"--db", db, "import", file}, "/dev/null", "import");
  e2e::ChildGuard guard(import);
  // Bounded wait until it has stored something, so the signal lands while
  // it runs (200,000 lines take seconds more).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (CountStored(cli_, db, /*may_be_missing=*/true) == 0) {
    ASSERT_FALSE(Exited(import)) << "the import ended before it could be interrupted";
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "nothing was ever stored";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(::kill(import, SIGTERM), 0);
  guard.Release();
  RunResult run = cli_.Wait(import, "import");
  ASSERT_EQ(run.exit_status, 1) << "not interrupted: " << run.out << run.err;
  const uint64_t line = ParseObject(run.out)["stopped_at_line"].get<uint64_t>();
  ExpectCancelled(run, line);
  EXPECT_LT(line, 200001u);
  ExpectPrefixStored(db, input, line - 1);

  RunResult again = cli_.Run({"--db", db, "import", file});
  EXPECT_EQ(again.exit_status, 0) << again.err;
  Json summary = ParseObject(again.out);
  EXPECT_EQ(summary["imported"], 200000 - (line - 1));
  EXPECT_EQ(summary["duplicates"], line - 1);
  EXPECT_EQ(CountStored(cli_, db), 200000);
}

// The store the scavenge kills below work on: 40,000 events in 160
// streams, every fourth one truncated before its last revision ("$tb" set
// by import lines of "$$<stream>"), so a scavenge rewrites the log.
// *want is its export once a scavenge finished.
std::string ScavengeableStore(const CliRunner& cli, std::string* want) {
  std::string input = ImportLines(40000);
  for (int s = 0; s < 160; s += 4) {
    input += "{\"stream\":\"$$imp-" + std::to_string(s) +
             "\",\"type\":\"$metadata\",\"data\":{\"$tb\":249}}\n";
  }
  const std::string base = cli.Path("base");
  EXPECT_EQ(cli.Run({"--db", base, "import", "-"}, input).exit_status, 0);
  const std::string finished = cli.Path("finished");
  fs::copy(base, finished, fs::copy_options::recursive);
  RunResult scavenged = cli.Run({"--db", finished, "scavenge"});
  EXPECT_EQ(scavenged.exit_status, 0) << scavenged.err;
  EXPECT_EQ(ParseObject(scavenged.out)["events_removed"], 40 * 249);
  *want = cli.Run({"--db", finished, "export"}).out;
  return base;
}

// Starts `cairn scavenge` on `db` and spins (no sleep: the window is
// short) until its intent file index/SCAVENGE has appeared, and with
// `once_gone` disappeared again, then kills it with SIGKILL. True when the
// kill landed then; false when the scavenge ended first (exit 0).
bool KillScavengeAt(const CliRunner& cli, const std::string& db, bool once_gone) {
  const std::string intent = db + "/index/SCAVENGE";
  const pid_t scavenge = cli.Start({"--db", db, "scavenge"}, "/dev/null", "scavenge");
  e2e::ChildGuard guard(scavenge);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  bool seen = false, killed = false;
  while (!killed && !Exited(scavenge)) {
    const bool present = ::access(intent.c_str(), F_OK) == 0;
    seen = seen || present;
    if (seen && (present != once_gone)) killed = ::kill(scavenge, SIGKILL) == 0;
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "the scavenge did not end";
      return false;
    }
  }
  guard.Release();
  RunResult run = cli.Wait(scavenge, "scavenge");
  if (killed && run.exit_status == 128 + SIGKILL) return true;
  EXPECT_EQ(run.exit_status, 0) << run.err;
  return false;
}

// M4, row 79: kill -9 of a real scavenge the instant index/SCAVENGE
// disappears (HEAD used to be rewritten only after that: verify said
// "record truncated", export exited 6). Read-only verify and export must
// exit 0 and show the scavenged store exactly.
TEST_F(KillTest, ScavengeKilledAsItsIntentFileDisappearsLeavesAReadableStore) {
  std::string want;
  const std::string base = ScavengeableStore(cli_, &want);
  int landed = 0, missed = 0;
  // CAIRN_HOSTILE_LONG=1: ten kills that land instead of three.
  const int want_landed = LongRuns() ? 10 : 3;
  for (int attempt = 0; attempt < 2 * want_landed && landed < want_landed; ++attempt) {
    const std::string db = cli_.Path("attempt-" + std::to_string(attempt));
    fs::copy(base, db, fs::copy_options::recursive);
    ++(KillScavengeAt(cli_, db, /*once_gone=*/true) ? landed : missed);
    RunResult verified = cli_.Run({"--db", db, "verify"});
    EXPECT_EQ(verified.exit_status, 0)
        << "attempt " << attempt << ": " << verified.out << verified.err;
    EXPECT_EQ(ParseObject(verified.out)["ok"], true);
    RunResult exported = cli_.Run({"--db", db, "export"});
    EXPECT_EQ(exported.exit_status, 0) << "attempt " << attempt << ": " << exported.err;
    EXPECT_TRUE(exported.out == want) << "attempt " << attempt << ": not the scavenged store";
  }
  std::printf("kill -9 as index/SCAVENGE disappeared: %d landed, %d missed the moment\n", landed,
              missed);
  EXPECT_GE(landed, 1);
}

// M4, row 78: killed while the intent file exists (past its commit point),
// the scavenge is finished by the next writer; until then readers refuse
// with failed_precondition saying so, never with a corruption error.
TEST_F(KillTest, ScavengeKilledWhileItsIntentFileExistsIsFinishedByTheNextWriter) {
  std::string want;
  const std::string base = ScavengeableStore(cli_, &want);
  int landed = 0;
  for (int attempt = 0; attempt < 4 && landed == 0; ++attempt) {
    const std::string db = cli_.Path("attempt-" + std::to_string(attempt));
    fs::copy(base, db, fs::copy_options::recursive);
    if (!KillScavengeAt(cli_, db, /*once_gone=*/false)) continue;
    ++landed;
    const std::string why =
        "a scavenge of " + db + " was interrupted; open the store for writing once to finish it";
    for (const char* reader : {"export", "count", "read-all"}) {
      RunResult run = cli_.Run({"--db", db, reader});
      EXPECT_EQ(run.exit_status, 1) << reader << ": " << run.err;
      EXPECT_EQ(run.err,
                "{\"error\":\"failed_precondition\",\"message\":" + Json(why).dump() + "}\n")
          << reader;
    }
    // verify says why it does not open, and finds no damage in the log.
    RunResult verified = cli_.Run({"--db", db, "verify"});
    EXPECT_EQ(verified.exit_status, 1) << verified.err;
    Json report = ParseObject(verified.out);
    EXPECT_EQ(report["opens"], false);
    EXPECT_EQ(report["problems"],
              Json::array({Json(
                  {{"file", db}, {"offset", 0}, {"what", "the store does not open: " + why}})}));
    // A second scavenge opens it for writing (and finds nothing to remove).
    RunResult again = cli_.Run({"--db", db, "scavenge"});
    EXPECT_EQ(again.exit_status, 0) << again.err;
    EXPECT_EQ(ParseObject(again.out)["events_removed"], 0);
    verified = cli_.Run({"--db", db, "verify"});
    EXPECT_EQ(verified.exit_status, 0) << verified.out << verified.err;
    EXPECT_TRUE(cli_.Run({"--db", db, "export"}).out == want) << "not the scavenged store";
  }
  EXPECT_EQ(landed, 1) << "no kill landed while index/SCAVENGE existed";
}

}  // namespace
}  // namespace cairn::hostile
