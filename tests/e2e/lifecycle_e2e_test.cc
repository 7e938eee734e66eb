// End-to-end tests of the stream-lifecycle commands of `cairn` (streams,
// metadata, delete, count), of read-all of one category or one type
// (retention and deletes applied), and of export/import re-creating
// metadata and tombstones. Each test runs the real binary on fresh store
// directories and checks exact stdout, stderr and exit status.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/e2e/cli_runner.h"
#include "tests/e2e/json_checks.h"

namespace cairn::e2e {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kTombstoneRevision[] = "9223372036854775807";

// The id of the seeded event at position `position`.
std::string SeedId(uint64_t position) {
  char id[40];
  std::snprintf(id, sizeof id, "6f1c2a3b-0000-4000-8000-0000000002%02d",
                static_cast<int>(position));
  return id;
}

struct SeedEvent {
  const char* stream;
  const char* type;
};

// Imported by Seed(); the index is the position, the data {"n":position}.
constexpr SeedEvent kSeed[] = {
    {"account-1", "Opened"},    {"account-1", "Deposited"}, {"account-1", "Deposited"},
    {"order-1", "OrderPlaced"}, {"account-2", "Opened"},    {"account-2", "Deposited"},
    {"plain", "Noted"},         {"account-3", "Opened"},    {"account-3", "Deposited"},
    {"account-4", "Opened"},
};

std::string StreamLine(const std::string& stream, uint64_t created,
                       const std::string& last_revision, uint64_t last_position,
                       uint64_t event_count, const std::string& state) {
  return "{\"stream\":\"" + stream + "\",\"created\":" + std::to_string(created) +
         ",\"last_revision\":" + last_revision +
         ",\"last_position\":" + std::to_string(last_position) +
         ",\"event_count\":" + std::to_string(event_count) + ",\"state\":\"" + state + "\"}\n";
}

// The `streams` line of each stream of the seeded store (see Seed()).
std::string SeededLine(const std::string& stream) {
  if (stream == "account-1") return StreamLine(stream, 0, "2", 2, 2, "live");
  if (stream == "order-1") return StreamLine(stream, 3, "0", 3, 1, "live");
  if (stream == "account-2") return StreamLine(stream, 4, "1", 5, 2, "live");
  if (stream == "plain") return StreamLine(stream, 6, "0", 6, 1, "live");
  if (stream == "account-3") {
    return StreamLine(stream, 7, kTombstoneRevision, 11, 0, "tombstoned");
  }
  if (stream == "account-4") {
    return StreamLine(stream, 9, "0", 9, 0, "soft_deleted");
  }
  ADD_FAILURE() << "not a seeded stream: " << stream;
  return "";
}

// The `streams` lines of `streams`, in the order given.
std::string Seeded(const std::vector<std::string>& streams) {
  std::string out;
  for (const std::string& stream : streams) out += SeededLine(stream);
  return out;
}

// The positions of the events of a read's output (one JSON line each).
std::vector<uint64_t> Positions(const std::string& out) {
  std::vector<uint64_t> positions;
  for (const std::string& line : SplitLines(out)) {
    positions.push_back(Json::parse(line)["position"].get<uint64_t>());
  }
  return positions;
}

class LifecycleTest : public ::testing::Test {
 protected:
  RunResult Cairn(const std::vector<std::string>& args, const std::string& input = "") {
    return cli_.RunDb("db", args, input);
  }

  // Runs `cairn --db db args` and expects exit 0, no stderr and `out`.
  void ExpectOut(const std::vector<std::string>& args, const std::string& out) {
    RunResult result = Cairn(args);
    EXPECT_EQ(result.exit_status, 0) << Shown(args) << result.err;
    EXPECT_EQ(result.err, "") << Shown(args);
    EXPECT_EQ(result.out, out) << Shown(args);
  }

  // Runs `cairn --db <db> args` and expects `exit_status`, no stdout and the
  // error object `error` (without its message) on stderr. Returns the run.
  RunResult ExpectError(const std::vector<std::string>& args, int exit_status, const char* error,
                        const std::string& db = "db") {
    RunResult result = cli_.RunDb(db, args);
    EXPECT_EQ(result.exit_status, exit_status) << Shown(args) << result.err;
    EXPECT_EQ(result.out, "") << Shown(args);
    EXPECT_EQ(ErrorWithoutMessage(result), Json::parse(error)) << Shown(args);
    return result;
  }

