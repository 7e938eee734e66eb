// Damaged and foreign directories, as the report damaged them: H3 (rows
// 53-54), M3 (rows 42-44), M5 (rows 57-58), L2 (row 61), L3 (row 59) and
// L8 (row 89). A store that lost acknowledged data refuses every command
// with exit 6 naming the file, and nothing is written; another program's
// directory is refused with exit 2 and left as it was; verify lists every
// damaged place and export --salvage saves every readable event.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/json_checks.h"
#include "tests/hostile/hostile_util.h"

namespace cairn::hostile {
namespace {

namespace fs = std::filesystem;

// The hint of every corruption error but verify's (cli/output.cc).
constexpr char kHint[] =
    "`cairn verify` lists every damaged place; `cairn export --salvage > saved.jsonl` writes "
    "every event still readable; damage to a file under index/ (runs, positions.idx, MANIFEST) "
    "is repaired by removing the index directory and opening the store for writing, which "
    "rebuilds it from the log";
constexpr char kLost[] = " (acknowledged events are lost)";

// Every command, readers and writers: on a store that lost data each must
// exit 6 with the same error.
const std::vector<std::vector<std::string>>& EveryCommand() {
  static const std::vector<std::vector<std::string>> commands = {
      {"read-all"},
      {"read", "acct-1"},
      {"read", "acct-19"},
      {"count"},
      {"stats"},
      {"streams"},
      {"metadata", "acct-1"},
      {"export"},
      {"tail", "--all", "--until-caught-up"},
      {"append", "new", "--type", "T"},
      {"import", "-"},
      {"metadata", "acct-1", "--set", "{\"$maxCount\":1}"},
      {"delete", "acct-1"},
      {"scavenge"},
  };
  return commands;
}

// Flips one bit of the byte at `offset` of `path`.
void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  file.get(byte);
  file.seekp(static_cast<std::streamoff>(offset));
  file.put(static_cast<char>(byte ^ 1));
  ASSERT_TRUE(file.good()) << path;
}

// The snapshot without LOCK: a writer's open records its pid there before
// it looks at the log (a lock, not data).
std::map<std::string, std::string> DataFiles(const std::string& dir) {
  std::map<std::string, std::string> files = Snapshot(dir);
  files.erase("LOCK");
  return files;
}

class DamageTest : public ::testing::Test {
 protected:
  // 10,000 events, 500 in each of acct-0..19, in records of 1,000 events.
  std::string MakeStore(const std::string& name) {
    const std::string db = cli_.Path(name);
    RunResult imported = cli_.Run({"--db", db, "import", "-"}, AccountLines(20, 500));
    EXPECT_EQ(imported.exit_status, 0) << imported.err;
    return db;
  }

  // Every command exits 6 with `message` (and the hint), prints nothing,
  // writes nothing; verify says the store does not open, naming it too.
  void ExpectRefusedEverywhere(const std::string& db, const std::string& message) {
    const std::map<std::string, std::string> before = DataFiles(db);
    // One line per command: its exit status, stdout and stderr.
    const std::string want =
        "6  " + Json({{"error", "corruption"}, {"message", message}, {"hint", kHint}}).dump() +
        "\n";
    for (const std::vector<std::string>& command : EveryCommand()) {
      std::vector<std::string> args = {"--db", db};
      args.insert(args.end(), command.begin(), command.end());
      RunResult run = cli_.Run(args, "{\"stream\":\"x\",\"type\":\"T\"}\n");
      EXPECT_EQ(std::to_string(run.exit_status) + " " + run.out + " " + run.err, want)
          << "cairn " << command[0] << (command.size() > 1 ? " " + command[1] : "");
    }
    RunResult verified = cli_.Run({"--db", db, "verify"});
    EXPECT_EQ(verified.exit_status, 6) << verified.err;
    Json report = ParseObject(verified.out);
    EXPECT_EQ(report["ok"], false);
    EXPECT_EQ(report["opens"], false);
    ASSERT_TRUE(report["problems"].is_array() && !report["problems"].empty()) << verified.out;
    EXPECT_EQ(report["problems"][0],
              Json::parse("{\"file\":" + Json(db).dump() + ",\"offset\":0,\"what\":" +
                          Json("the store does not open: " + message).dump() + "}"));
    EXPECT_TRUE(DataFiles(db) == before) << "a refused command changed the store";
  }

