// Hostile input to the CLI's flags and import lines: M1 (rows 2, 10, 13),
// M2 (rows 3-4, 14), M6 (rows 31-35), L1 (rows 16, 21, 36, 74, 90), L7
// (rows 37-38), L9 (row 82) and L10 (rows 15, 24, 26). Bad input is exit 2
// with one error object; import always ends with its summary and stores
// every line before the one it stopped at; payloads are stored as given.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/e2e/json_checks.h"
#include "tests/hostile/hostile_util.h"

namespace cairn::hostile {
namespace {

namespace fs = std::filesystem;

class InputTest : public ::testing::Test {
 protected:
  RunResult Cairn(const std::vector<std::string>& args, const std::string& input = "") {
    return cli_.RunDb("db", args, input);
  }
  // Runs `cairn --db db args` and expects exit 2, no stdout and exactly
  // the invalid_argument error `message`.
  void ExpectUsage(const std::vector<std::string>& args, const std::string& message) {
    RunResult run = Cairn(args);
    std::string shown = "cairn";
    for (const std::string& arg : args) shown += " " + arg;
    EXPECT_EQ(run.exit_status, 2) << shown << ": " << run.err;
    EXPECT_EQ(run.out, "") << shown;
    EXPECT_EQ(run.err,
              "{\"error\":\"invalid_argument\",\"message\":" + Json(message).dump() + "}\n")
        << shown;
  }

