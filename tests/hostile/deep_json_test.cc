// H4 (report rows 6-8, defect H4): deeply nested JSON never crashes the
// CLI. Input nested beyond 1,000 levels is refused with exit 2 (--data,
// --metadata, an import line, which also prints the summary); an event of
// 100,000 levels stored through the engine API (as an embedding program
// could) prints as "data_base64" from read, read-all, export and tail.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cairn/native.h"
#include "tests/e2e/json_checks.h"
#include "tests/hostile/hostile_util.h"

namespace cairn::hostile {
namespace {

std::string Nested(size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

// Standard base64 with padding (RFC 4648), for the expected lines.
std::string Base64(const std::string& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16 |
                       static_cast<uint8_t>(bytes[i + 1]) << 8 | static_cast<uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out += std::string{kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1])
                                                                  << 8;
    out += std::string{kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63],
                       kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

class DeepJsonTest : public ::testing::Test {
 protected:
  CliRunner cli_;
};

// H4, row 6: `--data` of 50,000 levels (45,000 passed, 50,000 crashed);
// the limit is exactly 1,000 levels, for --metadata too.
TEST_F(DeepJsonTest, DeepDataAndMetadataFlagsAreRefusedWithExit2) {
  const std::string db = cli_.Path("db");
  RunResult deep = cli_.Run({"--db", db, "append", "s", "--type", "T", "--data", Nested(50000)});
  EXPECT_EQ(deep.exit_status, 2);
  EXPECT_EQ(deep.out, "");
  EXPECT_EQ(deep.err,
            "{\"error\":\"invalid_argument\",\"message\":\"--data is not valid JSON: nesting "
            "deeper than 1000 levels at offset 1000\"}\n");
  RunResult over = cli_.Run({"--db", db, "append", "s", "--type", "T", "--data", Nested(1001)});
  EXPECT_EQ(over.exit_status, 2);
  EXPECT_EQ(over.err, deep.err);
  RunResult from_stdin =
      cli_.Run({"--db", db, "append", "s", "--type", "T", "--data", "-"}, Nested(50000));
  EXPECT_EQ(from_stdin.exit_status, 2);
  EXPECT_EQ(from_stdin.err,
            "{\"error\":\"invalid_argument\",\"message\":\"stdin is not valid JSON: nesting "
            "deeper than 1000 levels at offset 1000\"}\n");
  std::string metadata;
  for (int i = 0; i < 1001; ++i) metadata += "{\"a\":";
  metadata += "1" + std::string(1001, '}');
  RunResult deep_metadata =
      cli_.Run({"--db", db, "append", "s", "--type", "T", "--metadata", metadata});
  EXPECT_EQ(deep_metadata.exit_status, 2);
  EXPECT_EQ(deep_metadata.err,
            "{\"error\":\"invalid_argument\",\"message\":\"--metadata is not valid JSON: "
            "nesting deeper than 1000 levels at offset 5000\"}\n");
  EXPECT_EQ(cli_.Run({"--db", db, "count"}).exit_status, 4);  // nothing was created

  RunResult limit = cli_.Run({"--db", db, "append", "s", "--type", "T", "--data", Nested(1000)});
  EXPECT_EQ(limit.exit_status, 0) << limit.err;
  RunResult read = cli_.Run({"--db", db, "read", "s"});
  EXPECT_EQ(ParseObject(read.out)["data"].dump(), Nested(1000));
}

// H4, row 7: an import line nested 100,000 levels stops the import with
// its summary; the line before it is stored.
TEST_F(DeepJsonTest, DeepImportLineStopsWithTheSummary) {
  const std::string db = cli_.Path("db");
  RunResult run = cli_.Run({"--db", db, "import", "-"},
                           "{\"stream\":\"a\",\"type\":\"T\"}\n"
                           "{\"stream\":\"deep\",\"type\":\"T\",\"data\":" +
                               Nested(100000) + "}\n");
  EXPECT_EQ(run.exit_status, 2);
  EXPECT_EQ(run.out,
            "{\"imported\":1,\"lines\":2,\"batches\":1,\"last_position\":0,"
            "\"stopped_at_line\":2}\n");
  EXPECT_EQ(run.err,
            "{\"error\":\"invalid_argument\",\"message\":\"line 2: nesting deeper than 1000 "
            "levels at offset 1035\",\"line\":2}\n");
  EXPECT_EQ(CountStored(cli_, db), 1);
}

// H4, row 8: one event of 100,000 levels, stored by an embedding program,
// made read, read-all, export and tail crash. Each prints it as
// "data_base64" (exit 0) with the events around it; verify is ok; an
// export of it imports back byte for byte.
TEST_F(DeepJsonTest, StoredDeepEventPrintsAsBase64Everywhere) {
  const std::string db = cli_.Path("db");
  const std::string deep = Nested(100000);
  {
    Result<std::unique_ptr<NativeStore>> store = NativeStore::Open(db);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    const char* const names[] = {"before", "deep", "after"};
    for (uint64_t i = 0; i < 3; ++i) {
      EventData event;
      event.id = *Uuid::Parse(IdOf(i));
      event.type = "T";
      event.data = i == 1 ? deep : "{\"n\":" + std::to_string(i) + "}";
      ASSERT_TRUE((*store)->Append(names[i], ExpectedRevision::Any(), {&event, 1}).has_value());
    }
    ASSERT_TRUE((*store)->Close().ok());
  }
  auto line = [&](const std::string& stream, uint64_t i, const std::string& data,
                  const std::string& tail) {
    return "{\"stream\":\"" + stream + "\",\"revision\":0,\"position\":" + std::to_string(i) +
           ",\"id\":\"" + IdOf(i) + "\",\"type\":\"T\",\"created\":\"T\"," + data + tail + "}\n";
  };
  const std::string deep_data = "\"data_base64\":\"" + Base64(deep) + "\"";
  const std::string read_lines = line("before", 0, "\"data\":{\"n\":0}", ",\"metadata\":null") +
                                 line("deep", 1, deep_data, ",\"metadata\":null") +
                                 line("after", 2, "\"data\":{\"n\":2}", ",\"metadata\":null");
  const std::string export_lines = line("before", 0, "\"data\":{\"n\":0}", "") +
                                   line("deep", 1, deep_data, "") +
                                   line("after", 2, "\"data\":{\"n\":2}", "");
  struct Case {
    std::vector<std::string> args;
    std::string out;
  };
  const std::vector<Case> cases = {
      {{"read", "deep"}, line("deep", 1, deep_data, ",\"metadata\":null")},
      {{"read-all"}, read_lines},
      {{"read-all", "--backwards"}, ""},
      {{"tail", "--all", "--until-caught-up"}, read_lines},
      {{"export"}, export_lines},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"--db", db};
    args.insert(args.end(), c.args.begin(), c.args.end());
    RunResult run = cli_.Run(args);
    EXPECT_EQ(run.exit_status, 0) << c.args[0] << ": " << run.err;
    EXPECT_EQ(run.err, "") << c.args[0];
    if (!c.out.empty()) {
      EXPECT_EQ(e2e::MaskCreated(run.out), c.out) << c.args[0];
    } else {
      EXPECT_EQ(e2e::SplitLines(run.out).size(), 3u) << c.args[0];
    }
  }
  RunResult verified = cli_.Run({"--db", db, "verify"});
  EXPECT_EQ(verified.exit_status, 0) << verified.out;
  EXPECT_EQ(ParseObject(verified.out)["ok"], true);

  // The backup restores the deep event byte for byte.
  const std::string exported = cli_.Run({"--db", db, "export"}).out;
  const std::string copy = cli_.Path("copy");
  RunResult imported = cli_.Run({"--db", copy, "import", "-"}, exported);
  EXPECT_EQ(imported.exit_status, 0) << imported.err;
  EXPECT_EQ(cli_.Run({"--db", copy, "export"}).out, exported);
}

}  // namespace
}  // namespace cairn::hostile