  CliRunner cli_;
};

// H3, row 53: `rm D/log/00000000.seg`.
TEST_F(DamageTest, DeletedSegmentIsRefusedByEveryCommand) {
  const std::string db = MakeStore("db");
  fs::remove(db + "/log/00000000.seg");
  ExpectRefusedEverywhere(db, db + "/log/00000000.seg is missing, but " + db +
                                  "/index/MANIFEST says the store holds events" + kLost);
}

// H3, row 53: `rm -rf D/log`.
TEST_F(DamageTest, DeletedLogDirectoryIsRefusedByEveryCommand) {
  const std::string db = MakeStore("db");
  fs::remove_all(db + "/log");
  ExpectRefusedEverywhere(db, db + "/log is missing, but " + db +
                                  "/index/MANIFEST says the store holds events" + kLost);
  // Nothing to salvage, and the salvage says the events are lost (it used to
  // say "not found", exit 4).
  RunResult salvage = cli_.Run({"--db", db, "export", "--salvage"});
  EXPECT_EQ(salvage.exit_status, 6) << salvage.err;
  EXPECT_EQ(salvage.out, "");
  EXPECT_EQ(ParseObject(salvage.err)["message"],
            db + "/log is missing, but the store holds events (its MANIFEST or HEAD says so): "
                 "acknowledged events are lost");
}

// What `cairn export --salvage` of the damaged store `db` reports: the
// skipped places (it must exit 6 having found damage); the lines saved go
// to *saved.
std::vector<Json> SalvageSkips(const CliRunner& cli, const std::string& db,
                               std::vector<std::string>* saved) {
  RunResult salvage = cli.Run({"--db", db, "export", "--salvage"});
  EXPECT_EQ(salvage.exit_status, 6) << salvage.err;
  EXPECT_EQ(ObjectsWithKey(salvage.err, "error").size(), 1u) << salvage.err;
  *saved = e2e::SplitLines(salvage.out);
  std::vector<Json> places;
  for (const Json& line : ObjectsWithKey(salvage.err, "skipped")) places.push_back(line["skipped"]);
  return places;
}

// The salvage's account of a segment cut at `cut` that HEAD says reached
// `size`: the bytes missing from the file.
Json CutPlace(const std::string& segment, uint64_t cut, uint64_t size) {
  return Json(
      {{"file", segment},
       {"offset", cut},
       {"bytes", size - cut},
       {"what", "the file ends here, but HEAD says the log reaches offset " + std::to_string(size) +
                    " of segment 0: it was cut (acknowledged events are lost)"}});
}

// H3, row 54: `truncate -s 1700000` of a 3.4 MB segment: cut in the middle
// of a record, then exactly at a record's start (where the first cut's
// record began), which leaves no partial record for the salvage to find:
// it used to exit 0 there, a "backup" missing half the store.
TEST_F(DamageTest, SegmentCutMidLogIsRefusedByEveryCommand) {
  const std::string db = MakeStore("db");
  const std::string segment = db + "/log/00000000.seg";
  const uint64_t size = fs::file_size(segment);
  fs::resize_file(segment, size / 2);
  ExpectRefusedEverywhere(db, segment + " ends at offset " + std::to_string(size / 2) + ", but " +
                                  db + "/index/MANIFEST says its records reach offset " +
                                  std::to_string(size) + ": the file was cut" + kLost);
  std::vector<std::string> saved;
  std::vector<Json> places = SalvageSkips(cli_, db, &saved);
  ASSERT_EQ(places.size(), 2u);
  EXPECT_EQ(places[0]["what"], "record truncated");
  const uint64_t record = places[0]["offset"].get<uint64_t>();
  EXPECT_EQ(record + places[0]["bytes"].get<uint64_t>(), size / 2);
  EXPECT_EQ(places[1], CutPlace(segment, size / 2, size));
  EXPECT_EQ(saved.size() % 1000, 0u);

  const std::string at_record = MakeStore("at-record");
  const std::string segment2 = at_record + "/log/00000000.seg";
  fs::resize_file(segment2, record);
  ExpectRefusedEverywhere(at_record, segment2 + " ends at offset " + std::to_string(record) +
                                         ", but " + at_record +
                                         "/index/MANIFEST says its records reach offset " +
                                         std::to_string(size) + ": the file was cut" + kLost);
  std::vector<std::string> saved2;
  EXPECT_EQ(SalvageSkips(cli_, at_record, &saved2),
            std::vector<Json>{CutPlace(segment2, record, size)});
  EXPECT_EQ(saved2.size(), saved.size());
}

// H3, row 53: `truncate -s 5` and `-s 0` (below the segment's header).
TEST_F(DamageTest, SegmentCutBelowItsHeaderIsRefusedByEveryCommand) {
  for (uint64_t cut : {5u, 0u}) {
    SCOPED_TRACE("truncate -s " + std::to_string(cut));
    const std::string db = MakeStore("db-" + std::to_string(cut));
    const std::string segment = db + "/log/00000000.seg";
    const uint64_t size = fs::file_size(segment);
    fs::resize_file(segment, cut);
    ExpectRefusedEverywhere(db, segment + " ends at offset " + std::to_string(cut) + ", but " + db +
                                    "/index/MANIFEST says its records reach offset " +
                                    std::to_string(size) + ": the file was cut" + kLost);
    std::vector<std::string> saved;
    std::vector<Json> places = SalvageSkips(cli_, db, &saved);
    EXPECT_EQ(saved.size(), 0u);
    ASSERT_EQ(places.size(), 2u);
    EXPECT_EQ(places[0]["what"], segment + " offset 0: segment header truncated (" +
                                     std::to_string(cut) + " of 32 bytes)");
    EXPECT_EQ(places[1], CutPlace(segment, cut, size));
  }
}

// H3: a closed segment cut below its last indexed record. A scavenge rolls
// the log, so the first 10,000 events lie in a closed segment 0.
TEST_F(DamageTest, ClosedSegmentCutIsRefusedByEveryCommand) {
  const std::string db = MakeStore("db");
  RunResult scavenged = cli_.Run({"--db", db, "scavenge"});
  ASSERT_EQ(scavenged.exit_status, 0) << scavenged.err;
  RunResult more = cli_.Run({"--db", db, "import", "-"}, ImportLines(100));
  ASSERT_EQ(more.exit_status, 0) << more.err;
  ASSERT_TRUE(fs::exists(db + "/log/00000001.seg"));
  const std::string segment = db + "/log/00000000.seg";
  const uint64_t size = fs::file_size(segment);
  fs::resize_file(segment, size - 100);
  // The salvage names the record the cut went through.
  RunResult salvage = cli_.Run({"--db", db, "export", "--salvage"});
  EXPECT_EQ(salvage.exit_status, 6);
  std::vector<Json> skipped = ObjectsWithKey(salvage.err, "skipped");
  ASSERT_EQ(skipped.size(), 1u) << salvage.err;
  EXPECT_EQ(skipped[0]["skipped"]["file"], segment);
  EXPECT_EQ(skipped[0]["skipped"]["what"], "record truncated");
  const uint64_t record = skipped[0]["skipped"]["offset"].get<uint64_t>();
  EXPECT_EQ(record + skipped[0]["skipped"]["bytes"].get<uint64_t>(), size - 100);
  ExpectRefusedEverywhere(db, segment + " offset " + std::to_string(record) + ": record truncated");
}

// H3, row 62 ("gap segment"): the last of two segments deleted. Every
// command refuses; the salvage saves the first segment's events and names
// the missing one (it used to exit 0 with them, as if nothing were lost).
TEST_F(DamageTest, DeletedLastSegmentIsRefusedAndTheSalvageSaysSo) {
  const std::string db = MakeStore("db");
  ASSERT_EQ(cli_.Run({"--db", db, "scavenge"}).exit_status, 0);  // rolls the log
  ASSERT_EQ(cli_.Run({"--db", db, "import", "-"}, ImportLines(100)).exit_status, 0);
  const std::string last = db + "/log/00000001.seg";
  const uint64_t size = fs::file_size(last);
  fs::remove(last);
  ExpectRefusedEverywhere(db, last + " is missing, but " + db +
                                  "/index/MANIFEST says the log reaches offset " +
                                  std::to_string(size) + " of it" + kLost);
  std::vector<std::string> saved;
  EXPECT_EQ(
      SalvageSkips(cli_, db, &saved),
      std::vector<Json>{Json(
          {{"file", last},
           {"offset", 0},
           {"bytes", 0},
           {"what", "segment missing: HEAD says the log reaches offset " + std::to_string(size) +
                        " of segment 1 (acknowledged events are lost)"}})});
  EXPECT_EQ(saved.size(), 10000u);
}

// M3, rows 42-44: another program's directory is refused with exit 2 by
// readers and writers, and nothing in it changes (no LOCK either).
TEST_F(DamageTest, ForeignDirectoryIsRefusedAndLeftUntouched) {
  struct Foreign {
    std::string name;
    std::vector<std::pair<std::string, std::string>> files;
    std::string why;  // the message after "'<dir>' "
  };
  const std::vector<Foreign> dirs = {
      {"config", {{"config.json", "{}\n"}, {"log/notes.txt", "notes\n"}}, ""},
      {"segment", {{"log/00000000.seg", "junk\n"}}, ""},
      {"git", {{"HEAD", "ref: refs/heads/main\n"}}, ""},
      {"report", {{"HEAD", "ref: refs/heads/main\n"}, {"log/00000000.seg", "junk\n"}}, ""},
  };
  for (const Foreign& foreign : dirs) {
    SCOPED_TRACE(foreign.name);
    const std::string dir = cli_.Path(foreign.name);
    for (const auto& [path, bytes] : foreign.files) {
      fs::create_directories(fs::path(dir + "/" + path).parent_path());
      WriteFile(dir + "/" + path, bytes);
    }
    const std::map<std::string, std::string> before = Snapshot(dir);
    std::string message;
    for (const std::vector<std::string>& command : EveryCommand()) {
      std::vector<std::string> args = {"--db", dir};
      args.insert(args.end(), command.begin(), command.end());
      RunResult run = cli_.Run(args, "{\"stream\":\"x\",\"type\":\"T\"}\n");
      EXPECT_EQ(run.exit_status, 2) << command[0] << ": " << run.err;
      EXPECT_EQ(run.out, "") << command[0];
      EXPECT_EQ(e2e::ErrorWithoutMessage(run), Json::parse(R"({"error":"invalid_argument"})"))
          << command[0];
      if (message.empty()) message = e2e::ErrorMessage(run);
      EXPECT_EQ(e2e::ErrorMessage(run), message) << command[0];
    }
    EXPECT_TRUE(message.starts_with("'" + dir + "' is not")) << message;
    EXPECT_NE(message.find("is not a Cairn store"), std::string::npos) << message;
    EXPECT_TRUE(Snapshot(dir) == before) << "the foreign directory changed";
  }
}

// M3: an empty directory still becomes a store.
TEST_F(DamageTest, EmptyDirectoryBecomesAStore) {
  const std::string dir = cli_.Path("empty");
  fs::create_directories(dir);
  RunResult run = cli_.Run({"--db", dir, "append", "s", "--type", "T"});
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_EQ(run.out, "{\"stream\":\"s\",\"revision\":0,\"position\":0}\n");
}

// M5, rows 57-58: two flipped bytes in the log and `rm -rf index`: the
// store does not open, verify lists both places, export --salvage writes
// every other event (exit 6, each skipped place on stderr), and importing
// the salvage into a new store restores exactly those events.
TEST_F(DamageTest, VerifyListsEveryDamagedPlaceAndSalvageSavesTheRest) {
  const std::string db = MakeStore("db");
  const std::string original = cli_.Run({"--db", db, "export"}).out;
  const std::string segment = db + "/log/00000000.seg";
  const uint64_t size = fs::file_size(segment);
  const uint64_t flips[] = {size / 4, size * 3 / 4};
  for (uint64_t at : flips) FlipByte(segment, at);
  fs::remove_all(db + "/index");

  RunResult salvage = cli_.Run({"--db", db, "export", "--salvage"});
  EXPECT_EQ(salvage.exit_status, 6);
  std::vector<Json> skipped = ObjectsWithKey(salvage.err, "skipped");
  ASSERT_EQ(skipped.size(), 2u) << salvage.err;
  for (size_t i = 0; i < 2; ++i) {
    const Json& place = skipped[i]["skipped"];
    EXPECT_EQ(place["file"], segment);
    EXPECT_EQ(place["what"], "record checksum mismatch");
    const uint64_t offset = place["offset"].get<uint64_t>();
    EXPECT_LE(offset, flips[i]);
    EXPECT_GT(offset + place["bytes"].get<uint64_t>(), flips[i]);
  }
  std::vector<Json> errors = ObjectsWithKey(salvage.err, "error");
  ASSERT_EQ(errors.size(), 1u) << salvage.err;
  EXPECT_EQ(
      errors[0],
      Json::parse(
          R"({"error":"corruption","message":"the log is damaged: 8000 readable events were written, the places listed above were skipped","hint":"`cairn import` the saved lines into a new store; lines restore their revisions and positions"})"));
  // The salvage is the original export without two records of 1,000
  // events, in order.
  const std::vector<std::string> kept = e2e::SplitLines(salvage.out);
  const std::vector<std::string> all = e2e::SplitLines(original);
  ASSERT_EQ(kept.size(), 8000u);
  size_t k = 0, gaps = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (k < kept.size() && all[i] == kept[k]) {
      ++k;
    } else if (i == 0 || (k < kept.size() && all[i - 1] == kept[k - 1])) {
      ++gaps;
    }
  }
  EXPECT_EQ(k, kept.size()) << "a salvaged line is not in the original export";
  EXPECT_EQ(gaps, 2u);

