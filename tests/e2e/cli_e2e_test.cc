// End-to-end tests of the `cairn` command: each test runs the real binary on
// a fresh store directory and checks exact stdout, stderr and exit status.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cairn/version.h"
#include "tests/e2e/cli_runner.h"
#include "tests/e2e/json_checks.h"

namespace cairn::e2e {
namespace {

using Json = nlohmann::ordered_json;

constexpr char kId1[] = "6f1c2a3b-0000-4000-8000-000000000001";
constexpr char kId2[] = "6f1c2a3b-0000-4000-8000-000000000002";

class CliTest : public ::testing::Test {
 protected:
  RunResult Append(const std::string& stream, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"append", stream, "--type", "Happened"};
    args.insert(args.end(), extra.begin(), extra.end());
    return cli_.RunDb("db", args);
  }

  CliRunner cli_;
};

TEST_F(CliTest, AppendTwiceGivesRevisionsAndPositions) {
  RunResult first = Append("s", {"--data", R"({"a":1})"});
  EXPECT_EQ(first.exit_status, 0) << first.err;
  EXPECT_EQ(first.out, "{\"stream\":\"s\",\"revision\":0,\"position\":0}\n");
  EXPECT_EQ(first.err, "");
  RunResult second = Append("s");
  EXPECT_EQ(second.exit_status, 0) << second.err;
  EXPECT_EQ(second.out, "{\"stream\":\"s\",\"revision\":1,\"position\":1}\n");
  RunResult other = Append("t", {"--expect", "no-stream"});
  EXPECT_EQ(other.exit_status, 0) << other.err;
  EXPECT_EQ(other.out, "{\"stream\":\"t\",\"revision\":0,\"position\":2}\n");
}

TEST_F(CliTest, WrongExpectedRevisionExitsThreeWithConflict) {
  ASSERT_EQ(Append("s").exit_status, 0);
  ASSERT_EQ(Append("s").exit_status, 0);
  RunResult result = Append("s", {"--expect", "5"});
  EXPECT_EQ(result.exit_status, 3);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(ErrorWithoutMessage(result),
            Json::parse(R"({"error":"wrong_expected_revision","stream":"s",)"
                        R"("expected":"5","actual":1})"));
}

TEST_F(CliTest, ExpectationsOnMissingAndExistingStreams) {
  RunResult exists = Append("s", {"--expect", "exists"});
  EXPECT_EQ(exists.exit_status, 3);
  EXPECT_EQ(ErrorWithoutMessage(exists),
            Json::parse(R"({"error":"wrong_expected_revision","stream":"s",)"
                        R"("expected":"exists","actual":null})"));
  ASSERT_EQ(Append("s", {"--expect", "no-stream"}).exit_status, 0);
  RunResult again = Append("s", {"--expect", "no-stream"});
  EXPECT_EQ(again.exit_status, 3);
  EXPECT_EQ(ErrorWithoutMessage(again),
            Json::parse(R"({"error":"wrong_expected_revision","stream":"s",)"
                        R"("expected":"no_stream","actual":0})"));
  RunResult exact = Append("s", {"--expect", "0"});
  EXPECT_EQ(exact.exit_status, 0) << exact.err;
  EXPECT_EQ(exact.out, "{\"stream\":\"s\",\"revision\":1,\"position\":1}\n");
}

TEST_F(CliTest, AppendSameIdTwiceIsDuplicate) {
  ASSERT_EQ(Append("s", {"--id", kId1}).exit_status, 0);
  RunResult again = Append("s", {"--id", kId1});
  EXPECT_EQ(again.exit_status, 0) << again.err;
  EXPECT_EQ(again.out,
            "{\"stream\":\"s\",\"revision\":0,\"position\":0,"
            "\"duplicate\":true}\n");
}

TEST_F(CliTest, BadFlagValuesAreUsageErrors) {
  struct Case {
    std::vector<std::string> flags;
    std::string message_prefix;
  };
  const Case cases[] = {
      {{"--data", "{not json"}, "--data is not valid JSON: "},
      {{"--metadata", "[1,"}, "--metadata is not valid JSON: "},
      {{"--id", "not-a-uuid"}, "--id: "},
      {{"--expect", "sometimes"}, "--expect: "},
  };
  for (const Case& c : cases) {
    RunResult result = Append("s", c.flags);
    EXPECT_EQ(result.exit_status, 2) << c.flags[0];
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(ErrorWithoutMessage(result), Json::parse(R"({"error":"invalid_argument"})"));
    EXPECT_EQ(ErrorMessage(result).rfind(c.message_prefix, 0), 0u) << ErrorMessage(result);
  }
  // Flags are checked before the store is opened: nothing was created.
  EXPECT_FALSE(std::filesystem::exists(cli_.Path("db")));
}

TEST_F(CliTest, ParseErrorsAreUsageErrors) {
  const std::vector<std::vector<std::string>> cases = {
      {"--db", cli_.Path("db"), "append", "s"},  // --type missing
      {"--db", cli_.Path("db"), "frobnicate"},
      {"--db", cli_.Path("db")},
      {"append", "s", "--type", "T"},  // --db missing
      {"--db", cli_.Path("db"), "read", "s", "--limit", "many"},
  };
  for (const auto& args : cases) {
    RunResult result = cli_.Run(args);
    EXPECT_EQ(result.exit_status, 2) << args.back();
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(ErrorWithoutMessage(result), Json::parse(R"({"error":"invalid_argument"})"));
  }
}

TEST_F(CliTest, VersionIsTheProjectVersion) {
  RunResult v = cli_.Run({"--version"});
  EXPECT_EQ(v.exit_status, 0);
  EXPECT_EQ(v.out, std::string("cairn ") + CAIRN_VERSION_STRING + "\n");
}

TEST_F(CliTest, HelpExitsZero) {
  RunResult top = cli_.Run({"--help"});
  EXPECT_EQ(top.exit_status, 0);
  for (const char* command : {"append", "import", "export", "read", "read-all", "tail", "verify",
                              "stats", "streams", "metadata", "delete", "count", "bench"}) {
    EXPECT_NE(top.out.find(command), std::string::npos) << command;
  }
  RunResult sub = cli_.Run({"append", "--help"});
  EXPECT_EQ(sub.exit_status, 0);
  EXPECT_NE(sub.out.find("--expect"), std::string::npos) << sub.out;
  RunResult read_all = cli_.Run({"read-all", "--help"});
  EXPECT_EQ(read_all.exit_status, 0);
  RunResult tail = cli_.Run({"tail", "--help"});
  EXPECT_EQ(tail.exit_status, 0);
  for (const char* flag : {"--stream-prefix", "--stream-regex", "--category", "--type-prefix",
                           "--type-regex", "--type"}) {
    EXPECT_NE(read_all.out.find(flag), std::string::npos) << flag;
    EXPECT_NE(tail.out.find(flag), std::string::npos) << flag;
  }
  for (const char* flag : {"--all", "--from", "--from-end", "--until-caught-up"}) {
    EXPECT_NE(tail.out.find(flag), std::string::npos) << flag;
  }
}

TEST_F(CliTest, ReadPrintsEventsAsJsonLines) {
  ASSERT_EQ(Append("s", {"--id", kId1, "--data", R"({ "b": 2, "a": [1, "x"] })", "--metadata",
                         R"({"user":"ann"})"})
                .exit_status,
            0);
  ASSERT_EQ(Append("s", {"--id", kId2}).exit_status, 0);
  RunResult result = cli_.RunDb("db", {"read", "s"});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(MaskCreated(result.out),
            std::string("{\"stream\":\"s\",\"revision\":0,\"position\":0,") + "\"id\":\"" + kId1 +
                "\",\"type\":\"Happened\",\"created\":\"T\","
                "\"data\":{\"b\":2,\"a\":[1,\"x\"]},"
                "\"metadata\":{\"user\":\"ann\"}}\n"
                "{\"stream\":\"s\",\"revision\":1,\"position\":1,\"id\":\"" +
                kId2 +
                "\",\"type\":\"Happened\",\"created\":\"T\","
                "\"data\":{},\"metadata\":null}\n");
}

TEST_F(CliTest, ReadDirectionFromAndLimit) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Append("s", {"--data", std::to_string(i)}).exit_status, 0);
    ASSERT_EQ(Append("t", {"--data", std::to_string(10 + i)}).exit_status, 0);
  }
  auto revisions = [](const RunResult& result, const char* key) {
    std::vector<std::pair<uint64_t, Json>> out;
    for (const std::string& line : SplitLines(result.out)) {
      Json event = Json::parse(line);
      out.emplace_back(event[key].get<uint64_t>(), event["data"]);
    }
    return out;
  };
  using Seen = std::vector<std::pair<uint64_t, Json>>;
  RunResult last = cli_.RunDb("db", {"read", "s", "--backwards", "--limit", "1"});
  EXPECT_EQ(last.exit_status, 0) << last.err;
  EXPECT_EQ(revisions(last, "revision"), (Seen{{2, 2}}));
  RunResult middle = cli_.RunDb("db", {"read", "s", "--from", "1", "--limit", "1"});
  EXPECT_EQ(revisions(middle, "revision"), (Seen{{1, 1}}));
  RunResult down = cli_.RunDb("db", {"read", "s", "--from", "1", "--backwards"});
  EXPECT_EQ(revisions(down, "revision"), (Seen{{1, 1}, {0, 0}}));
  RunResult all_last = cli_.RunDb("db", {"read-all", "--backwards", "--limit", "2"});
  EXPECT_EQ(revisions(all_last, "position"), (Seen{{5, 12}, {4, 2}}));
  RunResult all_from = cli_.RunDb("db", {"read-all", "--from", "3"});
  EXPECT_EQ(revisions(all_from, "position"), (Seen{{3, 11}, {4, 2}, {5, 12}}));
  // Global options may follow the subcommand.
  RunResult after = cli_.Run({"read", "t", "--limit", "1", "--db", cli_.Path("db")});
  EXPECT_EQ(revisions(after, "revision"), (Seen{{0, 10}}));
}