  static std::string Shown(const std::vector<std::string>& args) {
    std::string shown = "cairn";
    for (const std::string& arg : args) shown += " " + arg;
    return shown + ": ";
  }

  // Positions 0-9: kSeed (imported); 10: metadata of account-1 ($maxCount 2,
  // so revision 0 is hidden from reads); 11: account-3 tombstoned; 12:
  // account-4 soft-deleted.
  void Seed() {
    std::string input;
    for (uint64_t p = 0; p < std::size(kSeed); ++p) {
      input += "{\"stream\":\"" + std::string(kSeed[p].stream) + "\",\"type\":\"" + kSeed[p].type +
               "\",\"id\":\"" + SeedId(p) + "\",\"data\":{\"n\":" + std::to_string(p) + "}}\n";
    }
    RunResult imported = Cairn({"import"}, input);
    ASSERT_EQ(imported.exit_status, 0) << imported.err;
    ExpectOut({"metadata", "account-1", "--set", R"({"owner":"ann","$maxCount":2})"},
              "{\"stream\":\"account-1\",\"metadata_revision\":0,"
              "\"position\":10}\n");
    ExpectOut({"delete", "account-3", "--hard"},
              "{\"stream\":\"account-3\",\"deleted\":\"hard\","
              "\"position\":11}\n");
    ExpectOut({"delete", "account-4"},
              "{\"stream\":\"account-4\",\"deleted\":\"soft\","
              "\"position\":12}\n");
  }

  CliRunner cli_;
};

// ---- streams -------------------------------------------------------------

TEST_F(LifecycleTest, StreamsListsInCreationOrderWithStates) {
  Seed();
  ExpectOut({"streams"},
            Seeded({"account-1", "order-1", "account-2", "plain", "account-3", "account-4"}));
  ExpectOut({"streams", "--prefix", "account-"},
            Seeded({"account-1", "account-2", "account-3", "account-4"}));
  ExpectOut({"streams", "--prefix", "ac", "--live-only"}, Seeded({"account-1", "account-2"}));
  ExpectOut({"streams", "--live-only"}, Seeded({"account-1", "order-1", "account-2", "plain"}));
  // Paging: --after is the "created" of the last stream seen (exclusive).
  ExpectOut({"streams", "--limit", "2"}, Seeded({"account-1", "order-1"}));
  ExpectOut({"streams", "--after", "3", "--limit", "2"}, Seeded({"account-2", "plain"}));
  ExpectOut({"streams", "--after", "6"}, Seeded({"account-3", "account-4"}));
  ExpectOut({"streams", "--after", "9"}, "");
  ExpectOut({"streams", "--limit", "0"}, "");
  ExpectOut({"streams", "--prefix", "nope"}, "");
}

TEST_F(LifecycleTest, StreamsPagesThroughMoreStreamsThanOnePage) {
  constexpr int kStreams = 2050;  // three pages of the engine's listing
  std::string input;
  for (int i = 0; i < kStreams; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "s-%04d", i);
    input += "{\"stream\":\"" + std::string(name) + "\",\"type\":\"T\"}\n";
  }
  RunResult imported = Cairn({"import"}, input);
  ASSERT_EQ(imported.exit_status, 0) << imported.err;
  auto lines = [](int first, int last) {
    std::string out;
    for (int i = first; i <= last; ++i) {
      char name[16];
      std::snprintf(name, sizeof name, "s-%04d", i);
      out += StreamLine(name, i, "0", i, 1, "live");
    }
    return out;
  };
  ExpectOut({"streams"}, lines(0, kStreams - 1));
  ExpectOut({"streams", "--limit", "1500"}, lines(0, 1499));
  ExpectOut({"streams", "--after", "999", "--limit", "1001"}, lines(1000, 2000));
  ExpectOut({"streams", "--after", "1999"}, lines(2000, kStreams - 1));
  ExpectOut({"streams", "--prefix", "s-20"}, lines(2000, kStreams - 1));
}