  RunResult verified = cli_.Run({"--db", db, "verify"});
  EXPECT_EQ(verified.exit_status, 6);
  Json report = ParseObject(verified.out);
  EXPECT_EQ(report["opens"], false);
  EXPECT_EQ(report["events"], 8000);
  ASSERT_EQ(report["problems"].size(), 3u) << verified.out;
  const std::string first_damage = segment + " offset " + skipped[0]["skipped"]["offset"].dump() +
                                   ": record checksum mismatch; it lies below the durable end "
                                   "the writer recorded in HEAD: the log is damaged in the middle";
  EXPECT_EQ(report["problems"][0]["what"], "the store does not open: " + first_damage);
  for (size_t i = 0; i < 2; ++i) {
    const Json& place = skipped[i]["skipped"];
    EXPECT_EQ(report["problems"][i + 1],
              Json::parse("{\"file\":" + Json(segment).dump() + ",\"offset\":" +
                          place["offset"].dump() + ",\"what\":\"record checksum mismatch (" +
                          place["bytes"].dump() + " bytes hold no whole record)\"}"));
  }
  // Every command of the damaged store says the same, with the hint; the
  // hint of verify's own errors never sends the user to verify.
  RunResult read = cli_.Run({"--db", db, "read", "acct-1"});
  EXPECT_EQ(read.exit_status, 6);
  EXPECT_EQ(ParseObject(read.err)["message"], first_damage);
  EXPECT_EQ(ParseObject(read.err)["hint"], kHint);