TEST_F(CliTest, ReadMissingStreamExitsFour) {
  ASSERT_EQ(Append("s").exit_status, 0);
  RunResult result = cli_.RunDb("db", {"read", "nope"});
  EXPECT_EQ(result.exit_status, 4);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(ErrorWithoutMessage(result), Json::parse(R"({"error":"not_found"})"));
}

TEST_F(CliTest, ReadOnlyCommandsDoNotCreateAStore) {
  for (const char* command : {"read-all", "export", "verify", "stats"}) {
    RunResult result = cli_.RunDb("missing", {command});
    EXPECT_EQ(result.exit_status, 4) << command;
    EXPECT_EQ(ErrorWithoutMessage(result), Json::parse(R"({"error":"not_found"})"));
  }
  EXPECT_FALSE(std::filesystem::exists(cli_.Path("missing")));
}

TEST_F(CliTest, ImportExportRoundTrip) {
  const std::string input =
      std::string(R"({"stream":"order-1","type":"Created",)") +
      R"("data":{"b":2,"a":[1,2.5,"x"]},"metadata":{"user":"ann"},"id":")" + kId1 + "\"}\n" +
      R"({"stream":"order-1","type":"Paid","data":{"amount":10},"id":")" + kId2 + "\"}\n" + "\n" +
      R"({"stream":"order-2","type":"Named","data":"plain","metadata":null})"
      "\n" +
      R"({"stream":"order-1","type":"Blob","content_type":"binary","data":"AAEC/w=="})"
      "\n" +
      R"({"stream":"order-2","type":"Empty"})"
      "\n";
  RunResult imported = cli_.RunDb("a", {"import"}, input);
  EXPECT_EQ(imported.exit_status, 0) << imported.err;
  EXPECT_EQ(imported.err, "");
  EXPECT_EQ(imported.out, "{\"imported\":5,\"lines\":6,\"batches\":1,\"last_position\":4}\n");

  RunResult exported = cli_.RunDb("a", {"export"});
  EXPECT_EQ(exported.exit_status, 0) << exported.err;
  std::vector<std::string> lines = SplitLines(MaskCreated(exported.out));
  ASSERT_EQ(lines.size(), 5u) << exported.out;
  EXPECT_EQ(lines[0], std::string("{\"stream\":\"order-1\",\"revision\":0,") +
                          "\"position\":0,\"id\":\"" + kId1 +
                          "\",\"type\":\"Created\",\"created\":\"T\","
                          "\"data\":{\"b\":2,\"a\":[1,2.5,\"x\"]},"
                          "\"metadata\":{\"user\":\"ann\"}}");
  // Empty metadata is omitted; JSON null metadata is kept.
  EXPECT_EQ(Json::parse(lines[1]).count("metadata"), 0u);
  EXPECT_EQ(Json::parse(lines[2])["metadata"], nullptr);
  Json blob = Json::parse(lines[3]);
  EXPECT_EQ(blob["content_type"], "binary");
  EXPECT_EQ(blob["data_base64"], "AAEC/w==");
  EXPECT_EQ(blob.count("data"), 0u);
  EXPECT_EQ(Json::parse(lines[4])["data"], Json::object());
  // Ids the engine made (lines without "id") say so; the appender's do not.
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(Json::parse(lines[i]).value("id_generated", false), i >= 2) << lines[i];
  }

  // Exported lines import into a fresh store that exports the same lines.
  std::string export_file = cli_.Path("a.jsonl");
  {
    std::ofstream out(export_file);
    out << exported.out;
  }
  RunResult reimported = cli_.RunDb("b", {"import", export_file});
  EXPECT_EQ(reimported.exit_status, 0) << reimported.err;
  EXPECT_EQ(reimported.out, "{\"imported\":5,\"lines\":5,\"batches\":1,\"last_position\":4}\n");
  RunResult exported_b = cli_.RunDb("b", {"export"});
  EXPECT_EQ(exported_b.exit_status, 0) << exported_b.err;
  // Byte for byte: revisions, positions, ids (and whose they were),
  // creation times, data and metadata.
  EXPECT_EQ(exported_b.out, exported.out);

  RunResult from = cli_.RunDb("b", {"export", "--from", "3"});
  EXPECT_EQ(SplitLines(from.out).size(), 2u) << from.out;
}

