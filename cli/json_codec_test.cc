// Unit tests of the JSON-lines codec (docs/format/jsonl.md) and base64 used
// by `cairn`: exact lines for read and export, exact import parsing and
// errors, timestamps, and the export -> import round trip.

#include "cli/json_codec.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "cli/base64.h"

namespace cairn::cli {
namespace {

TEST(Base64Test, RoundTripsEveryTailLength) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bytes.push_back(static_cast<char>(i * 37));
    std::optional<std::string> back = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(back.has_value()) << i;
    EXPECT_EQ(*back, bytes) << i;
  }
  EXPECT_EQ(Base64Encode(std::string("\x00\x01\x02\xff", 4)), "AAEC/w==");
  EXPECT_EQ(Base64Encode(""), "");
}

TEST(Base64Test, RejectsNonCanonicalText) {
  for (const char* bad : {"A", "AB=", "A===", "@@@@", "AAE=AAAA", "AB==", "AAF="}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
}

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(FormatTimestampTest, Rfc3339WithNanoseconds) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatTimestamp(1795333511123456789LL), "2026-11-22T07:45:11.123456789Z");
  EXPECT_EQ(FormatTimestamp(4102444800LL * 1000000000LL), "2100-01-01T00:00:00.000000000Z");
  EXPECT_EQ(FormatTimestamp(951782400LL * 1000000000LL), "2000-02-29T00:00:00.000000000Z");
  EXPECT_EQ(FormatTimestamp(kMax), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(FormatTimestamp(kMin), "1677-09-21T00:12:43.145224192Z");
}

TEST(ParseTimestampTest, InvertsFormatTimestampExactly) {
  std::mt19937_64 random(42);
  std::vector<int64_t> values = {0,
                                 -1,
                                 1,
                                 kMin,
                                 kMax,
                                 kMin + 1,
                                 kMax - 1,
                                 1795333511123456789LL,
                                 -86'400'000'000'000LL,
                                 951782400LL * 1000000000LL};
  for (int i = 0; i < 2000; ++i) values.push_back(static_cast<int64_t>(random()));
  for (int64_t value : values) {
    Result<int64_t> back = ParseTimestamp(FormatTimestamp(value));
    ASSERT_TRUE(back.has_value()) << value << ": " << back.error().message();
    EXPECT_EQ(*back, value) << FormatTimestamp(value);
  }
}

TEST(ParseTimestampTest, FractionOfOneToNineDigits) {
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z").value(), 0);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:01.5Z").value(), 1'500'000'000);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.000000001Z").value(), 1);
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59.9Z").value(), -100'000'000);
  EXPECT_EQ(ParseTimestamp("2000-02-29T00:00:00Z").value(), 951782400LL * 1000000000LL);
}