  const std::string saved = cli_.Path("saved.jsonl");
  WriteFile(saved, salvage.out);
  const std::string copy = cli_.Path("copy");
  RunResult restored = cli_.Run({"--db", copy, "import", saved});
  EXPECT_EQ(restored.exit_status, 0) << restored.err;
  EXPECT_EQ(ParseObject(restored.out)["imported"], 8000);
  EXPECT_EQ(cli_.Run({"--db", copy, "export"}).out, salvage.out);
}

// L2, row 61: damage in index/positions.idx is named there.
TEST_F(DamageTest, VerifyNamesPositionsIndexForItsDamage) {
  const std::string db = MakeStore("db");
  // Entry 5 (16-byte header, 16 bytes per entry): its address, low byte.
  FlipByte(db + "/index/positions.idx", 16 + 5 * 16 + 8);
  RunResult verified = cli_.Run({"--db", db, "verify"});
  EXPECT_EQ(verified.exit_status, 6);
  Json report = ParseObject(verified.out);
  EXPECT_EQ(report["ok"], false);
  ASSERT_EQ(report["problems"].size(), 1u) << verified.out;
  EXPECT_EQ(report["problems"][0]["file"], db + "/index/positions.idx");
  EXPECT_EQ(report["problems"][0]["offset"], 16 + 5 * 16);
  EXPECT_TRUE(report["problems"][0]["what"].get<std::string>().starts_with(
      "entry 5 names position 5000 at " + db + "/log/00000000.seg offset "))
      << verified.out;
}