TEST_F(CliTest, MalformedImportLineStopsAfterCommittingEarlierLines) {
  const std::string input =
      "{\"stream\":\"s\",\"type\":\"A\",\"data\":1}\n"
      "{\"stream\":\"s\",\"type\":\"B\",\"data\":2}\n"
      "{\"stream\":\"s\",\"type\":\n"
      "{\"stream\":\"s\",\"type\":\"D\",\"data\":4}\n";
  RunResult result = cli_.RunDb("db", {"import", "-"}, input);
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_EQ(result.out,
            "{\"imported\":2,\"lines\":3,\"batches\":1,\"last_position\":1,"
            "\"stopped_at_line\":3}\n");
  EXPECT_EQ(ErrorWithoutMessage(result), Json::parse(R"({"error":"invalid_argument","line":3})"));
  EXPECT_EQ(ErrorMessage(result).rfind("line 3: ", 0), 0u) << ErrorMessage(result);

  RunResult all = cli_.RunDb("db", {"read-all"});
  EXPECT_EQ(all.exit_status, 0) << all.err;
  std::vector<std::string> lines = SplitLines(all.out);
  ASSERT_EQ(lines.size(), 2u) << all.out;
  EXPECT_EQ(Json::parse(lines[0])["type"], "A");
  EXPECT_EQ(Json::parse(lines[1])["type"], "B");
}

