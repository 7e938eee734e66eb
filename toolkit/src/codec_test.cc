// Typed events: strict decoding names the type, the field and the problem;
// encoding round-trips; the JSON Schema says what decoding accepts.
#include <gtest/gtest.h>

#include "cairn/toolkit/event.h"

namespace cairn::toolkit {
namespace {

struct Deposited {
  static constexpr std::string_view kType = "Deposited";
  static constexpr int kVersion = 2;
  std::string account;
  int64_t amount = 0;
  double rate = 0;
  bool urgent = false;
  std::vector<std::string> tags;
  std::optional<std::string> note;
  std::optional<int64_t> fee;
  static void Describe(Fields<Deposited>& f) {
    f.Add("account", &Deposited::account, Described("account id"));
    f.Add("amount", &Deposited::amount, Range(1, 1000000));
    f.Add("rate", &Deposited::rate);
    f.Add("urgent", &Deposited::urgent);
    f.Add("tags", &Deposited::tags);
    f.Add("note", &Deposited::note);
    f.Add("fee", &Deposited::fee, Min(0));
  }
};

struct Frozen {
  static constexpr std::string_view kType = "Frozen";
  static constexpr int kVersion = 1;
  std::string reason;
  static void Describe(Fields<Frozen>& f) { f.Add("reason", &Frozen::reason); }
};

constexpr std::string_view kFull =
    R"({"account":"a-1","amount":250,"rate":0.5,"urgent":true,"tags":["x","y"],"note":"hi","fee":3})";

std::string ErrorOf(std::string_view json) {
  auto r = Decode<Deposited>(json);
  if (r.has_value()) return "decoded";
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  return r.error().message();
}

TEST(CodecTest, DecodesEveryKindAndRoundTrips) {
  auto d = Decode<Deposited>(kFull);
  ASSERT_TRUE(d.has_value()) << d.error().ToString();
  EXPECT_EQ(d->account, "a-1");
  EXPECT_EQ(d->amount, 250);
  EXPECT_EQ(d->rate, 0.5);
  EXPECT_TRUE(d->urgent);
  EXPECT_EQ(d->tags, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(d->note, std::optional<std::string>("hi"));
  EXPECT_EQ(d->fee, std::optional<int64_t>(3));
  EXPECT_EQ(Encode(*d), kFull);
}

TEST(CodecTest, OptionalFieldsMayBeAbsentOrNullAndAreLeftOutWhenEncoding) {
  auto d = Decode<Deposited>(R"({"account":"a","amount":1,"rate":1,"urgent":false,"tags":[],"note":null})");
  ASSERT_TRUE(d.has_value()) << d.error().ToString();
  EXPECT_EQ(d->note, std::nullopt);
  EXPECT_EQ(d->fee, std::nullopt);
  EXPECT_EQ(d->rate, 1.0);  // an integer is a valid number
  EXPECT_EQ(Encode(*d), R"({"account":"a","amount":1,"rate":1.0,"urgent":false,"tags":[]})");
}

TEST(CodecTest, StrictErrorsNameTypeFieldAndProblem) {
  const std::string base = R"("account":"a","amount":5,"rate":1,"urgent":false,"tags":[])";
  EXPECT_EQ(ErrorOf("{" + base + R"(,"amout":5})"), "Deposited: unknown field 'amout'");
  EXPECT_EQ(ErrorOf(R"({"account":"a","rate":1,"urgent":false,"tags":[]})"),
            "Deposited.amount: missing required field");
  EXPECT_EQ(ErrorOf(R"({"account":"a","amount":"5","rate":1,"urgent":false,"tags":[]})"),
            "Deposited.amount: expected an integer, got a string");
  EXPECT_EQ(ErrorOf(R"({"account":"a","amount":5.5,"rate":1,"urgent":false,"tags":[]})"),
            "Deposited.amount: expected an integer, got 5.5");
  EXPECT_EQ(ErrorOf(R"({"account":"a","amount":0,"rate":1,"urgent":false,"tags":[]})"),
            "Deposited.amount: 0 is below the minimum 1");
  EXPECT_EQ(ErrorOf(R"({"account":"a","amount":1000001,"rate":1,"urgent":false,"tags":[]})"),
            "Deposited.amount: 1000001 is above the maximum 1000000");
  EXPECT_EQ(ErrorOf(R"({"account":"a","amount":99999999999999999999,"rate":1,"urgent":false,"tags":[]})"),
            "Deposited.amount: number out of range for a 64-bit integer");
  EXPECT_EQ(ErrorOf(R"({"account":null,"amount":5,"rate":1,"urgent":false,"tags":[]})"),
            "Deposited.account: expected a string, got null");
  EXPECT_EQ(ErrorOf(R"({"account":"a","amount":5,"rate":1,"urgent":1,"tags":[]})"),
            "Deposited.urgent: expected a boolean, got a number");
  EXPECT_EQ(ErrorOf(R"({"account":"a","amount":5,"rate":1,"urgent":false,"tags":["x",2]})"),
            "Deposited.tags: item 1: expected a string, got a number");
  EXPECT_EQ(ErrorOf("{" + base + R"(,"fee":-1})"), "Deposited.fee: -1 is below the minimum 0");
  EXPECT_EQ(ErrorOf("{" + base + R"(,"account":"b"})"), "Deposited.account: field appears twice");
  EXPECT_EQ(ErrorOf("[1,2]"), "Deposited: expected a JSON object, got an array");
}

TEST(CodecTest, MalformedJsonIsAnInvalidArgumentNamingTheType) {
  const std::string m1 = ErrorOf(R"({"account":"a","amount":)");
  EXPECT_EQ(m1.rfind("Deposited: malformed JSON (", 0), 0u) << m1;
  const std::string m2 = ErrorOf(std::string("{") + R"("account":"a","amount":5,"rate":1,"urgent":false,"tags":[]} x)");
  EXPECT_EQ(m2.rfind("Deposited: malformed JSON (", 0), 0u) << m2;
  const std::string m3 = ErrorOf("");
  EXPECT_EQ(m3.rfind("Deposited: malformed JSON (", 0), 0u) << m3;
}

TEST(CodecTest, EventSetDecodesByTypeName) {
  using Events = EventSet<Deposited, Frozen>;
  auto f = Events::Decode("Frozen", R"({"reason":"fraud"})");
  ASSERT_TRUE(f.has_value()) << f.error().ToString();
  ASSERT_TRUE(std::holds_alternative<Frozen>(*f));
  EXPECT_EQ(std::get<Frozen>(*f).reason, "fraud");
  EXPECT_EQ(Events::TypeName(*f), "Frozen");
  EXPECT_EQ(Events::VersionOf(*f), 1);
  EXPECT_EQ(Events::Encode(*f), R"({"reason":"fraud"})");
  auto u = Events::Decode("Thawed", "{}");
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(u.error().message(), "unknown event type 'Thawed'");
  auto bad = Events::Decode("Frozen", R"({"reason":7})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "Frozen.reason: expected a string, got a number");
}

TEST(CodecTest, JsonSchemaDescribesWhatDecodingAccepts) {
  EXPECT_EQ(SchemaOf<Frozen>(), R"({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "urn:cairn:event:Frozen:v1",
  "title": "Frozen",
  "type": "object",
  "properties": {
    "reason": {
      "type": "string"
    }
  },
  "required": [
    "reason"
  ],
  "additionalProperties": false,
  "x-cairn-schema-version": 1
})");
  const std::string s = SchemaOf<Deposited>();
  EXPECT_NE(s.find(R"("amount": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1000000
    })"), std::string::npos) << s;
  EXPECT_NE(s.find(R"("note": {
      "type": [
        "string",
        "null"
      ]
    })"), std::string::npos) << s;
  EXPECT_NE(s.find(R"("required": [
    "account",
    "amount",
    "rate",
    "urgent",
    "tags"
  ])"), std::string::npos) << s;
}

}  // namespace
}  // namespace cairn::toolkit