// L3, row 59: damage to a derived index file (MANIFEST, a run's header)
// stops readers and the writer with the hint that removing index/ rebuilds
// it; after `rm -rf index` the next writer does, and nothing is lost.
TEST_F(DamageTest, IndexDamageHintsAtRebuildingTheIndex) {
  for (const std::string file : {"MANIFEST", "00000000.run"}) {
    SCOPED_TRACE(file);
    const std::string db = MakeStore("db-" + file);
    const std::string original = cli_.Run({"--db", db, "export"}).out;
    FlipByte(db + "/index/" + file, file == "MANIFEST" ? 10 : 0);
    for (const std::vector<std::string>& command : std::vector<std::vector<std::string>>{
             {"read", "acct-1"}, {"append", "s", "--type", "T"}}) {
      std::vector<std::string> args = {"--db", db};
      args.insert(args.end(), command.begin(), command.end());
      RunResult run = cli_.Run(args);
      EXPECT_EQ(run.exit_status, 6) << command[0] << ": " << run.err;
      Json error = ParseObject(run.err);
      EXPECT_EQ(error["error"], "corruption");
      EXPECT_NE(error["message"].get<std::string>().find(db + "/index/" + file), std::string::npos)
          << error["message"];
      EXPECT_EQ(error["hint"], kHint);
    }
    fs::remove_all(db + "/index");
    RunResult append = cli_.Run({"--db", db, "append", "s", "--type", "T"});
    EXPECT_EQ(append.exit_status, 0) << append.err;
    EXPECT_EQ(append.out, "{\"stream\":\"s\",\"revision\":0,\"position\":10000}\n");
    RunResult verified = cli_.Run({"--db", db, "verify"});
    EXPECT_EQ(verified.exit_status, 0) << verified.out;
    const std::string now = cli_.Run({"--db", db, "export", "--from", "0"}).out;
    EXPECT_TRUE(now.starts_with(original)) << "events were lost in the rebuild";
  }
}