TEST_F(LifecycleTest, StreamsNeedsAnExistingStoreAndNumbers) {
  ExpectError({"streams"}, 4, R"({"error":"not_found"})", "missing");
  EXPECT_FALSE(std::filesystem::exists(cli_.Path("missing")));
  ExpectError({"streams", "--limit", "many"}, 2, R"({"error":"invalid_argument"})");
  ExpectError({"streams", "--after", "soon"}, 2, R"({"error":"invalid_argument"})");
}

// ---- metadata ------------------------------------------------------------

TEST_F(LifecycleTest, MetadataPrintsTheDocumentAndItsRevision) {
  Seed();
  ExpectOut({"metadata", "account-1"},
            "{\"stream\":\"account-1\",\"revision\":0,"
            "\"metadata\":{\"$maxCount\":2,\"owner\":\"ann\"}}\n");
  // A soft delete sets "$tb" past the last revision.
  ExpectOut({"metadata", "account-4"},
            "{\"stream\":\"account-4\",\"revision\":0,"
            "\"metadata\":{\"$tb\":1}}\n");
  ExpectOut({"metadata", "order-1"},
            "{\"stream\":\"order-1\",\"revision\":null,\"metadata\":{}}\n");
  ExpectOut({"metadata", "no-such-stream"},
            "{\"stream\":\"no-such-stream\",\"revision\":null,"
            "\"metadata\":{}}\n");
  // "$maxCount":2 hides revision 0 from reads, not from $all.
  EXPECT_EQ(Positions(Cairn({"read", "account-1"}).out), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(Positions(Cairn({"read-all", "--stream-prefix", "account-1"}).out),
            (std::vector<uint64_t>{0, 1, 2}));
}

TEST_F(LifecycleTest, MetadataSetHonoursTheExpectedRevision) {
  Seed();
  ExpectError({"metadata", "account-1", "--set", "{}", "--expect", "5"}, 3,
              R"({"error":"wrong_expected_revision","stream":"$$account-1",)"
              R"("expected":"5","actual":0})");
  ExpectError({"metadata", "account-1", "--set", "{}", "--expect", "no-stream"}, 3,
              R"({"error":"wrong_expected_revision","stream":"$$account-1",)"
              R"("expected":"no_stream","actual":0})");
  ExpectOut({"metadata", "account-1", "--set", R"({"owner":"bob"})", "--expect", "0"},
            "{\"stream\":\"account-1\",\"metadata_revision\":1,"
            "\"position\":13}\n");
  // The new document replaces the old one at once: nothing hidden now.
  EXPECT_EQ(Positions(Cairn({"read", "account-1"}).out), (std::vector<uint64_t>{0, 1, 2}));
  ExpectOut(
      {"metadata", "order-1", "--set", R"({"tags":["x"],"$maxAge":3600})", "--expect", "no-stream"},
      "{\"stream\":\"order-1\",\"metadata_revision\":0,"
      "\"position\":14}\n");
  ExpectOut({"metadata", "order-1"},
            "{\"stream\":\"order-1\",\"revision\":0,"
            "\"metadata\":{\"$maxAge\":3600,\"tags\":[\"x\"]}}\n");
  // Default expectation: any.
  ExpectOut({"metadata", "order-1", "--set", "{}"},
            "{\"stream\":\"order-1\",\"metadata_revision\":1,"
            "\"position\":15}\n");
}

TEST_F(LifecycleTest, MetadataErrors) {
  struct Bad {
    const char* json;
    const char* named;  // what the message must name
  };
  const Bad cases[] = {
      {"{not json", "not valid JSON"},       {"[1]", "must be a JSON object"},
      {R"({"$maxCount":0})", "'$maxCount'"}, {R"({"$maxAge":-1})", "'$maxAge'"},
      {R"({"$tb":"x"})", "'$tb'"},
  };
  for (const Bad& c : cases) {
    // Checked before the store opens: no store is created.
    RunResult result = ExpectError({"metadata", "s", "--set", c.json}, 2,
                                   R"({"error":"invalid_argument"})", "none");
    EXPECT_EQ(ErrorMessage(result).rfind("--set: ", 0), 0u) << ErrorMessage(result);
    EXPECT_NE(ErrorMessage(result).find(c.named), std::string::npos) << ErrorMessage(result);
  }
  EXPECT_FALSE(std::filesystem::exists(cli_.Path("none")));
  ExpectError({"metadata", "s"}, 4, R"({"error":"not_found"})", "none");

  Seed();
  ExpectError({"metadata", "account-1", "--expect", "0"}, 2, R"({"error":"invalid_argument"})");
  ExpectError({"metadata", "account-1", "--set", "{}", "--expect", "maybe"}, 2,
              R"({"error":"invalid_argument"})");
  ExpectError({"metadata"}, 2, R"({"error":"invalid_argument"})");
  ExpectError({"metadata", "account-3"}, 5, R"({"error":"stream_deleted"})");
  ExpectError({"metadata", "account-3", "--set", "{}"}, 5, R"({"error":"stream_deleted"})");
  ExpectError({"metadata", "$x"}, 2, R"({"error":"invalid_argument"})");
  ExpectError({"metadata", "$x", "--set", "{}"}, 2, R"({"error":"invalid_argument"})");
}

// ---- delete --------------------------------------------------------------

TEST_F(LifecycleTest, SoftDeleteHidesTheStreamUntilItIsRecreated) {
  Seed();
  ExpectError({"delete", "account-2", "--expect", "0"}, 3,
              R"({"error":"wrong_expected_revision","stream":"account-2",)"
              R"("expected":"0","actual":1})");
  ExpectOut({"delete", "account-2", "--expect", "1"},
            "{\"stream\":\"account-2\",\"deleted\":\"soft\","
            "\"position\":13}\n");
  ExpectError({"read", "account-2"}, 4, R"({"error":"not_found"})");
  ExpectOut({"streams", "--prefix", "account-2"},
            StreamLine("account-2", 4, "1", 5, 0, "soft_deleted"));
  ExpectOut({"metadata", "account-2"},
            "{\"stream\":\"account-2\",\"revision\":0,"
            "\"metadata\":{\"$tb\":2}}\n");
  // Already deleted, never existed, or not existing as expected: not found.
  ExpectError({"delete", "account-2"}, 4, R"({"error":"not_found"})");
  ExpectError({"delete", "never-1"}, 4, R"({"error":"not_found"})");
  ExpectError({"delete", "never-1", "--expect", "exists"}, 4, R"({"error":"not_found"})");
  // An append recreates it; revisions continue after the old last one.
  ExpectOut({"append", "account-2", "--type", "Reopened", "--expect", "no-stream"},
            "{\"stream\":\"account-2\",\"revision\":2,\"position\":14}\n");
  EXPECT_EQ(Positions(Cairn({"read", "account-2"}).out), (std::vector<uint64_t>{14}));
  ExpectOut({"streams", "--prefix", "account-2"}, StreamLine("account-2", 4, "2", 14, 1, "live"));
}

TEST_F(LifecycleTest, HardDeleteIsForever) {
  Seed();
  ExpectError({"delete", "account-2", "--hard", "--expect", "no-stream"}, 3,
              R"({"error":"wrong_expected_revision","stream":"account-2",)"
              R"("expected":"no_stream","actual":1})");
  ExpectOut({"delete", "account-2", "--hard", "--expect", "exists"},
            "{\"stream\":\"account-2\",\"deleted\":\"hard\","
            "\"position\":13}\n");
  const char* kDeleted = R"({"error":"stream_deleted"})";
  ExpectError({"read", "account-2"}, 5, kDeleted);
  ExpectError({"append", "account-2", "--type", "T"}, 5, kDeleted);
  ExpectError({"delete", "account-2"}, 5, kDeleted);
  ExpectError({"delete", "account-2", "--hard"}, 5, kDeleted);
  ExpectError({"metadata", "account-2"}, 5, kDeleted);
  ExpectError({"count", "--stream", "account-2"}, 5, kDeleted);
  ExpectOut({"streams", "--prefix", "account-2"},
            StreamLine("account-2", 4, kTombstoneRevision, 13, 0, "tombstoned"));
  // $all keeps the events and shows the tombstones (a type read of
  // "$streamDeleted" would hide them with their streams).
  RunResult tombstones = Cairn({"read-all", "--type-prefix", "$streamDeleted"});
  EXPECT_EQ(tombstones.exit_status, 0) << tombstones.err;
  std::vector<std::string> lines = SplitLines(tombstones.out);
  ASSERT_EQ(lines.size(), 2u) << tombstones.out;
  for (size_t i = 0; i < lines.size(); ++i) {
    Json event = Json::parse(lines[i]);
    EXPECT_EQ(event["stream"], i == 0 ? "account-3" : "account-2");
    EXPECT_EQ(event["revision"].dump(), kTombstoneRevision);
    EXPECT_EQ(event["position"], i == 0 ? 11 : 13);
    EXPECT_EQ(event["data"], Json::object());
  }
  // A stream that never existed can be tombstoned; its name is then taken
  // forever, and it is listed as tombstoned (its tombstone is its first
  // stored event, as for a stream whose events a scavenge removed).
  ExpectOut({"delete", "ghost-1", "--hard"},
            "{\"stream\":\"ghost-1\",\"deleted\":\"hard\",\"position\":14}\n");
  ExpectError({"append", "ghost-1", "--type", "T"}, 5, kDeleted);
  ExpectOut({"streams", "--prefix", "ghost"},
            "{\"stream\":\"ghost-1\",\"created\":14,\"last_revision\":9223372036854775807,"
            "\"last_position\":14,\"event_count\":0,\"state\":\"tombstoned\"}\n");
}

TEST_F(LifecycleTest, DeleteUsageErrors) {
  ExpectError({"delete"}, 2, R"({"error":"invalid_argument"})");
  ExpectError({"delete", "s", "--expect", "maybe"}, 2, R"({"error":"invalid_argument"})");
  RunResult no_db = cli_.Run({"delete", "s"});
  EXPECT_EQ(no_db.exit_status, 2);
  EXPECT_EQ(ErrorWithoutMessage(no_db), Json::parse(R"({"error":"invalid_argument"})"));
  ExpectError({"delete", "$$s"}, 2, R"({"error":"invalid_argument"})");
}

// ---- count ---------------------------------------------------------------

TEST_F(LifecycleTest, CountsAllAStreamOrACategory) {
  Seed();
  // $all: 10 events, 2 metadata events, 1 tombstone.
  ExpectOut({"count"}, "{\"count\":13}\n");
  ExpectOut({"count", "--stream", "account-1"}, "{\"count\":2,\"stream\":\"account-1\"}\n");
  // account-1: 2 visible, account-2: 2; account-3 and account-4 deleted.
  ExpectOut({"count", "--category", "account"}, "{\"count\":4,\"category\":\"account\"}\n");
  ExpectOut({"count", "--category", "none"}, "{\"count\":0,\"category\":\"none\"}\n");
  ExpectError({"count", "--stream", "account-3"}, 5, R"({"error":"stream_deleted"})");
  ExpectError({"count", "--stream", "account-4"}, 4, R"({"error":"not_found"})");
  ExpectError({"count", "--stream", "nope"}, 4, R"({"error":"not_found"})");
  ExpectError({"count", "--category", "a-b"}, 2, R"({"error":"invalid_argument"})");
  ExpectError({"count", "--stream", "s", "--category", "c"}, 2, R"({"error":"invalid_argument"})");
  ExpectError({"count"}, 4, R"({"error":"not_found"})", "missing");
  EXPECT_FALSE(std::filesystem::exists(cli_.Path("missing")));
}

// ---- read-all of one category or one type --------------------------------

// read-all with exactly one --category is a category read, otherwise with
// exactly one --type an event-type read: by the engine's specification they
// apply retention ($maxCount, $tb) and hide soft-deleted and tombstoned
// streams, tombstones included, where the $all scan (any other filter)
// shows every stored event.
TEST_F(LifecycleTest, ReadAllOfOneCategoryOrTypeAppliesRetentionAndDeletes) {
  Seed();
  // 13: order-1 truncated before revision 1 (hides position 3);
  // 14: ghost-1 tombstoned before it ever held an event.
  ExpectOut({"metadata", "order-1", "--set", R"({"$tb":1})"},
            "{\"stream\":\"order-1\",\"metadata_revision\":0,"
            "\"position\":13}\n");
  ExpectOut({"delete", "ghost-1", "--hard"},
            "{\"stream\":\"ghost-1\",\"deleted\":\"hard\",\"position\":14}\n");
  struct Case {
    std::vector<std::string> args;
    std::vector<uint64_t> positions;
  };
  const Case cases[] = {
      // Category reads: account-1 revision 0 ($maxCount 2), account-3
      // (tombstoned, with its tombstone) and account-4 (soft-deleted) hidden.
      {{"--category", "account"}, {1, 2, 4, 5}},
      {{"--category", "account", "--backwards", "--limit", "2"}, {5, 4}},
      {{"--category", "account", "--from", "2", "--limit", "2"}, {2, 4}},
      {{"--category", "account", "--type", "Opened"}, {4}},
      {{"--category", "order"}, {}},  // truncated: nothing left to show
      {{"--category", "ghost"}, {}},
      {{"--category", "$$account"}, {10, 12}},  // system streams: never hidden
      // Type reads (also with several categories: the type read narrowed).
      {{"--type", "Opened"}, {4}},
      {{"--type", "Deposited", "--from", "2"}, {2, 5}},
      {{"--type", "Opened", "--category", "account", "--category", "plain"}, {4}},
      {{"--type", "$streamDeleted"}, {}},
      {{"--type", "$metadata"}, {10, 12, 13}},
      // $all scans of the same events show everything stored.
      {{}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}},
      {{"--stream-prefix", "account-"}, {0, 1, 2, 4, 5, 7, 8, 9, 11}},
      {{"--stream-prefix", "account-", "--type-regex", "^Opened$"}, {0, 4, 7, 9}},
      {{"--stream-prefix", "order-"}, {3}},
      {{"--stream-prefix", "ghost-"}, {14}},
      {{"--category", "account", "--category", "order"}, {0, 1, 2, 3, 4, 5, 7, 8, 9, 11}},
      {{"--type", "Opened", "--type", "Noted"}, {0, 4, 6, 7, 9}},
      {{"--type-prefix", "$streamDeleted"}, {11, 14}},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"read-all"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    RunResult read = Cairn(args);
    EXPECT_EQ(read.exit_status, 0) << Shown(args) << read.err;
    EXPECT_EQ(read.err, "") << Shown(args);
    EXPECT_EQ(Positions(read.out), c.positions) << Shown(args);
  }
  // The category read prints the same lines as the stream reads.
  RunResult category = Cairn({"read-all", "--category", "account"});
  EXPECT_EQ(category.out, Cairn({"read", "account-1"}).out + Cairn({"read", "account-2"}).out);
  // A category is non-empty and has no '-': the engine's invalid_argument.
  ExpectError({"read-all", "--category", "a-b"}, 2, R"({"error":"invalid_argument"})");
  ExpectError({"read-all", "--category", ""}, 2, R"({"error":"invalid_argument"})");
}