TEST(ParseTimestampTest, NamesWhatIsWrong) {
  const std::string form = " is not of the form YYYY-MM-DDTHH:MM:SS[.fraction]Z";
  const std::string date = " is not a valid date and time";
  const std::string range =
      " is outside the range of int64 nanoseconds "
      "(1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)";
  struct Case {
    const char* text;
    std::string message;
  };
  const Case cases[] = {
      {"", R"(timestamp "")" + form},
      {"2026-12-07", R"(timestamp "2026-12-07")" + form},
      {"2026-12-07T13:05:00", R"(timestamp "2026-12-07T13:05:00")" + form},
      {"2026-12-07t13:05:00Z", R"(timestamp "2026-12-07t13:05:00Z")" + form},
      {"2026-12-07T13:05:00z", R"(timestamp "2026-12-07T13:05:00z")" + form},
      {"2026-12-07 13:05:00Z", R"(timestamp "2026-12-07 13:05:00Z")" + form},
      {"2026-12-07T13:05:00.Z", R"(timestamp "2026-12-07T13:05:00.Z")" + form},
      {"2026-12-07T13:05:00.1234567890Z", R"(timestamp "2026-12-07T13:05:00.1234567890Z")" + form},
      {"2026-12-07T13:05:00+00:00", R"(timestamp "2026-12-07T13:05:00+00:00")" + form},
      {"+026-12-07T13:05:00Z", R"(timestamp "+026-12-07T13:05:00Z")" + form},
      {"2026-12-07T13:05:0xZ", R"(timestamp "2026-12-07T13:05:0xZ")" + form},
      {"2026-02-29T00:00:00Z", R"(timestamp "2026-02-29T00:00:00Z")" + date},
      {"2100-02-29T00:00:00Z", R"(timestamp "2100-02-29T00:00:00Z")" + date},
      {"2026-13-01T00:00:00Z", R"(timestamp "2026-13-01T00:00:00Z")" + date},
      {"2026-00-01T00:00:00Z", R"(timestamp "2026-00-01T00:00:00Z")" + date},
      {"2026-01-00T00:00:00Z", R"(timestamp "2026-01-00T00:00:00Z")" + date},
      {"2026-04-31T00:00:00Z", R"(timestamp "2026-04-31T00:00:00Z")" + date},
      {"2026-01-01T24:00:00Z", R"(timestamp "2026-01-01T24:00:00Z")" + date},
      {"2026-01-01T00:60:00Z", R"(timestamp "2026-01-01T00:60:00Z")" + date},
      {"2016-12-31T23:59:60Z", R"(timestamp "2016-12-31T23:59:60Z")" + date},
      {"2262-04-11T23:47:16.854775808Z", R"(timestamp "2262-04-11T23:47:16.854775808Z")" + range},
      {"1677-09-21T00:12:43.145224191Z", R"(timestamp "1677-09-21T00:12:43.145224191Z")" + range},
      {"9999-12-31T23:59:59Z", R"(timestamp "9999-12-31T23:59:59Z")" + range},
      {"0000-01-01T00:00:00Z", R"(timestamp "0000-01-01T00:00:00Z")" + range},
  };
  for (const Case& c : cases) {
    Result<int64_t> parsed = ParseTimestamp(c.text);
    ASSERT_FALSE(parsed.has_value()) << c.text;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(parsed.error().message(), c.message);
  }
}

const char kHead[] =
    R"({"stream":"s","revision":3,"position":9,"id":"00000000-0000-0000-0000-000000000000",)"
    R"("type":"T","created":"1970-01-01T00:00:00.000000000Z")";

EventView MakeView(ContentType type, std::string_view data, std::string_view metadata) {
  EventView view;
  view.stream = "s";
  view.revision = StreamRevision(3);
  view.position = Position(9);
  view.type = "T";
  view.content_type = type;
  view.data = data;
  view.metadata = metadata;
  view.caller_id = true;
  return view;
}

struct LineCase {
  const char* what;
  ContentType type;
  std::string data;
  std::string metadata;
  std::string read_tail;    // the line after kHead, for read
  std::string export_tail;  // and for export
};

TEST(EventToJsonLineTest, ExactLinesInBothModes) {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  const LineCase cases[] = {
      {"compact json", ContentType::kJson, R"({"z":1,"a":[true]})", R"({"k":"v"})",
       R"(,"data":{"z":1,"a":[true]},"metadata":{"k":"v"}})",
       R"(,"data":{"z":1,"a":[true]},"metadata":{"k":"v"}})"},
      {"numbers and escapes as stored", ContentType::kJson,
       R"({"id":123456789012345678901234567890,"x":1.50,"e":"\u00e9\/"})", "",
       R"(,"data":{"id":123456789012345678901234567890,"x":1.50,"e":"\u00e9\/"},)"
       R"("metadata":null})",
       R"(,"data":{"id":123456789012345678901234567890,"x":1.50,"e":"\u00e9\/"}})"},
      {"pretty-printed json", ContentType::kJson, "{ \"z\" : 1 }", " [1]",
       R"(,"data":{"z":1},"metadata":[1]})",
       R"(,"data_base64":"eyAieiIgOiAxIH0=","metadata_base64":"IFsxXQ=="})"},
      {"duplicate keys", ContentType::kJson, R"({"k":1,"k":2})", R"({"k":1,"k":2})",
       R"(,"data_base64":"eyJrIjoxLCJrIjoyfQ==","metadata_base64":"eyJrIjoxLCJrIjoyfQ=="})",
       R"(,"data_base64":"eyJrIjoxLCJrIjoyfQ==","metadata_base64":"eyJrIjoxLCJrIjoyfQ=="})"},
      {"not json", ContentType::kJson, "{oops", "not json",
       R"(,"data_base64":"e29vcHM=","metadata_base64":"bm90IGpzb24="})",
       R"(,"data_base64":"e29vcHM=","metadata_base64":"bm90IGpzb24="})"},
      {"empty (scrubbed) json", ContentType::kJson, "", "", R"(,"data_base64":"","metadata":null})",
       R"(,"data_base64":""})"},
      {"binary", ContentType::kBinary, std::string("\x00\x01\x02\xff", 4), "{}",
       R"(,"content_type":"binary","data_base64":"AAEC/w==","metadata":{}})",
       R"(,"content_type":"binary","data_base64":"AAEC/w==","metadata":{}})"},
      {"binary that looks like json", ContentType::kBinary, "{}", "",
       R"(,"content_type":"binary","data_base64":"e30=","metadata":null})",
       R"(,"content_type":"binary","data_base64":"e30="})"},
      {"scalar json", ContentType::kJson, "\"text\"", "null", R"(,"data":"text","metadata":null})",
       R"(,"data":"text","metadata":null})"},
      {"deep json", ContentType::kJson, deep, "",
       R"(,"data_base64":")" + Base64Encode(deep) + R"(","metadata":null})",
       R"(,"data_base64":")" + Base64Encode(deep) + R"("})"},
  };
  for (const LineCase& c : cases) {
    const EventView view = MakeView(c.type, c.data, c.metadata);
    EXPECT_EQ(EventToJsonLine(view, LineMode::kRead), kHead + c.read_tail) << c.what;
    EXPECT_EQ(EventToJsonLine(view, LineMode::kExport), kHead + c.export_tail) << c.what;
  }
}