// L8, row 89: `tail --all` runs; the store directory is deleted and created
// again by three appends; the tail ends with "was replaced" (exit 1), never
// with a claim of damage.
TEST_F(DamageTest, TailOfAReplacedStoreSaysSo) {
  const std::string db = cli_.Path("db");
  ASSERT_EQ(cli_.Run({"--db", db, "append", "s", "--type", "T"}).exit_status, 0);
  pid_t tail = cli_.Start({"--db", db, "tail", "--all"}, "/dev/null", "tail");
  e2e::ChildGuard guard(tail);
  // The tail has printed the one event: it follows the store.
  ASSERT_EQ(e2e::SplitLines(cli_.WaitForLines(tail, "tail", 1, std::chrono::seconds(60))).size(),
            1u);
  fs::remove_all(db);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(cli_.Run({"--db", db, "append", "s", "--type", "T"}).exit_status, 0);
  }
  // Bounded wait for the tail to notice and exit (it polls the store).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(tail), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == tail) {
      break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "tail did not exit";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  guard.Release();
  RunResult done = cli_.Wait(tail, "tail");
  EXPECT_EQ(done.exit_status, 1) << done.err;
  EXPECT_EQ(e2e::SplitLines(done.out).size(), 1u) << done.out;
  EXPECT_EQ(e2e::ErrorWithoutMessage(done), Json::parse(R"({"error":"failed_precondition"})"));
  EXPECT_TRUE(e2e::ErrorMessage(done).starts_with("the store " + db +
                                                  " was replaced since this process opened it ("))
      << done.err;
}

}  // namespace
}  // namespace cairn::hostile