// A category or type read goes through the index whatever the store holds:
// with a soft-deleted stream in the category and one corrupt event outside
// the read, it succeeds, where every $all scan reaches the corrupt event
// (corruption, exit 6).
TEST_F(LifecycleTest, ReadAllOfOneCategoryOrTypeNeverScansAll) {
  const std::string marker = "CORRUPTME-CORRUPTME";
  auto run = [&](const std::vector<std::string>& args) {
    RunResult result = Cairn(args);
    ASSERT_EQ(result.exit_status, 0) << Shown(args) << result.err;
  };
  run({"append", "account-1", "--type", "Opened", "--id", SeedId(0)});
  run({"append", "account-2", "--type", "Opened", "--id", SeedId(1)});
  run({"append", "other-1", "--type", "Other"});
  run({"append", "other-1", "--type", "Other", "--data", "\"" + marker + "\""});
  run({"append", "other-1", "--type", "Other"});
  run({"append", "account-1", "--type", "Deposited", "--id", SeedId(5)});
  run({"delete", "account-2"});
  bool flipped = false;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(cli_.Path("db"))) {
    if (!entry.is_regular_file()) continue;
    std::string bytes = ReadWholeFile(entry.path());
    size_t at = bytes.find(marker);
    if (at == std::string::npos) continue;
    bytes[at + 3] ^= 0x20;
    std::ofstream(entry.path(), std::ios::binary | std::ios::trunc) << bytes;
    flipped = true;
  }
  ASSERT_TRUE(flipped) << "marker not found in the store's files";

  auto line = [](int revision, int position, const char* type, uint64_t id) {
    return "{\"stream\":\"account-1\",\"revision\":" + std::to_string(revision) +
           ",\"position\":" + std::to_string(position) + ",\"id\":\"" + SeedId(id) +
           "\",\"type\":\"" + type + "\",\"created\":\"T\",\"data\":{},\"metadata\":null}\n";
  };
  const std::vector<std::pair<std::vector<std::string>, std::string>> reads = {
      {{"read-all", "--category", "account"}, line(0, 0, "Opened", 0) + line(1, 5, "Deposited", 5)},
      {{"read-all", "--type", "Opened"}, line(0, 0, "Opened", 0)},
  };
  for (const auto& [args, expected] : reads) {
    RunResult indexed = Cairn(args);
    EXPECT_EQ(indexed.exit_status, 0) << Shown(args) << indexed.err;
    EXPECT_EQ(indexed.err, "") << Shown(args);
    EXPECT_EQ(MaskCreated(indexed.out), expected) << Shown(args);
  }
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"read-all"},
           {"read-all", "--stream-prefix", "account-"},
           {"read-all", "--type", "Opened", "--type", "Deposited"}}) {
    RunResult scan = Cairn(args);
    EXPECT_EQ(scan.exit_status, 6) << Shown(args) << scan.err;
    EXPECT_EQ(scan.out.find(marker), std::string::npos) << Shown(args);
    EXPECT_EQ(ErrorWithoutMessage(scan), Json::parse(R"({"error":"corruption"})")) << Shown(args);
  }
}

