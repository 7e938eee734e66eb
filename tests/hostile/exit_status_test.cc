// H2 (report rows 63-65, 84-85, defect H2) and L5, L6 (rows 45-46, 67-68):
// the exit status of a write command tells the truth. Every run of
// `append` and `import` under a low RLIMIT_NOFILE or on a full file system
// is checked afterwards by a fresh process with normal limits: exit 0 if and
// only if its events are stored; a run that exits 0 after a failure at
// close says so in a {"warning":...} line; a failed import stored exactly
// the lines its summary counts. Each test counts its outcomes and fails if
// one of "stored with a warning" and "refused, nothing stored" never
// occurred, so it cannot pass by never reaching a failure.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/e2e/json_checks.h"
#include "tests/hostile/hostile_util.h"

namespace cairn::hostile {
namespace {

namespace fs = std::filesystem;

// How one run of a write command ended, as checked afterwards.
struct Outcomes {
  int clean = 0;    // exit 0, no warning, everything stored
  int warned = 0;   // exit 0 with a warning: stored, but closing failed
  int refused = 0;  // exit != 0, nothing stored
  int stopped = 0;  // import exit != 0 after storing the lines its summary counts

  void Print(const char* what) const {
    std::printf(
        "%s: %d clean, %d stored with a warning, %d refused (nothing stored), "
        "%d stopped part-way\n",
        what, clean, warned, refused, stopped);
  }
};

ChildOptions LimitFiles(uint64_t limit) {
  ChildOptions child;
  child.max_open_files = limit;
  return child;
}

// The stderr lines of a successful write run: only warnings, each with the
// code of what failed and a message saying the events are stored.
void ExpectOnlyWarnings(const RunResult& run, const std::string& context) {
  for (const std::string& line : e2e::SplitLines(run.err)) {
    Json warning = ParseObject(line);
    EXPECT_TRUE(warning.contains("warning")) << context << ": " << line;
    EXPECT_FALSE(warning.contains("error")) << context << ": " << line;
    if (!warning.contains("message")) continue;
    const std::string message = warning["message"].get<std::string>();
    EXPECT_TRUE(message.starts_with("the events are stored")) << context << ": " << message;
  }
}

// One `append` with id `id` to `stream` of store `db`, run as `child`:
// checks exit 0 iff a fresh process then reads exactly that event.
void CheckAppend(const CliRunner& cli, const std::string& db, const std::string& stream,
                 const std::string& data_flag, const std::string& data, uint64_t id,
                 const ChildOptions& child, Outcomes* outcomes) {
  const std::string context = "append to " + stream;
  RunResult run = cli.Run(
      {"--db", db, "append", stream, "--type", "T", data_flag, data, "--id", IdOf(id)}, "", child);
  RunResult read = cli.Run({"--db", db, "read", stream});
  if (run.exit_status == 0) {
    ExpectOnlyWarnings(run, context);
    EXPECT_EQ(read.exit_status, 0) << context << " exited 0 but: " << read.err;
    ASSERT_EQ(e2e::SplitLines(read.out).size(), 1u) << context << ": " << read.out;
    EXPECT_EQ(ParseObject(read.out)["id"], IdOf(id)) << context;
    if (child.stdout_path.empty()) {
      Json result = ParseObject(run.out);
      EXPECT_EQ(result["stream"], stream);
      EXPECT_EQ(result["revision"], 0);
      EXPECT_EQ(result["position"], ParseObject(read.out)["position"]);
    }
    ++(run.err.empty() ? outcomes->clean : outcomes->warned);
  } else {
    EXPECT_EQ(run.out, "") << context;
    EXPECT_EQ(ObjectsWithKey(run.err, "error").size(), 1u) << context << ": " << run.err;
    // Not stored: the stream does not exist (or, when even the store's
    // creation failed, there is no store).
    EXPECT_EQ(read.exit_status, 4) << context << " exited " << run.exit_status << " (" << run.err
                                   << ") but " << read.out << read.err;
    ++outcomes->refused;
  }
}

// One `import` of `file` (`lines` lines, all new) into `db`, which held
// `before` events: exit 0 iff every line is stored; otherwise exactly what
// the summary counts (nothing when there is no summary).
void CheckImport(const CliRunner& cli, const std::string& db, const std::string& file,
                 int64_t lines, int64_t before, const ChildOptions& child,
                 const std::string& context, Outcomes* outcomes) {
  RunResult run = cli.Run({"--db", db, "import", file}, "", child);
  const int64_t stored = CountStored(cli, db, /*may_be_missing=*/true) - before;
  const std::vector<std::string> out = e2e::SplitLines(run.out);
  if (run.exit_status == 0) {
    ExpectOnlyWarnings(run, context);
    EXPECT_EQ(stored, lines) << context << " exited 0";
    ASSERT_EQ(out.size(), 1u) << context << ": " << run.out;
    EXPECT_EQ(ParseObject(out[0])["imported"], lines) << context;
    EXPECT_FALSE(ParseObject(out[0]).contains("stopped_at_line")) << context;
    ++(run.err.empty() ? outcomes->clean : outcomes->warned);
    return;
  }
  EXPECT_EQ(ObjectsWithKey(run.err, "error").size(), 1u) << context << ": " << run.err;
  if (out.empty()) {
    // Refused before reading a line (the store did not open).
    EXPECT_EQ(stored, 0) << context << " exited " << run.exit_status << " without a summary";
    ++outcomes->refused;
    return;
  }
  ASSERT_EQ(out.size(), 1u) << context << ": " << run.out;
  Json summary = ParseObject(out[0]);
  EXPECT_TRUE(summary.contains("stopped_at_line")) << context << ": " << run.out;
  EXPECT_EQ(summary["imported"], stored) << context << ": " << run.out << run.err;
  EXPECT_LT(stored, lines) << context;
  ++(stored == 0 ? outcomes->refused : outcomes->stopped);
}

class ExitStatusTest : public ::testing::Test {
 protected:
  // A store with a few index runs, so that opening it takes a few files.
  std::string SeedStore() {
    const std::string base = cli_.Path("base");
    for (int i = 0; i < 5; ++i) {
      RunResult run =
          cli_.Run({"--db", base, "append", "seed-" + std::to_string(i), "--type", "T"});
      EXPECT_EQ(run.exit_status, 0) << run.err;
    }
    return base;
  }
  std::string CopyOf(const std::string& base, const std::string& name) {
    const std::string copy = cli_.Path(name);
    fs::copy(base, copy, fs::copy_options::recursive);
    return copy;
  }