  CliRunner cli_;
};

// M1, the report's reproduction: a number beyond a double on line 3. The
// summary says where it stopped; both earlier lines are stored (line 2 was
// in the pending batch and was lost).
TEST_F(InputTest, NumberOverflowStopsImportWithSummaryAndEveryEarlierLineStored) {
  RunResult run = Cairn({"import", "-"},
                        "{\"stream\":\"a\",\"type\":\"T\"}\n{\"stream\":\"b\",\"type\":\"T\"}\n"
                        "{\"stream\":\"c\",\"type\":\"T\",\"data\":{\"x\":1e400}}\n");
  EXPECT_EQ(run.exit_status, 2);
  EXPECT_EQ(
      run.out,
      "{\"imported\":2,\"lines\":3,\"batches\":1,\"last_position\":1,\"stopped_at_line\":3}\n");
  EXPECT_EQ(run.err,
            "{\"error\":\"invalid_argument\",\"message\":\"line 3: number 1e400 at offset 37 is "
            "out of range (beyond a double)\",\"line\":3}\n");
  EXPECT_EQ(CountStored(cli_, cli_.Path("db")), 2);
  // Row 2: the same number in --data.
  ExpectUsage({"append", "s", "--type", "T", "--data", "{\"a\":1e999999}"},
              "--data is not valid JSON: number 1e999999 at offset 5 is out of range (beyond a "
              "double)");
}

// M1, row 13: 5,500 good lines alternating between three streams, then the
// bad one: every good line stored (5,499 were), in six batches.
TEST_F(InputTest, InterleavedImportStopsAfterStoringEveryGoodLine) {
  std::string input;
  for (int i = 0; i < 5500; ++i) {
    input += "{\"stream\":\"s-" + std::to_string(i % 3) +
             "\",\"type\":\"T\",\"data\":{\"i\":" + std::to_string(i) + "}}\n";
  }
  input += "{\"stream\":\"s-x\",\"type\":\"T\",\"data\":{\"i\":1e400}}\n";
  RunResult run = Cairn({"import", "-"}, input);
  EXPECT_EQ(run.exit_status, 2);
  EXPECT_EQ(run.out,
            "{\"imported\":5500,\"lines\":5501,\"batches\":6,\"last_position\":5499,"
            "\"stopped_at_line\":5501}\n");
  EXPECT_EQ(ParseObject(run.err)["line"], 5501);
  EXPECT_EQ(CountStored(cli_, cli_.Path("db")), 5500);
  RunResult last = Cairn({"read", "s-1", "--backwards", "--limit", "1"});
  EXPECT_EQ(ParseObject(last.out)["data"], Json::parse("{\"i\":5497}"));
}

// L10, row 15: interleaved lines batch into one write and fsync per 1,000
// lines whatever their streams ("batches" in the summary).
TEST_F(InputTest, InterleavedLinesBatchTogether) {
  const std::string file = cli_.Path("interleaved.jsonl");
  std::string input;
  for (int i = 0; i < 5500; ++i) {
    input += "{\"stream\":\"s-" + std::to_string(i % 3) + "\",\"type\":\"T\"}\n";
  }
  WriteFile(file, input);
  RunResult run = Cairn({"import", file});
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_EQ(run.out, "{\"imported\":5500,\"lines\":5500,\"batches\":6,\"last_position\":5499}\n");
  EXPECT_EQ(run.err, "");
}

// M2, rows 3-4: digits a double cannot hold come back as given; a repeated
// key is refused (exit 2), in --data and in import's own fields.
TEST_F(InputTest, PayloadsAreStoredAsGivenAndDuplicateKeysRefused) {
  ExpectUsage(
      {"append", "n", "--type", "T", "--data",
       R"({"id":123456789012345678901234567890,"price":0.10000000000000000001,"k":1,"k":2})"},
      "--data is not valid JSON: duplicate key \"k\" at offset 74");
  const std::string data =
      R"({"id":123456789012345678901234567890,"big":18446744073709551616,"neg":-9223372036854775809,"price":0.10000000000000000001,"one":1.0000000000000000000001,"tiny":0.1e-400,"zero":-0})";
  RunResult appended = Cairn({"append", "n", "--type", "T", "--data", data});
  EXPECT_EQ(appended.exit_status, 0) << appended.err;
  RunResult read = Cairn({"read", "n"});
  EXPECT_NE(read.out.find(",\"data\":" + data + ","), std::string::npos) << read.out;
  RunResult exported = Cairn({"export"});
  EXPECT_NE(exported.out.find(",\"data\":" + data + ","), std::string::npos) << exported.out;

  RunResult import = Cairn({"import", "-"}, "{\"stream\":\"a\",\"type\":\"T\",\"stream\":\"b\"}\n");
  EXPECT_EQ(import.exit_status, 2);
  EXPECT_EQ(import.out,
            "{\"imported\":0,\"lines\":1,\"batches\":0,\"last_position\":null,"
            "\"stopped_at_line\":1}\n");
  EXPECT_EQ(import.err,
            "{\"error\":\"invalid_argument\",\"message\":\"line 1: duplicate key \\\"stream\\\" "
            "at offset 25\",\"line\":1}\n");
  EXPECT_EQ(Cairn({"read", "b"}).exit_status, 4);
}

// M6, rows 31-35: negative and overflowing numbers are usage errors, never
// wrapped or saturated.
TEST_F(InputTest, NegativeAndOverflowingNumbersAreUsageErrors) {
  ASSERT_EQ(Cairn({"append", "s", "--type", "T"}).exit_status, 0);
  const std::string negative = "' is negative: give a number from 0 to 2^64-1";
  const std::string past = "' is past 2^64-1 (18446744073709551615)";
  ExpectUsage({"export", "--from", "-1"}, "--from '-1" + negative);
  ExpectUsage({"read", "s", "--from", "-1"}, "--from '-1" + negative);
  ExpectUsage({"read", "s", "--from", "18446744073709551616"},
              "--from '18446744073709551616" + past);
  ExpectUsage({"read", "s", "--from", "99999999999999999999999"},
              "--from '99999999999999999999999" + past);
  ExpectUsage({"read", "s", "--limit", "-1"}, "--limit '-1" + negative);
  ExpectUsage({"read-all", "--limit", "-5"}, "--limit '-5" + negative);
  ExpectUsage({"streams", "--limit", "-1"}, "--limit '-1" + negative);
  ExpectUsage({"streams", "--after", "-1"}, "--after '-1" + negative);
  ExpectUsage({"read-all", "--backwards", "--from", "18446744073709551616", "--limit", "1"},
              "--from '18446744073709551616" + past);
  ExpectUsage({"tail", "--all", "--from", "-1"}, "--from '-1" + negative);
  ExpectUsage({"read", "s", "--from", "+0"}, "--from '+0' is not a number from 0 to 2^64-1");
  ExpectUsage({"read", "s", "--from", "0x0"}, "--from '0x0' is not a number from 0 to 2^64-1");
  // Row 34: the exclusive bound past everything lists nothing.
  RunResult after = Cairn({"streams", "--after", "18446744073709551615"});
  EXPECT_EQ(after.exit_status, 0) << after.err;
  EXPECT_EQ(after.out, "");
  RunResult all = Cairn({"export", "--from", "0"});
  EXPECT_EQ(e2e::SplitLines(all.out).size(), 1u);
}

// L1, rows 16, 21, 36, 74, 90: every invalid argument is exit 2, whichever
// layer finds it; a missing import file is not "stream not found".
TEST_F(InputTest, EveryInvalidArgumentIsExit2) {
  ASSERT_EQ(Cairn({"append", "s", "--type", "T"}).exit_status, 0);
  ExpectUsage({"append", "", "--type", "T"}, "stream name is empty");
  ExpectUsage({"read", ""}, "stream name is empty");  // was exit 4, not found
  ExpectUsage({"count", "--stream", ""}, "stream name is empty");
  ExpectUsage({"append", "$x", "--type", "T"},
              "stream name '$x': names starting with '$' are reserved for the system");
  ExpectUsage({"append", "s", "--type", ""}, "stream 's' event 0: event type is empty");
  ExpectUsage({"read-all", "--stream-regex", "("},
              "stream regex '(' is not a valid regex: missing ): (");
  ExpectUsage({"read-all", "--type-regex", "(a"},
              "event type regex '(a' is not a valid regex: missing ): (a");
  ExpectUsage({"tail", "--all", "--stream-regex", "["},
              "stream regex '[' is not a valid regex: missing ]: [");
  ExpectUsage({"metadata", "s", "--set", "{\"$maxCount\":-1}"},
              "--set: stream metadata key '$maxCount' must be a non-negative integer");
  ExpectUsage({"metadata", "s", "--set", "{bad"},
              "--set: not valid JSON: unexpected 'b' at offset 1");
  ExpectUsage({"import", cli_.Path("no-such.jsonl")},
              "import file '" + cli_.Path("no-such.jsonl") + "' does not exist");
  ExpectUsage({"append", "s", "--type", "T", "--data-file", cli_.Path("no-such.json")},
              "--data-file '" + cli_.Path("no-such.json") + "' does not exist");
  ExpectUsage(
      {"append", "s", "--type", "T", "--expect", "-1"},
      "--expect: expected revision '-1' is not any, no-stream, exists or a revision number");
  // The import of a bad name names its line.
  RunResult import = Cairn({"import", "-"}, "{\"stream\":\"$bad\",\"type\":\"T\"}\n");
  EXPECT_EQ(import.exit_status, 2);
  EXPECT_EQ(e2e::ErrorWithoutMessage(import),
            Json::parse(R"({"error":"invalid_argument","line":1})"));
  EXPECT_EQ(CountStored(cli_, cli_.Path("db")), 1);
}

// L7, rows 37-38: '$all' is not a stream; the error points to the command
// that reads it.
TEST_F(InputTest, AllIsNotAStream) {
  ASSERT_EQ(Cairn({"append", "s", "--type", "T"}).exit_status, 0);
  ExpectUsage({"read", "$all"}, "'$all' is not a stream: `cairn read-all` reads $all");
  ExpectUsage({"tail", "$all", "--until-caught-up"},
              "'$all' is not a stream: `cairn tail --all` follows $all");
}

// L9, row 82: as in KurrentDB, a retry is recognised by its id alone: the
// same --id with other data is a duplicate and stores nothing.
TEST_F(InputTest, RetryWithTheSameIdIsADuplicateWhateverItsData) {
  const std::string id = IdOf(1);
  RunResult first = Cairn({"append", "s", "--type", "T", "--id", id, "--data", "{\"v\":1}"});
  EXPECT_EQ(first.out, "{\"stream\":\"s\",\"revision\":0,\"position\":0}\n");
  RunResult other = Cairn({"append", "s", "--type", "T", "--id", id, "--data", "{\"v\":2}"});
  EXPECT_EQ(other.exit_status, 0) << other.err;
  EXPECT_EQ(other.out, "{\"stream\":\"s\",\"revision\":0,\"position\":0,\"duplicate\":true}\n");
  RunResult read = Cairn({"read", "s"});
  ASSERT_EQ(e2e::SplitLines(read.out).size(), 1u);
  EXPECT_EQ(ParseObject(read.out)["data"], Json::parse("{\"v\":1}"));
}

// L10, row 24: data beyond the argument limit (about 128 KiB) goes in
// through --data-file or --data - (stdin), stored as given.
TEST_F(InputTest, LargeDataComesFromAFileOrStdin) {
  const std::string data = "{\"blob\":\"" + std::string(300000, 'x') + "\"}";
  const std::string file = cli_.Path("data.json");
  WriteFile(file, "  " + data + "\n");
  RunResult from_file = Cairn({"append", "f", "--type", "T", "--data-file", file});
  EXPECT_EQ(from_file.exit_status, 0) << from_file.err;
  RunResult from_stdin = Cairn({"append", "i", "--type", "T", "--data", "-"}, data);
  EXPECT_EQ(from_stdin.exit_status, 0) << from_stdin.err;
  for (const char* stream : {"f", "i"}) {
    RunResult read = Cairn({"read", stream});
    EXPECT_NE(read.out.find(",\"data\":" + data + ","), std::string::npos) << stream;
  }
  RunResult both = Cairn({"append", "x", "--type", "T", "--data", "{}", "--data-file", file});
  EXPECT_EQ(both.exit_status, 2);
  EXPECT_EQ(e2e::ErrorWithoutMessage(both), Json::parse(R"({"error":"invalid_argument"})"));
}

// L10, row 26: a 300 MiB line is refused while it is read, after 33 MiB,
// with the summary; the line before it is stored, and the process never
// holds the line (row 26 measured 1.2 GB): its peak resident set stays
// below 200 MB.
TEST_F(InputTest, HugeImportLineIsRefusedWithBoundedMemory) {
  const std::string file = cli_.Path("huge.jsonl");
  {
    std::ofstream out(file, std::ios::binary);
    out << "{\"stream\":\"a\",\"type\":\"T\"}\n{\"stream\":\"big\",\"type\":\"T\",\"data\":\"";
    const std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 300; ++i) out << chunk;
    out << "\"}\n{\"stream\":\"b\",\"type\":\"T\"}\n";
    ASSERT_TRUE(out.good());
  }
  RunResult run = Cairn({"import", file});
  fs::remove(file);
  EXPECT_EQ(run.exit_status, 2);
  EXPECT_EQ(
      run.out,
      "{\"imported\":1,\"lines\":2,\"batches\":1,\"last_position\":0,\"stopped_at_line\":2}\n");
  EXPECT_EQ(run.err,
            "{\"error\":\"invalid_argument\",\"message\":\"line 2 is longer than 34603008 bytes "
            "(a line holds one event, of at most 16 MiB of data)\",\"line\":2}\n");
  EXPECT_EQ(CountStored(cli_, cli_.Path("db")), 1);
  std::printf("peak resident set of the import: %lld KiB\n",
              static_cast<long long>(run.max_rss_kib));
  EXPECT_GT(run.max_rss_kib, 0);
  // (ASan's shadow memory and quarantine are no measure of the CLI's.)
  if (!kSanitized) {
    EXPECT_LT(run.max_rss_kib, 200 * 1000);
  }
}

}  // namespace
}  // namespace cairn::hostile