TEST(EventToJsonLineTest, IdGeneratedEndsTheLine) {
  EventView view = MakeView(ContentType::kJson, "{}", "");
  view.caller_id = false;
  EXPECT_EQ(EventToJsonLine(view, LineMode::kRead),
            std::string(kHead) + R"(,"data":{},"metadata":null,"id_generated":true})");
  EXPECT_EQ(EventToJsonLine(view, LineMode::kExport),
            std::string(kHead) + R"(,"data":{},"id_generated":true})");
}

TEST(EventToJsonLineTest, EscapesNamesAndFormatsEveryField) {
  EventView view = MakeView(ContentType::kJson, "1", "");
  view.stream = "a\"b\\c\n\xC3\xA9\xFF";
  view.type = "$metadata";
  view.revision = StreamRevision(StreamRevision::kTombstone);
  view.position = Position(std::numeric_limits<uint64_t>::max());
  view.id = Uuid::Parse("0C1F2D6E-8A43-4B7E-9D55-3F1E2A6B9C01").value();
  view.created_ns = 1795333511123456789LL;
  EXPECT_EQ(EventToJsonLine(view, LineMode::kExport),
            "{\"stream\":\"a\\\"b\\\\c\\n\xC3\xA9\xEF\xBF\xBD\",\"revision\":9223372036854775807,"
            "\"position\":18446744073709551615,\"id\":\"0c1f2d6e-8a43-4b7e-9d55-3f1e2a6b9c01\","
            "\"type\":\"$metadata\",\"created\":\"2026-11-22T07:45:11.123456789Z\",\"data\":1}");
}

TEST(ParseImportLineTest, ReadsEveryField) {
  Result<ImportEvent> event =
      ParseImportLine(R"({"stream":"acct-1","revision":2,"position":7,)"
                      R"("id":"0c1f2d6e-8a43-4b7e-9d55-3f1e2a6b9c01","type":"Deposited",)"
                      R"("created":"2026-12-07T13:05:00.123456789Z",)"
                      R"("data": { "amount" : 12345678901234567890.10 , "k" : "\u00e9" },)"
                      R"("metadata":[ 1, 2 ],"id_generated":true})");
  ASSERT_TRUE(event.has_value()) << event.error().message();
  EXPECT_EQ(event->stream, "acct-1");
  EXPECT_EQ(event->revision, 2u);
  EXPECT_EQ(event->position, 7u);
  EXPECT_EQ(event->event.id, Uuid::Parse("0c1f2d6e-8a43-4b7e-9d55-3f1e2a6b9c01").value());
  EXPECT_EQ(event->event.type, "Deposited");
  EXPECT_EQ(event->created_ns, ParseTimestamp("2026-12-07T13:05:00.123456789Z").value());
  EXPECT_EQ(event->event.content_type, ContentType::kJson);
  EXPECT_EQ(event->event.data, R"({"amount":12345678901234567890.10,"k":"\u00e9"})");
  EXPECT_EQ(event->event.metadata, "[1,2]");
  EXPECT_TRUE(event->id_generated);
}