  CliRunner cli_;
};

// H2, rows 84-85: `ulimit -n 8..14` made four of five appends "fail" that
// were all stored. Every limit from 5 (the store does not even open) to 24
// (nothing fails); a fresh copy of the same store per run.
TEST_F(ExitStatusTest, AppendUnderLowFileLimitsExitsZeroIffStored) {
  if (kSanitized) GTEST_SKIP() << "the sanitizer runtime needs descriptors of its own";
  const std::string base = SeedStore();
  Outcomes outcomes;
  for (uint64_t limit = 5; limit <= 24; ++limit) {
    SCOPED_TRACE("RLIMIT_NOFILE " + std::to_string(limit));
    const std::string db = CopyOf(base, "fd-" + std::to_string(limit));
    CheckAppend(cli_, db, "s", "--data", "{\"limit\":" + std::to_string(limit) + "}", limit,
                LimitFiles(limit), &outcomes);
    RunResult verified = cli_.Run({"--db", db, "verify"});
    EXPECT_EQ(verified.exit_status, 0) << verified.out << verified.err;
  }
  outcomes.Print("append under RLIMIT_NOFILE 5..24");
  EXPECT_GE(outcomes.warned, 1);
  EXPECT_GE(outcomes.refused, 1);
}

// H2, rows 63, 85: an import that printed "imported":N exited 1 at close.
TEST_F(ExitStatusTest, ImportUnderLowFileLimitsExitsZeroIffStored) {
  if (kSanitized) GTEST_SKIP() << "the sanitizer runtime needs descriptors of its own";
  const std::string base = SeedStore();
  const std::string input = cli_.Path("input.jsonl");
  WriteFile(input, ImportLines(3000));
  Outcomes outcomes;
  for (uint64_t limit = 5; limit <= 24; ++limit) {
    const std::string db = CopyOf(base, "fd-" + std::to_string(limit));
    CheckImport(cli_, db, input, 3000, 5, LimitFiles(limit),
                "import under RLIMIT_NOFILE " + std::to_string(limit), &outcomes);
    RunResult verified = cli_.Run({"--db", db, "verify"});
    EXPECT_EQ(verified.exit_status, 0) << verified.out << verified.err;
  }
  outcomes.Print("import under RLIMIT_NOFILE 5..24");
  EXPECT_GE(outcomes.warned, 1);
  EXPECT_GE(outcomes.refused, 1);
}

// H2, rows 63-64, the report's reproduction: a 20 MiB tmpfs, a 200,000-line
// import whose log fits and whose index checkpoint at close does not. It
// printed "imported":200000 and exited 1, and an append after it exited 1
// having stored its event (a script's retries stored it again).
TEST_F(ExitStatusTest, ReportReproductionOfACheckpointOnAFullDiskExitsZero) {
  Tmpfs tmpfs(cli_.Path("full"), 20);
  if (!tmpfs.mounted()) GTEST_SKIP() << "needs a tmpfs: " << tmpfs.error();
  const std::string input = cli_.Path("g.jsonl");
  WriteFile(input, ImportLines(200000));
  const std::string db = tmpfs.dir() + "/db";
  RunResult import = cli_.Run({"--db", db, "import", input});
  EXPECT_EQ(import.exit_status, 0) << import.err;
  EXPECT_EQ(import.out,
            "{\"imported\":200000,\"lines\":200000,\"batches\":200,\"last_position\":199999}\n");
  std::vector<Json> warnings = ObjectsWithKey(import.err, "warning");
  ASSERT_EQ(warnings.size(), 1u) << import.err;
  EXPECT_EQ(warnings[0]["warning"], "no_space");
  const std::string message = warnings[0]["message"].get<std::string>();
  EXPECT_TRUE(
      message.starts_with("the events are stored (durable in the log), but closing the "
                          "store failed; its next open indexes them again: write '" +
                          db + "/index/"))
      << message;
  EXPECT_TRUE(message.ends_with(".tmp': No space left on device")) << message;
  EXPECT_EQ(e2e::SplitLines(import.err).size(), 1u) << import.err;
  RunResult append =
      cli_.Run({"--db", db, "append", "after-full", "--type", "T", "--data", "{\"x\":1}"});
  EXPECT_EQ(append.exit_status, 0) << append.err;
  EXPECT_EQ(append.out, "{\"stream\":\"after-full\",\"revision\":0,\"position\":200000}\n");
  ExpectOnlyWarnings(append, "append after-full");
  EXPECT_EQ(CountStored(cli_, db), 200001);
  EXPECT_EQ(FilesEndingIn(db + "/index", ".tmp"), std::vector<std::string>());
  RunResult verified = cli_.Run({"--db", db, "verify"});
  EXPECT_EQ(verified.exit_status, 0) << verified.out << verified.err;
}

// H2 and L6, rows 63-65 and 68: on a full file system. Each run leaves a
// different amount of space free on a 16 MiB tmpfs before a 50,000-line
// import (a log of ~1.5 MB, index files of ~5 MB): none (the store cannot
// be created), less than the log (the import stops part-way), enough for
// the log but not its index checkpoint (stored, with a warning), enough
// for everything. Then the file system is filled up and two appends run:
// a small one (fits in the log's last page; its checkpoint does not) and
// one of 200 KB (does not fit). No scratch file (*.tmp) survives a run.
TEST_F(ExitStatusTest, ImportAndAppendOnAFullFileSystemExitZeroIffStored) {
  Tmpfs tmpfs(cli_.Path("full"), 16);
  if (!tmpfs.mounted()) GTEST_SKIP() << "needs a tmpfs: " << tmpfs.error();
  const std::string input = cli_.Path("input.jsonl");
  WriteFile(input, ImportLines(50000));
  const std::string big = cli_.Path("big.json");
  WriteFile(big, "{\"k\":\"" + std::string(200000, 'x') + "\"}");
  Outcomes imports, appends;
  const uint64_t kKiB = 1024;
  int run = 0;
  for (uint64_t free_kib : {0ull, 256ull, 1024ull, 3072ull, 16384ull}) {
    const std::string context = "import with " + std::to_string(free_kib) + " KiB free";
    SCOPED_TRACE(context);
    const std::string db = tmpfs.dir() + "/db-" + std::to_string(run++);
    tmpfs.LeaveFree(free_kib * kKiB);
    CheckImport(cli_, db, input, 50000, 0, {}, context, &imports);
    EXPECT_EQ(FilesEndingIn(db + "/index", ".tmp"), std::vector<std::string>()) << context;

    tmpfs.LeaveFree(0);
    CheckAppend(cli_, db, "small", "--data", "{}", 1, {}, &appends);
    CheckAppend(cli_, db, "big", "--data-file", big, 2, {}, &appends);
    EXPECT_EQ(FilesEndingIn(db + "/index", ".tmp"), std::vector<std::string>()) << context;
    if (fs::exists(db + "/log/00000000.seg")) {  // else its creation failed
      RunResult verified = cli_.Run({"--db", db, "verify"});
      EXPECT_EQ(verified.exit_status, 0) << verified.out << verified.err;
    }
    fs::remove_all(db);
  }
  imports.Print("import on a full file system");
  appends.Print("append on a full file system");
  EXPECT_GE(imports.warned, 1);
  EXPECT_GE(imports.refused, 1);
  EXPECT_GE(imports.stopped, 1);
  EXPECT_GE(appends.warned, 1);
  EXPECT_GE(appends.refused, 1);
}

// L6, rows 67-68: a scavenge that runs out of space exits 1 naming the
// file, removes its scratch files (*.scav, *.tmp) and leaves the store as it
// was; with space again it runs.
TEST_F(ExitStatusTest, ScavengeOnAFullFileSystemLeavesNoScratchFiles) {
  Tmpfs tmpfs(cli_.Path("full"), 16);
  if (!tmpfs.mounted()) GTEST_SKIP() << "needs a tmpfs: " << tmpfs.error();
  const std::string input = cli_.Path("input.jsonl");
  WriteFile(input, ImportLines(50000));
  const std::string db = tmpfs.dir() + "/db";
  ASSERT_EQ(cli_.Run({"--db", db, "import", input}).exit_status, 0);
  for (int s = 0; s < 10; ++s) {
    ASSERT_EQ(cli_.Run({"--db", db, "delete", "imp-" + std::to_string(s)}).exit_status, 0);
  }
  const std::string before = cli_.Run({"--db", db, "export"}).out;
  for (uint64_t free_kib : {0ull, 1024ull, 2048ull}) {
    SCOPED_TRACE(std::to_string(free_kib) + " KiB free");
    tmpfs.LeaveFree(free_kib * 1024);
    RunResult scavenge = cli_.Run({"--db", db, "scavenge"});
    EXPECT_EQ(scavenge.exit_status, 1) << scavenge.out << scavenge.err;
    EXPECT_EQ(scavenge.out, "");
    EXPECT_EQ(e2e::ErrorWithoutMessage(scavenge), Json::parse(R"({"error":"no_space"})"));
    EXPECT_NE(e2e::ErrorMessage(scavenge).find("No space left on device"), std::string::npos);
    EXPECT_EQ(FilesEndingIn(db + "/log", ".scav"), std::vector<std::string>());
    EXPECT_EQ(FilesEndingIn(db + "/index", ".scav"), std::vector<std::string>());
    EXPECT_EQ(FilesEndingIn(db + "/index", ".tmp"), std::vector<std::string>());
    RunResult after = cli_.Run({"--db", db, "export"});
    EXPECT_EQ(after.exit_status, 0) << after.err;
    EXPECT_TRUE(after.out == before) << "the store changed";
  }
  tmpfs.LeaveFree(16 << 20);
  RunResult scavenge = cli_.Run({"--db", db, "scavenge"});
  EXPECT_EQ(scavenge.exit_status, 0) << scavenge.err;
  EXPECT_EQ(ParseObject(scavenge.out)["events_removed"], 2490);
  EXPECT_EQ(CountStored(cli_, db), 50010 - 2490);
}

// L5, rows 45-46: stdout on a full device. Read commands exit 1 with
// no_space naming stdout; write commands exit 0 with a warning (their data
// is stored and a retry would store it twice).
TEST_F(ExitStatusTest, StdoutOnAFullDeviceIsAnErrorForReadsAndAWarningForWrites) {
  const std::string db = cli_.Path("db");
  ASSERT_EQ(cli_.Run({"--db", db, "append", "s", "--type", "T"}).exit_status, 0);
  ChildOptions full;
  full.stdout_path = "/dev/full";
  for (const std::vector<std::string>& read :
       std::vector<std::vector<std::string>>{{"read", "s"},
                                             {"read-all"},
                                             {"export"},
                                             {"verify"},
                                             {"stats"},
                                             {"count"},
                                             {"streams"},
                                             {"metadata", "s"},
                                             {"tail", "--all", "--until-caught-up"}}) {
    std::vector<std::string> args = {"--db", db};
    args.insert(args.end(), read.begin(), read.end());
    RunResult run = cli_.Run(args, "", full);
    EXPECT_EQ(run.exit_status, 1) << read[0] << ": " << run.err;
    EXPECT_EQ(e2e::ErrorWithoutMessage(run), Json::parse(R"({"error":"no_space"})")) << read[0];
    EXPECT_EQ(e2e::ErrorMessage(run), "write 'stdout': No space left on device") << read[0];
  }
  const std::vector<std::vector<std::string>> writes = {
      {"append", "s", "--type", "T"},
      {"import", "-"},
      {"metadata", "s", "--set", "{\"owner\":\"ann\"}"},
      {"delete", "s"},
  };
  for (const std::vector<std::string>& write : writes) {
    std::vector<std::string> args = {"--db", db};
    args.insert(args.end(), write.begin(), write.end());
    RunResult run = cli_.Run(args, "{\"stream\":\"t\",\"type\":\"T\"}\n", full);
    EXPECT_EQ(run.exit_status, 0) << write[0] << ": " << run.err;
    EXPECT_EQ(run.err,
              "{\"warning\":\"no_space\",\"message\":\"the events are stored, but the result "
              "could not be written: write 'stdout': No space left on device\"}\n")
        << write[0];
  }
  // Each write is stored: the first append and the four above (the soft
  // delete is a metadata event).
  EXPECT_EQ(CountStored(cli_, db), 5);
  EXPECT_EQ(cli_.Run({"--db", db, "read", "s"}).exit_status, 4);  // soft-deleted
  EXPECT_EQ(cli_.Run({"--db", db, "read", "t"}).exit_status, 0);
}

}  // namespace
}  // namespace cairn::hostile