// ---- export / import of metadata and tombstones --------------------------

TEST_F(LifecycleTest, ExportImportRecreatesMetadataDeletesAndTombstones) {
  Seed();
  // account-4 (soft-deleted) is recreated; ghost-1 is tombstoned unborn.
  ExpectOut({"append", "account-4", "--type", "Reopened", "--id", SeedId(13)},
            "{\"stream\":\"account-4\",\"revision\":1,\"position\":13}\n");
  ExpectOut({"delete", "ghost-1", "--hard"},
            "{\"stream\":\"ghost-1\",\"deleted\":\"hard\",\"position\":14}\n");
  RunResult exported = Cairn({"export"});
  ASSERT_EQ(exported.exit_status, 0) << exported.err;
  const std::string file = cli_.Path("export.jsonl");
  std::ofstream(file) << exported.out;

  // One batch: every line, metadata and tombstones too, is restored as the
  // event it was.
  RunResult imported = cli_.RunDb("copy", {"import", file});
  EXPECT_EQ(imported.exit_status, 0) << imported.err;
  EXPECT_EQ(imported.err, "");
  EXPECT_EQ(imported.out,
            "{\"imported\":15,\"lines\":15,\"batches\":1,"
            "\"last_position\":14}\n");

  // Byte for byte: streams, revisions, positions, ids (engine-made ones
  // too), creation times, types, data and metadata.
  RunResult copied = cli_.RunDb("copy", {"export"});
  ASSERT_EQ(copied.exit_status, 0) << copied.err;
  EXPECT_EQ(copied.out, exported.out);
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"streams"},
                                             {"metadata", "account-1"},
                                             {"metadata", "account-4"},
                                             {"read", "account-4"},
                                             {"read-all", "--type", "Deposited"},
                                             {"count"}}) {
    RunResult original = Cairn(args);
    RunResult copy = cli_.RunDb("copy", args);
    EXPECT_EQ(copy.exit_status, 0) << Shown(args) << copy.err;
    EXPECT_EQ(MaskCreated(copy.out), MaskCreated(original.out)) << Shown(args);
  }
  ExpectError({"read", "account-3"}, 5, R"({"error":"stream_deleted"})", "copy");
  ExpectError({"append", "ghost-1", "--type", "T"}, 5, R"({"error":"stream_deleted"})", "copy");

  // A second import of the same file (an import run again after it was
  // interrupted) finds every line stored: duplicates, nothing written.
  RunResult again = cli_.RunDb("copy", {"import", file});
  EXPECT_EQ(again.exit_status, 0) << again.err;
  EXPECT_EQ(again.out,
            "{\"imported\":0,\"lines\":15,\"batches\":1,"
            "\"last_position\":null,\"duplicates\":15}\n");
  EXPECT_EQ(cli_.RunDb("copy", {"export"}).out, exported.out);
}