TEST(ParseImportLineTest, DefaultsAndOptionalForms) {
  Result<ImportEvent> bare = ParseImportLine(R"( {"type":"T","stream":"s"} )");
  ASSERT_TRUE(bare.has_value()) << bare.error().message();
  EXPECT_EQ(bare->event.data, "{}");
  EXPECT_EQ(bare->event.metadata, "");
  EXPECT_EQ(bare->event.content_type, ContentType::kJson);
  EXPECT_FALSE(bare->event.id.has_value());
  EXPECT_FALSE(bare->revision.has_value());
  EXPECT_FALSE(bare->position.has_value());
  EXPECT_FALSE(bare->created_ns.has_value());
  EXPECT_FALSE(bare->id_generated);

  // What read prints for empty metadata is JSON null, stored as given.
  Result<ImportEvent> null_metadata =
      ParseImportLine(R"({"stream":"s","type":"T","metadata":null,"id_generated":false})");
  ASSERT_TRUE(null_metadata.has_value()) << null_metadata.error().message();
  EXPECT_EQ(null_metadata->event.metadata, "null");
  EXPECT_FALSE(null_metadata->id_generated);

  Result<ImportEvent> base64 =
      ParseImportLine(R"({"stream":"s","type":"T","data_base64":"e29vcHM=","metadata_base64":""})");
  ASSERT_TRUE(base64.has_value()) << base64.error().message();
  EXPECT_EQ(base64->event.content_type, ContentType::kJson);
  EXPECT_EQ(base64->event.data, "{oops");
  EXPECT_EQ(base64->event.metadata, "");

  Result<ImportEvent> binary = ParseImportLine(
      R"({"stream":"s","type":"T","content_type":"binary","data_base64":"AAEC/w==",)"
      R"("metadata_base64":"e30="})");
  ASSERT_TRUE(binary.has_value()) << binary.error().message();
  EXPECT_EQ(binary->event.content_type, ContentType::kBinary);
  EXPECT_EQ(binary->event.data, std::string("\x00\x01\x02\xff", 4));
  EXPECT_EQ(binary->event.metadata, "{}");

  // The form older exports wrote: base64 in "data" of a binary event.
  Result<ImportEvent> old_binary =
      ParseImportLine(R"({"stream":"s","type":"T","content_type":"binary","data":"AAEC/w=="})");
  ASSERT_TRUE(old_binary.has_value()) << old_binary.error().message();
  EXPECT_EQ(old_binary->event.data, std::string("\x00\x01\x02\xff", 4));
  Result<ImportEvent> empty_binary =
      ParseImportLine(R"({"stream":"s","type":"T","content_type":"binary"})");
  ASSERT_TRUE(empty_binary.has_value()) << empty_binary.error().message();
  EXPECT_EQ(empty_binary->event.data, "");

  Result<ImportEvent> limits =
      ParseImportLine(R"({"stream":"s","type":"T","revision":9223372036854775807,)"
                      R"("position":18446744073709551615,"content_type":"json","data":"x"})");
  ASSERT_TRUE(limits.has_value()) << limits.error().message();
  EXPECT_EQ(limits->revision, StreamRevision::kTombstone);
  EXPECT_EQ(limits->position, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(limits->event.data, "\"x\"");
}

TEST(ParseImportLineTest, NamesWhatIsWrong) {
  const std::string revision =
      R"(field "revision" must be an integer from 0 to 9223372036854775807)";
  const std::string position =
      R"(field "position" must be an integer from 0 to 18446744073709551615)";
  struct Case {
    std::string line;
    std::string message;
  };
  const Case cases[] = {
      {R"({"stream":"a","type":"T","stream":"b"})", R"(duplicate key "stream" at offset 25)"},
      {R"({"stream":"a","type":"T","\u0074ype":"U"})", R"(duplicate key "type" at offset 25)"},
      {R"({"stream":"s","type":"T","extra":1})", R"(unknown field "extra")"},
      {R"({"stream":"s","type":"T","Data":{}})", R"(unknown field "Data")"},
      {R"({"stream":"s","type":"T","a\nb":1})", R"(unknown field "a\nb")"},
      {R"({"type":"T"})", R"(field "stream" is missing)"},
      {R"({"stream":"s"})", R"(field "type" is missing)"},
      {R"({"stream":"","type":"T"})", R"(field "stream" must not be empty)"},
      {R"({"stream":"s","type":""})", R"(field "type" must not be empty)"},
      {R"({"stream":"s","type":["T"]})", R"(field "type" must be a string, got array)"},
      {R"({"stream":7,"type":"T"})", R"(field "stream" must be a string, got number)"},
      {R"({"stream":"s","type":"T","id":5})", R"(field "id" must be a UUID string, got number)"},
      {R"({"stream":"s","type":"T","id":"nope"})",
       R"(field "id": 'nope' is not a UUID (expected 8-4-4-4-12 hex digits))"},
      {R"({"stream":"s","type":"T","content_type":"text"})",
       R"(field "content_type" must be "json" or "binary")"},
      {R"({"stream":"s","type":"T","content_type":null})",
       R"(field "content_type" must be a string, got null)"},
      {R"({"stream":"s","type":"T","content_type":"binary","data":{}})",
       R"(field "data" must be a base64 string, got object)"},
      {R"({"stream":"s","type":"T","content_type":"binary","data":"@@"})",
       R"(field "data" is not valid base64)"},
      {R"({"stream":"s","type":"T","data_base64":"e30"})",
       R"(field "data_base64" is not valid base64)"},
      {R"({"stream":"s","type":"T","data_base64":true})",
       R"(field "data_base64" must be a base64 string, got boolean)"},
      {R"({"stream":"s","type":"T","data":{},"data_base64":"e30="})",
       R"(fields "data" and "data_base64" are exclusive)"},
      {R"({"stream":"s","type":"T","metadata":1,"metadata_base64":""})",
       R"(fields "metadata" and "metadata_base64" are exclusive)"},
      {R"({"stream":"s","type":"T","metadata_base64":"!"})",
       R"(field "metadata_base64" is not valid base64)"},
      {R"({"stream":"s","type":"T","revision":-1})", revision},
      {R"({"stream":"s","type":"T","revision":1.0})", revision},
      {R"({"stream":"s","type":"T","revision":1e3})", revision},
      {R"({"stream":"s","type":"T","revision":"1"})", revision},
      {R"({"stream":"s","type":"T","revision":9223372036854775808})", revision},
      {R"({"stream":"s","type":"T","position":18446744073709551616})", position},
      {R"({"stream":"s","type":"T","position":-0})", position},
      {R"({"stream":"s","type":"T","position":null})", position},
      {R"({"stream":"s","type":"T","created":"yesterday"})",
       R"(field "created": timestamp "yesterday" is not of the form )"
       R"(YYYY-MM-DDTHH:MM:SS[.fraction]Z)"},
      {R"({"stream":"s","type":"T","created":0})",
       R"(field "created" must be a string, got number)"},
      {R"({"stream":"s","type":"T","id_generated":true})",
       R"(field "id_generated" is true but field "id" is missing)"},
      {R"({"stream":"s","type":"T","id_generated":1})",
       R"(field "id_generated" must be true or false, got number)"},
      {R"({"stream":"s","type":"T","data":{"k":1,"k":2}})", R"(duplicate key "k" at offset 39)"},
      {R"({"stream":"s","type":"T","metadata":[1e400]})",
       "number 1e400 at offset 37 is out of range (beyond a double)"},
      {R"({"stream":"s","type":"T","data":)" + std::string(1001, '[') + std::string(1001, ']') +
           "}",
       "nesting deeper than 1000 levels at offset 1032"},
      {R"(["stream","s"])", "expected a JSON object, got array"},
      {"", "unexpected end of input"},
      {R"({"stream":"s","type":"T",})", "unexpected '}' at offset 25"},
  };
  for (const Case& c : cases) {
    Result<ImportEvent> event = ParseImportLine(c.line);
    ASSERT_FALSE(event.has_value()) << c.line;
    EXPECT_EQ(event.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(event.error().message(), c.message) << c.line;
  }
}

// Random events of every kind the format distinguishes.
class EventMaker {
 public:
  explicit EventMaker(uint64_t seed) : random_(seed) {}

  RecordedEvent Make() {
    RecordedEvent event;
    event.stream = Pick({"s", "acct-1", "$$acct-1", "caf\xC3\xA9-\xF0\x9F\x98\x80", "a\"b\\c"});
    event.type = Pick({"T", "$metadata", "$streamDeleted", "Deposited \xE2\x82\xAC"});
    event.revision =
        StreamRevision(Below(3) == 0 ? StreamRevision::kTombstone : random_() >> Below(64) >> 1);
    event.position = Position(random_() >> Below(64));
    std::array<uint8_t, 16> id{};
    for (uint8_t& byte : id) byte = static_cast<uint8_t>(random_());
    event.id = Uuid(id);
    event.created_ns = static_cast<int64_t>(random_());
    event.caller_id = Below(2) == 0;
    event.content_type = Below(4) == 0 ? ContentType::kBinary : ContentType::kJson;
    event.data = Bytes();
    event.metadata = Below(3) == 0 ? "" : Bytes();
    return event;
  }

 private:
  size_t Below(size_t n) { return static_cast<size_t>(random_() % n); }
  template <size_t N>
  std::string Pick(const char* const (&choices)[N]) {
    return choices[Below(N)];
  }

  std::string Bytes() {
    switch (Below(9)) {
      case 0:
        return "";
      case 1: {
        std::string bytes(Below(40), '\0');
        for (char& c : bytes) c = static_cast<char>(random_());
        return bytes;
      }
      case 2:
        return Pick({R"({"a":1,"b":[true,null,"x"]})", "123456789012345678901234567890",
                     R"({"n":-0.000e-5,"s":"\u00e9\ud83d\ude00\/\u0000"})", R"("")", "[]"});
      case 3:
        return Pick({"{ \"a\" : 1 }", " [ 1,\n2 ]\n", "\t\"x\"", "{\"s\":\" spaced \"} "});
      case 4:
        return Pick({R"({"k":1,"k":2})", "{oops", "1e400", "[1,]", "\xFF"});
      case 5: {
        const size_t levels = Below(2) == 0 ? 1000 : 1001;
        return std::string(levels, '[') + std::string(levels, ']');
      }
      case 6:
        return std::string(5'000, '{');
      default:
        return "{\"v\":" + std::to_string(random_()) + "}";
    }
  }

  std::mt19937_64 random_;
};

TEST(JsonLinesRoundTripTest, ExportThenImportGivesBackTheSameEvent) {
  constexpr uint64_t kSeed = 7;
  EventMaker maker(kSeed);
  for (int i = 0; i < 1500; ++i) {
    const RecordedEvent event = maker.Make();
    EventView view;
    view.stream = event.stream;
    view.revision = event.revision;
    view.position = event.position;
    view.id = event.id;
    view.type = event.type;
    view.content_type = event.content_type;
    view.data = event.data;
    view.metadata = event.metadata;
    view.created_ns = event.created_ns;
    view.caller_id = event.caller_id;
    const std::string line = EventToJsonLine(view, LineMode::kExport);
    SCOPED_TRACE("seed " + std::to_string(kSeed) + ", event " + std::to_string(i) + ": " +
                 line.substr(0, 300));
    Result<ImportEvent> back = ParseImportLine(line);
    ASSERT_TRUE(back.has_value()) << back.error().message();
    EXPECT_EQ(back->stream, event.stream);
    EXPECT_EQ(back->revision, event.revision.value());
    EXPECT_EQ(back->position, event.position.value());
    EXPECT_EQ(back->event.id, event.id);
    EXPECT_EQ(back->event.type, event.type);
    EXPECT_EQ(back->created_ns, event.created_ns);
    EXPECT_EQ(back->event.content_type, event.content_type);
    EXPECT_EQ(back->event.data, event.data);
    EXPECT_EQ(back->event.metadata, event.metadata);
    EXPECT_EQ(back->id_generated, !event.caller_id);
  }
}

}  // namespace
}  // namespace cairn::cli
