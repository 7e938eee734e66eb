// Unit tests of the JSON-lines codec and base64 used by `cairn`.

#include "cli/json_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "cli/base64.h"

namespace cairn::cli {
namespace {

using Json = nlohmann::ordered_json;

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
  for (const char* bad :
       {"A", "AB=", "A===", "@@@@", "AAE=AAAA", "AB==", "AAF="}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
}

TEST(FormatTimestampTest, Rfc3339WithNanoseconds) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatTimestamp(1795333511123456789LL),
            "2026-11-22T07:45:11.123456789Z");
  EXPECT_EQ(FormatTimestamp(4102444800LL * 1000000000LL),
            "2100-01-01T00:00:00.000000000Z");
}

EventView MakeView(ContentType type, std::string_view data,
                   std::string_view metadata) {
  EventView view;
  view.stream = "s";
  view.revision = StreamRevision(3);
  view.position = Position(9);
  view.type = "T";
  view.content_type = type;
  view.data = data;
  view.metadata = metadata;
  return view;
}

TEST(EventToJsonTest, JsonDataKeepsKeyOrder) {
  Json out = EventToJson(
      MakeView(ContentType::kJson, R"({"z":1, "a":[true]})", R"({"k":"v"})"),
      EmptyMetadata::kNull);
  EXPECT_EQ(out.dump(),
            R"({"stream":"s","revision":3,"position":9,)"
            R"("id":"00000000-0000-0000-0000-000000000000","type":"T",)"
            R"("created":"1970-01-01T00:00:00.000000000Z",)"
            R"("data":{"z":1,"a":[true]},"metadata":{"k":"v"}})");
}

TEST(EventToJsonTest, UnparseableBytesBecomeBase64) {
  Json binary = EventToJson(MakeView(ContentType::kBinary, "{}", ""),
                            EmptyMetadata::kOmit);
  EXPECT_EQ(binary["content_type"], "binary");
  EXPECT_EQ(binary["data"], "e30=");
  EXPECT_FALSE(binary.contains("metadata"));
  Json bad_json = EventToJson(MakeView(ContentType::kJson, "{oops", "not json"),
                              EmptyMetadata::kNull);
  EXPECT_EQ(bad_json["content_type"], "binary");
  EXPECT_EQ(bad_json["data"], Base64Encode("{oops"));
  EXPECT_EQ(bad_json["metadata_base64"], Base64Encode("not json"));
  EXPECT_FALSE(bad_json.contains("metadata"));
}

TEST(ParseImportLineTest, StoresCompactJsonAndDefaults) {
  Result<ImportEvent> event =
      ParseImportLine(R"({"stream":"s","type":"T","data":{ "b" : 1, "a" : 2 },)"
                      R"("revision":4,"position":5,"created":"x"})");
  ASSERT_TRUE(event.has_value()) << event.error().message();
  EXPECT_EQ(event->stream, "s");
  EXPECT_EQ(event->event.type, "T");
  EXPECT_EQ(event->event.content_type, ContentType::kJson);
  EXPECT_EQ(event->event.data, R"({"b":1,"a":2})");
  EXPECT_EQ(event->event.metadata, "");
  EXPECT_FALSE(event->event.id.has_value());

  Result<ImportEvent> bare = ParseImportLine(R"({"stream":"s","type":"T"})");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->event.data, "{}");
  Result<ImportEvent> null_metadata =
      ParseImportLine(R"({"stream":"s","type":"T","metadata":null})");
  ASSERT_TRUE(null_metadata.has_value());
  EXPECT_EQ(null_metadata->event.metadata, "null");
}

TEST(ParseImportLineTest, BinaryDataAndMetadataAreDecoded) {
  Result<ImportEvent> event = ParseImportLine(
      R"({"stream":"s","type":"T","content_type":"binary","data":"AAEC/w==",)"
      R"("metadata_base64":"e30="})");
  ASSERT_TRUE(event.has_value()) << event.error().message();
  EXPECT_EQ(event->event.content_type, ContentType::kBinary);
  EXPECT_EQ(event->event.data, std::string("\x00\x01\x02\xff", 4));
  EXPECT_EQ(event->event.metadata, "{}");
}

TEST(ParseImportLineTest, NamesWhatIsWrong) {
  struct Case {
    const char* line;
    const char* message;
  };
  const Case cases[] = {
      {R"({"stream":"","type":"T"})", R"(field "stream" must not be empty)"},
      {R"({"stream":"s","type":["T"]})",
       R"(field "type" must be a string, got array)"},
      {R"({"stream":"s","type":"T","id":5})",
       R"(field "id" must be a UUID string, got number)"},
      {R"({"stream":"s","type":"T","content_type":"binary","data":{}})",
       R"(field "data" must be a base64 string, got object)"},
      {R"({"stream":"s","type":"T","metadata":1,"metadata_base64":""})",
       R"(fields "metadata" and "metadata_base64" are exclusive)"},
      {"",
       "parse error at line 1, column 1: syntax error while parsing value "
       "- unexpected end of input; expected '[', '{', or a literal"},
  };
  for (const Case& c : cases) {
    Result<ImportEvent> event = ParseImportLine(c.line);
    ASSERT_FALSE(event.has_value()) << c.line;
    EXPECT_EQ(event.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(event.error().message(), c.message) << c.line;
  }
}

TEST(CompactJsonTest, NormalizesWhitespace) {
  Result<std::string> compact = CompactJson(" [ 1 , {\"a\" : null} ] ");
  ASSERT_TRUE(compact.has_value());
  EXPECT_EQ(*compact, R"([1,{"a":null}])");
  EXPECT_FALSE(CompactJson("1 2").has_value());
}

}  // namespace
}  // namespace cairn::cli