// The engine refuses line 3 of a batch: the lines before it are stored
// (every line before the bad one is), nothing from it on.
TEST_F(CliTest, RejectedLineStopsImportWithTheLinesBeforeItStored) {
  const std::string input =
      "{\"stream\":\"s\",\"type\":\"A\"}\n"
      "{\"stream\":\"s\",\"type\":\"B\"}\n"
      "{\"stream\":\"$reserved\",\"type\":\"C\"}\n"
      "{\"stream\":\"s\",\"type\":\"D\"}\n";
  RunResult result = cli_.RunDb("db", {"import"}, input);
  EXPECT_EQ(result.exit_status, 2);
  EXPECT_EQ(result.out,
            "{\"imported\":2,\"lines\":3,\"batches\":1,\"last_position\":1,"
            "\"stopped_at_line\":3}\n");
  EXPECT_EQ(ErrorWithoutMessage(result), Json::parse(R"({"error":"invalid_argument","line":3})"));
  EXPECT_EQ(ErrorMessage(result),
            "line 3: restored event 2 (stream '$reserved'): the only reserved streams are "
            "\"$$<stream>\" metadata");
  EXPECT_EQ(SplitLines(cli_.RunDb("db", {"read-all"}).out).size(), 2u);
}

TEST_F(CliTest, ReimportWithIdsIsIdempotent) {
  const std::string input = std::string(R"({"stream":"s","type":"A","id":")") + kId1 + "\"}\n" +
                            R"({"stream":"s","type":"B","id":")" + kId2 + "\"}\n";
  RunResult first = cli_.RunDb("db", {"import"}, input);
  EXPECT_EQ(first.out, "{\"imported\":2,\"lines\":2,\"batches\":1,\"last_position\":1}\n");
  RunResult again = cli_.RunDb("db", {"import"}, input);
  EXPECT_EQ(again.exit_status, 0) << again.err;
  EXPECT_EQ(again.out,
            "{\"imported\":0,\"lines\":2,\"batches\":1,\"last_position\":null,"
            "\"duplicates\":2}\n");
  EXPECT_EQ(SplitLines(cli_.RunDb("db", {"read-all"}).out).size(), 2u);
}

TEST_F(CliTest, ImportNamesWhatIsWrongWithALine) {
  struct Case {
    std::string line;
    std::string message;
  };
  const Case cases[] = {
      {R"({"stream":"s","type":"T","colour":"red"})", "line 1: unknown field \"colour\""},
      {R"({"stream":"s"})", "line 1: field \"type\" is missing"},
      {R"({"stream":7,"type":"T"})", "line 1: field \"stream\" must be a string, got number"},
      {R"([1,2])", "line 1: expected a JSON object, got array"},
      {R"({"stream":"s","type":"T","content_type":"binary","data":"@@"})",
       "line 1: field \"data\" is not valid base64"},
      {R"({"stream":"s","type":"T","content_type":"xml"})",
       "line 1: field \"content_type\" must be \"json\" or \"binary\""},
  };
  for (const Case& c : cases) {
    RunResult result = cli_.RunDb("db", {"import"}, c.line + "\n");
    EXPECT_EQ(result.exit_status, 2) << c.line;
    EXPECT_EQ(ErrorMessage(result), c.message) << c.line;
  }
  RunResult bad_id = cli_.RunDb("db", {"import"},
                                R"({"stream":"s","type":"T","id":"xyz"})"
                                "\n");
  EXPECT_EQ(ErrorMessage(bad_id).rfind("line 1: field \"id\": ", 0), 0u) << ErrorMessage(bad_id);
  RunResult missing_file = cli_.RunDb("db", {"import", cli_.Path("nope.jsonl")});
  // A bad argument (exit 2), not a stream that was not found (exit 4).
  EXPECT_EQ(missing_file.exit_status, 2);
  EXPECT_EQ(ErrorWithoutMessage(missing_file), Json::parse(R"({"error":"invalid_argument"})"));
  EXPECT_EQ(ErrorMessage(missing_file),
            "import file '" + cli_.Path("nope.jsonl") + "' does not exist");
}

TEST_F(CliTest, VerifyAndStatsOnAHealthyStore) {
  ASSERT_EQ(Append("s").exit_status, 0);
  ASSERT_EQ(Append("s").exit_status, 0);
  ASSERT_EQ(Append("t").exit_status, 0);
  RunResult verify = cli_.RunDb("db", {"verify"});
  EXPECT_EQ(verify.exit_status, 0) << verify.err;
  Json report = Json::parse(verify.out);
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["events"], 3);
  EXPECT_TRUE(report["records"].is_number_unsigned());
  EXPECT_TRUE(report["index_entries"].is_number_unsigned());
  EXPECT_EQ(report["problems"], Json::array());

  RunResult stats = cli_.RunDb("db", {"stats"});
  EXPECT_EQ(stats.exit_status, 0) << stats.err;
  Json values = Json::parse(stats.out);
  EXPECT_EQ(values["events"], 3);
  EXPECT_EQ(values["streams"], 2);
  EXPECT_EQ(values["read_only"], true);
}