TEST_F(LifecycleTest, ImportStopsAtAnEngineMadeEventItCannotRecreate) {
  const std::string bad_metadata =
      "{\"stream\":\"s\",\"type\":\"A\"}\n"
      "{\"stream\":\"s\",\"type\":\"B\"}\n"
      "{\"stream\":\"$$s\",\"type\":\"$metadata\","
      "\"data\":{\"$maxCount\":0}}\n"
      "{\"stream\":\"s\",\"type\":\"D\"}\n";
  RunResult metadata = Cairn({"import"}, bad_metadata);
  EXPECT_EQ(metadata.exit_status, 2);
  EXPECT_EQ(metadata.out,
            "{\"imported\":2,\"lines\":3,\"batches\":1,\"last_position\":1,"
            "\"stopped_at_line\":3}\n");
  EXPECT_EQ(ErrorWithoutMessage(metadata), Json::parse(R"({"error":"invalid_argument","line":3})"));
  EXPECT_EQ(ErrorMessage(metadata),
            "line 3: restored event 2 (stream '$$s'): stream metadata key '$maxCount' "
            "must be at least 1");

  const std::string twice =
      "{\"stream\":\"t\",\"type\":\"A\"}\n"
      "{\"stream\":\"t\",\"type\":\"$streamDeleted\"}\n"
      "{\"stream\":\"t\",\"type\":\"$streamDeleted\"}\n";
  RunResult tombstone = Cairn({"import"}, twice);
  EXPECT_EQ(tombstone.exit_status, 5);
  EXPECT_EQ(tombstone.out,
            "{\"imported\":2,\"lines\":3,\"batches\":1,\"last_position\":3,"
            "\"stopped_at_line\":3}\n");
  EXPECT_EQ(ErrorWithoutMessage(tombstone), Json::parse(R"({"error":"stream_deleted","line":3})"));
  EXPECT_EQ(ErrorMessage(tombstone),
            "line 3: restored event 2 (stream 't'): the stream is deleted (tombstoned): it "
            "can never be written again");

  // Metadata of a tombstoned stream, and other events in a "$$" stream.
  RunResult dead = Cairn({"import"}, "{\"stream\":\"$$t\",\"type\":\"$metadata\",\"data\":{}}\n");
  EXPECT_EQ(dead.exit_status, 5);
  EXPECT_EQ(ErrorWithoutMessage(dead), Json::parse(R"({"error":"stream_deleted","line":1})"));
  RunResult other = Cairn({"import"}, "{\"stream\":\"$$s\",\"type\":\"Other\",\"data\":{}}\n");
  EXPECT_EQ(other.exit_status, 2);
  EXPECT_EQ(ErrorWithoutMessage(other), Json::parse(R"({"error":"invalid_argument","line":1})"));
  EXPECT_EQ(Positions(Cairn({"read-all"}).out), (std::vector<uint64_t>{0, 1, 2, 3}));
}

TEST_F(LifecycleTest, HelpOfTheLifecycleCommands) {
  const std::vector<std::pair<const char*, std::vector<const char*>>> flags = {
      {"streams", {"--prefix", "--limit", "--after", "--live-only"}},
      {"metadata", {"--set", "--expect", "$maxCount", "$maxAge", "$tb"}},
      {"delete", {"--hard", "--expect"}},
      {"count", {"--stream", "--category"}},
  };
  RunResult top = cli_.Run({"--help"});
  EXPECT_EQ(top.exit_status, 0);
  for (const auto& [command, names] : flags) {
    EXPECT_NE(top.out.find(command), std::string::npos) << command;
    RunResult help = cli_.Run({command, "--help"});
    EXPECT_EQ(help.exit_status, 0) << command;
    for (const char* name : names) {
      EXPECT_NE(help.out.find(name), std::string::npos) << command << name;
    }
  }
}

}  // namespace
}  // namespace cairn::e2e