// Read-only commands work while another process (an import fed through a
// FIFO) holds the store's write lock; a second writer gets "locked".
TEST_F(CliTest, ReadersWorkBesideARunningWriter) {
  std::string fifo = cli_.Path("feed");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Open both ends first (close-on-exec) so the child's open never blocks.
  int read_end = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(read_end, 0);
  int feed = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(feed, 0);
  pid_t writer = cli_.Start({"--db", cli_.Path("db"), "import"}, fifo, "w");
  ::close(read_end);
  // Import stores what it holds whenever its input has nothing more to read
  // for now: both lines, before the FIFO is closed.
  const std::string lines =
      "{\"stream\":\"s\",\"type\":\"A\"}\n{\"stream\":\"t\",\"type\":\"B\"}\n";
  // EXPECT, not ASSERT: the writer must be released below whatever happens.
  EXPECT_EQ(::write(feed, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));

  RunResult read;
  for (int attempt = 0; attempt < 200; ++attempt) {
    read = cli_.RunDb("db", {"read-all"});
    if (read.exit_status == 0 && SplitLines(read.out).size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  RunResult stats = cli_.RunDb("db", {"stats"});
  RunResult second_writer = Append("s");
  ::close(feed);
  RunResult done = cli_.Wait(writer, "w");

  EXPECT_EQ(read.exit_status, 0) << read.err;
  std::vector<std::string> seen = SplitLines(read.out);
  ASSERT_EQ(seen.size(), 2u) << read.out;
  EXPECT_EQ(Json::parse(seen[0])["type"], "A");
  EXPECT_EQ(Json::parse(seen[1])["type"], "B");
  EXPECT_EQ(stats.exit_status, 0) << stats.err;
  EXPECT_EQ(second_writer.exit_status, 1);
  EXPECT_EQ(ErrorWithoutMessage(second_writer), Json::parse(R"({"error":"locked"})"));
  EXPECT_EQ(done.exit_status, 0) << done.err;
  EXPECT_EQ(done.out, "{\"imported\":2,\"lines\":2,\"batches\":1,\"last_position\":1}\n");
}

TEST_F(CliTest, BenchRunsNamedWorkloads) {
  RunResult unknown = cli_.Run({"bench", "no-such-workload"});
  EXPECT_EQ(unknown.exit_status, 2);
  EXPECT_EQ(unknown.out, "");
  EXPECT_EQ(ErrorWithoutMessage(unknown), Json::parse(R"({"error":"invalid_argument"})"));

  std::filesystem::create_directories(cli_.Path("bench"));
  RunResult run =
      cli_.RunDb("bench", {"bench", "append-batch", "--events", "100", "--no-sync", "--no-peers"});
  EXPECT_EQ(run.exit_status, 0) << run.err;
  std::vector<std::string> lines = SplitLines(run.out);
  ASSERT_EQ(lines.size(), 1u) << run.out;
  EXPECT_EQ(lines[0].rfind("workload=append-batch system=cairn durable=false "
                           "events=100 ",
                           0),
            0u)
      << lines[0];
}

// The output of `command` (a shell command line), read whole.
std::string CommandOutput(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

// `cairn bench` runs the separate cairn-bench, so the cairn binary itself
// links none of the libraries only the benchmarks need.
TEST_F(CliTest, TheCairnBinaryLinksNoBenchmarkLibraries) {
  const std::string cairn = CommandOutput("ldd '" + std::string(CAIRN_BINARY) + "'");
  const std::string bench = CommandOutput(
      "ldd '" + std::filesystem::path(CAIRN_BINARY).parent_path().string() + "/cairn-bench'");
  ASSERT_NE(cairn.find("libc.so"), std::string::npos) << cairn;
  for (const char* lib : {"libsqlite3", "libsodium", "libsimdjson"}) {
    EXPECT_EQ(cairn.find(lib), std::string::npos) << lib << " in\n" << cairn;
  }
  EXPECT_NE(bench.find("libsqlite3"), std::string::npos) << bench;
}

TEST_F(CliTest, BenchWithoutCairnBenchSaysWhereItLooked) {
  namespace fs = std::filesystem;
  fs::create_directories(cli_.Path("alone"));
  fs::create_directories(cli_.Path("empty"));
  fs::copy_file(CAIRN_BINARY, cli_.Path("alone/cairn"));
  const std::string dir = fs::canonical(cli_.Path("alone")).string();
  CliRunner alone(cli_.Path("alone/cairn"));
  const char* path = std::getenv("PATH");
  const std::string saved = path != nullptr ? path : "";
  ::setenv("PATH", cli_.Path("empty").c_str(), 1);
  RunResult r = alone.Run({"bench", "append-batch"});
  ::setenv("PATH", saved.c_str(), 1);
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(ErrorWithoutMessage(r), Json::parse(R"({"error":"unimplemented"})"));
  EXPECT_EQ(ErrorMessage(r), "cannot run cairn-bench (No such file or directory; looked in '" +
                                 dir +
                                 "' and PATH): the benchmarks are a separate program, built as "
                                 "bench/cairn-bench and installed with the cairn tools");
}

// Flips one byte inside the stored data of the first event (found by a marker
// in the store's files), then expects verify and reads to report corruption.
TEST_F(CliTest, CorruptedRecordExitsSix) {
  const std::string marker = "CORRUPTME-CORRUPTME";
  ASSERT_EQ(Append("s", {"--data", "\"" + marker + "\""}).exit_status, 0);
  ASSERT_EQ(Append("s").exit_status, 0);
  ASSERT_EQ(Append("s").exit_status, 0);
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

  RunResult verify = cli_.RunDb("db", {"verify"});
  EXPECT_EQ(verify.exit_status, 6) << verify.out << verify.err;
  if (!verify.out.empty()) {
    Json report = Json::parse(verify.out);
    EXPECT_EQ(report["ok"], false);
    ASSERT_FALSE(report["problems"].empty());
    EXPECT_TRUE(report["problems"][0]["file"].is_string());
    EXPECT_TRUE(report["problems"][0]["offset"].is_number_unsigned());
    EXPECT_TRUE(report["problems"][0]["what"].is_string());
  } else {
    EXPECT_EQ(ErrorWithoutMessage(verify), Json::parse(R"({"error":"corruption"})"));
  }
  RunResult read = cli_.RunDb("db", {"read-all"});
  EXPECT_EQ(read.exit_status, 6) << read.out << read.err;
  EXPECT_EQ(read.out.find(marker), std::string::npos) << read.out;
  EXPECT_EQ(ErrorWithoutMessage(read), Json::parse(R"({"error":"corruption"})"));
  // The error says what to do next.
  EXPECT_EQ(Json::parse(read.err)["hint"],
            "`cairn verify` lists every damaged place; `cairn export --salvage > "
            "saved.jsonl` writes every event still readable; damage to a file under "
            "index/ (runs, positions.idx, MANIFEST) is repaired by removing the index "
            "directory and opening the store for writing, which rebuilds it from the log");
}

// ---- Filtered read-all and tail -------------------------------------------

// One event of the filter and tail tests. The event at position P has the id
// FilterId(P) and the data {"n":P}, so its whole read line is known.
struct FilterEvent {
  const char* stream;
  uint64_t revision;
  const char* type;
};

// Imported by SeedFilterStore(); the index is the position.
constexpr FilterEvent kFilterSeed[] = {
    {"account-1", 0, "Opened"},    {"account-2", 0, "Opened"},     {"order-1", 0, "OrderPlaced"},
    {"account-1", 1, "Deposited"}, {"audit", 0, "AccountChecked"}, {"account-1", 2, "Withdrawn"},
    {"order-2", 0, "OrderPlaced"}, {"account-2", 1, "Deposited"},  {"account-10", 0, "Opened"},
};
constexpr uint64_t kFilterSeedSize = std::size(kFilterSeed);

std::string FilterId(uint64_t position) {
  char id[40];
  std::snprintf(id, sizeof id, "6f1c2a3b-0000-4000-8000-0000000001%02d",
                static_cast<int>(position));
  return id;
}

// The exact read/tail line of `event` at `position`, "created" masked.
std::string FilterLine(const FilterEvent& event, uint64_t position) {
  return "{\"stream\":\"" + std::string(event.stream) +
         "\",\"revision\":" + std::to_string(event.revision) +
         ",\"position\":" + std::to_string(position) + ",\"id\":\"" + FilterId(position) +
         "\",\"type\":\"" + event.type +
         "\",\"created\":\"T\",\"data\":{\"n\":" + std::to_string(position) +
         "},\"metadata\":null}\n";
}

// The lines of the seed events at `positions`, in the order given.
std::string SeedLines(const std::vector<uint64_t>& positions) {
  std::string out;
  for (uint64_t p : positions) out += FilterLine(kFilterSeed[p], p);
  return out;
}

class FilterTest : public CliTest {
 protected:
  void SetUp() override {
    std::string input;
    for (uint64_t p = 0; p < kFilterSeedSize; ++p) {
      input += "{\"stream\":\"" + std::string(kFilterSeed[p].stream) + "\",\"type\":\"" +
               kFilterSeed[p].type + "\",\"id\":\"" + FilterId(p) +
               "\",\"data\":{\"n\":" + std::to_string(p) + "}}\n";
    }
    RunResult imported = cli_.RunDb("db", {"import"}, input);
    ASSERT_EQ(imported.exit_status, 0) << imported.err;
  }

  // Appends `event` as position `position` through `cairn append`.
  void AppendLive(const FilterEvent& event, uint64_t position) {
    RunResult result =
        cli_.RunDb("db", {"append", event.stream, "--type", event.type, "--id", FilterId(position),
                          "--data", "{\"n\":" + std::to_string(position) + "}"});
    ASSERT_EQ(result.exit_status, 0) << result.err;
    ASSERT_EQ(result.out, "{\"stream\":\"" + std::string(event.stream) +
                              "\",\"revision\":" + std::to_string(event.revision) +
                              ",\"position\":" + std::to_string(position) + "}\n");
  }

  // Starts `cairn --db db tail args...` under `name`, stdin /dev/null.
  pid_t StartTail(const std::vector<std::string>& args, const std::string& name) {
    std::vector<std::string> full = {"--db", cli_.Path("db"), "tail"};
    full.insert(full.end(), args.begin(), args.end());
    return cli_.Start(full, "/dev/null", name);
  }

  struct Case {
    std::vector<std::string> args;
    std::vector<uint64_t> positions;
  };

  // Runs each case (`cairn --db db <args>`) and expects exit 0, no stderr
  // and exactly the seed lines of its positions.
  void ExpectLines(const std::vector<Case>& cases) {
    for (const Case& c : cases) {
      std::string shown;
      for (const std::string& arg : c.args) shown += arg + " ";
      RunResult result = cli_.RunDb("db", c.args);
      EXPECT_EQ(result.exit_status, 0) << shown << result.err;
      EXPECT_EQ(result.err, "") << shown;
      EXPECT_EQ(MaskCreated(result.out), SeedLines(c.positions)) << shown;
    }
  }
};

constexpr auto kGenerous = std::chrono::seconds(60);

TEST_F(FilterTest, ReadAllFiltersByEachFlag) {
  ExpectLines({
      {{"read-all"}, {0, 1, 2, 3, 4, 5, 6, 7, 8}},
      {{"read-all", "--stream-prefix", "account-1"}, {0, 3, 5, 8}},
      {{"read-all", "--stream-prefix", "order", "--stream-prefix", "audit"}, {2, 4, 6}},
      // Partial match unless anchored.
      {{"read-all", "--stream-regex", "-1"}, {0, 2, 3, 5, 8}},
      {{"read-all", "--stream-regex", "^account-\\d$"}, {0, 1, 3, 5, 7}},
      // The category is the part before the first '-': "audit" has none.
      {{"read-all", "--category", "account"}, {0, 1, 3, 5, 7, 8}},
      {{"read-all", "--category", "order", "--category", "audit"}, {2, 6}},
      {{"read-all", "--type-prefix", "Order"}, {2, 6}},
      {{"read-all", "--type-prefix", "De", "--type-prefix", "With"}, {3, 5, 7}},
      {{"read-all", "--type-regex", "^O"}, {0, 1, 2, 6, 8}},
      {{"read-all", "--type", "Opened"}, {0, 1, 8}},
      {{"read-all", "--type", "Opened", "--type", "Withdrawn"}, {0, 1, 5, 8}},
      {{"read-all", "--type", "Nope"}, {}},
  });
}

TEST_F(FilterTest, ReadAllCombinesFiltersAndReadsBackwardsWithLimit) {
  ExpectLines({
      // Every flag given must hold.
      {{"read-all", "--category", "account", "--type-prefix", "De"}, {3, 7}},
      {{"read-all", "--stream-prefix", "account", "--stream-regex", "-1", "--type", "Opened",
        "--type", "Deposited"},
       {0, 3, 8}},
      {{"read-all", "--category", "order", "--type-regex", "Placed$", "--stream-regex", "2$"}, {6}},
      {{"read-all", "--category", "account", "--type", "OrderPlaced"}, {}},
      // --limit counts printed events, not scanned ones.
      {{"read-all", "--category", "account", "--backwards", "--limit", "2"}, {8, 7}},
      {{"read-all", "--type", "Opened", "--backwards", "--limit", "2"}, {8, 1}},
      {{"read-all", "--category", "order", "--backwards", "--from", "5"}, {2}},
      {{"read-all", "--category", "account", "--from", "2", "--limit", "2"}, {3, 5}},
      {{"read-all", "--type-prefix", "O", "--from", "3", "--backwards", "--limit", "5"}, {2, 1, 0}},
  });
}

TEST_F(FilterTest, InvalidFiltersAreInvalidArgument) {
  struct Bad {
    std::vector<std::string> flags;
    std::string named;  // what the message must name
  };
  const Bad cases[] = {
      {{"--stream-regex", "acc(ount"}, "acc(ount"},
      {{"--type-regex", "[Open"}, "[Open"},
      {{"--category", "account-1"}, "account-1"},
  };
  for (const Bad& c : cases) {
    for (std::vector<std::string> args :
         {std::vector<std::string>{"read-all"},
          std::vector<std::string>{"tail", "--all", "--until-caught-up"}}) {
      args.insert(args.end(), c.flags.begin(), c.flags.end());
      RunResult result = cli_.RunDb("db", args);
      EXPECT_EQ(result.exit_status, 2) << args[0] << " " << c.named;
      EXPECT_EQ(result.out, "") << args[0] << " " << c.named;
      EXPECT_EQ(ErrorWithoutMessage(result), Json::parse(R"({"error":"invalid_argument"})"));
      EXPECT_NE(ErrorMessage(result).find("'" + c.named + "'"), std::string::npos)
          << ErrorMessage(result);
    }
  }
}

TEST_F(FilterTest, TailUntilCaughtUpPrintsTheHistoryOfEachTarget) {
  ExpectLines({
      // A stream: --from is a revision, exclusive.
      {{"tail", "account-1", "--until-caught-up"}, {0, 3, 5}},
      {{"tail", "account-1", "--from", "0", "--until-caught-up"}, {3, 5}},
      {{"tail", "account-1", "--from", "2", "--until-caught-up"}, {}},
      {{"tail", "account-1", "--from-end", "--until-caught-up"}, {}},
      {{"tail", "account-1", "--type", "Deposited", "--until-caught-up"}, {3}},
      {{"tail", "no-such-stream", "--until-caught-up"}, {}},
      // $all: --from is a position, exclusive.
      {{"tail", "--all", "--until-caught-up"}, {0, 1, 2, 3, 4, 5, 6, 7, 8}},
      {{"tail", "--all", "--from", "4", "--until-caught-up"}, {5, 6, 7, 8}},
      {{"tail", "--all", "--from-end", "--until-caught-up"}, {}},
      {{"tail", "--all", "--stream-prefix", "order", "--until-caught-up"}, {2, 6}},
      {{"tail", "--all", "--type-regex", "ed$", "--from", "5", "--until-caught-up"}, {6, 7, 8}},
      // A category, and several categories.
      {{"tail", "--category", "account", "--until-caught-up"}, {0, 1, 3, 5, 7, 8}},
      {{"tail", "--category", "account", "--from", "3", "--until-caught-up"}, {5, 7, 8}},
      {{"tail", "--category", "order", "--category", "account", "--from", "4", "--until-caught-up"},
       {5, 6, 7, 8}},
      {{"tail", "--category", "account", "--type", "Opened", "--from", "0", "--until-caught-up"},
       {1, 8}},
      // An event type, and several types.
      {{"tail", "--type", "Opened", "--until-caught-up"}, {0, 1, 8}},
      {{"tail", "--type", "Opened", "--from", "0", "--until-caught-up"}, {1, 8}},
      {{"tail", "--type", "Opened", "--from-end", "--until-caught-up"}, {}},
      {{"tail", "--type", "OrderPlaced", "--type", "Withdrawn", "--until-caught-up"}, {2, 5, 6}},
  });
}

TEST_F(FilterTest, TailUsageErrorsAndMissingStore) {
  const std::vector<std::vector<std::string>> usage = {
      {"tail", "--until-caught-up"},  // nothing to follow
      {"tail", "--stream-prefix", "account", "--until-caught-up"},
      {"tail", "account-1", "--all", "--until-caught-up"},
      {"tail", "--all", "--from", "1", "--from-end", "--until-caught-up"},
      {"tail", "--all", "--stream-regex", "a", "--stream-regex", "b"},
      {"tail", "--all", "--from", "soon"},
      {"read-all", "--type-regex", "a", "--type-regex", "b"},
  };
  for (const auto& args : usage) {
    RunResult result = cli_.RunDb("db", args);
    EXPECT_EQ(result.exit_status, 2) << args[1];
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(ErrorWithoutMessage(result), Json::parse(R"({"error":"invalid_argument"})"));
  }
  RunResult missing = cli_.RunDb("missing", {"tail", "--all", "--until-caught-up"});
  EXPECT_EQ(missing.exit_status, 4);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(ErrorWithoutMessage(missing), Json::parse(R"({"error":"not_found"})"));
  EXPECT_FALSE(std::filesystem::exists(cli_.Path("missing")));
}

// A tail without --until-caught-up prints history, then each event appended
// by other processes (`cairn append`, each taking the write lock in turn),
// and exits 0 on SIGINT.
TEST_F(FilterTest, TailFollowsLiveAppendsAndExitsZeroOnSigint) {
  pid_t tail = StartTail({"account-1", "--from", "0"}, "tail");
  ChildGuard guard(tail);
  std::string history = cli_.WaitForLines(tail, "tail", 2, kGenerous);
  EXPECT_EQ(MaskCreated(history), SeedLines({3, 5}));

  const FilterEvent live[] = {
      {"account-1", 3, "Closed"},
      {"account-2", 2, "Closed"},  // another stream: not printed
      {"account-1", 4, "Reopened"},
  };
  for (uint64_t i = 0; i < std::size(live); ++i) {
    AppendLive(live[i], kFilterSeedSize + i);
  }
  const std::string expected = SeedLines({3, 5}) + FilterLine(live[0], kFilterSeedSize) +
                               FilterLine(live[2], kFilterSeedSize + 2);
  std::string seen = cli_.WaitForLines(tail, "tail", 4, kGenerous);
  EXPECT_EQ(MaskCreated(seen), expected);

  ASSERT_EQ(::kill(tail, SIGINT), 0);
  RunResult done = cli_.Wait(tail, "tail");
  guard.Release();
  EXPECT_EQ(done.exit_status, 0) << done.err;
  EXPECT_EQ(done.err, "");
  EXPECT_EQ(MaskCreated(done.out), expected);
}

// A category tail beside a writer that keeps the store open (an import fed
// through a FIFO) sees each batch the writer commits, and exits 0 on SIGTERM.
TEST_F(FilterTest, TailBesideARunningWriterExitsZeroOnSigterm) {
  pid_t tail = StartTail({"--category", "order"}, "tail");
  ChildGuard tail_guard(tail);
  EXPECT_EQ(MaskCreated(cli_.WaitForLines(tail, "tail", 2, kGenerous)), SeedLines({2, 6}));

  std::string fifo = cli_.Path("feed");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int read_end = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(read_end, 0);
  int feed = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(feed, 0);
  pid_t writer = cli_.Start({"--db", cli_.Path("db"), "import"}, fifo, "w");
  ChildGuard writer_guard(writer);
  ::close(read_end);

  const FilterEvent live[] = {
      {"order-3", 0, "OrderPlaced"},
      {"account-3", 0, "Opened"},  // another category: not printed
      {"order-3", 1, "OrderShipped"},
  };
  auto import_line = [](const FilterEvent& event, uint64_t position) {
    return "{\"stream\":\"" + std::string(event.stream) + "\",\"type\":\"" + event.type +
           "\",\"id\":\"" + FilterId(position) + "\",\"data\":{\"n\":" + std::to_string(position) +
           "}}\n";
  };
  // The stream change at the second line commits the first; the writer
  // still holds the store open.
  std::string lines =
      import_line(live[0], kFilterSeedSize) + import_line(live[1], kFilterSeedSize + 1);
  EXPECT_EQ(::write(feed, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
  std::string expected = SeedLines({2, 6}) + FilterLine(live[0], kFilterSeedSize);
  EXPECT_EQ(MaskCreated(cli_.WaitForLines(tail, "tail", 3, kGenerous)), expected);

  // The last line commits at end of input, and the writer exits.
  lines = import_line(live[2], kFilterSeedSize + 2);
  EXPECT_EQ(::write(feed, lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
  ::close(feed);
  RunResult written = cli_.Wait(writer, "w");
  writer_guard.Release();
  EXPECT_EQ(written.exit_status, 0) << written.err;
  expected += FilterLine(live[2], kFilterSeedSize + 2);
  EXPECT_EQ(MaskCreated(cli_.WaitForLines(tail, "tail", 4, kGenerous)), expected);

  ASSERT_EQ(::kill(tail, SIGTERM), 0);
  RunResult done = cli_.Wait(tail, "tail");
  tail_guard.Release();
  EXPECT_EQ(done.exit_status, 0) << done.err;
  EXPECT_EQ(done.err, "");
  EXPECT_EQ(MaskCreated(done.out), expected);
}

}  // namespace
}  // namespace cairn::e2e
