// Typed events: strict decoding names the type, the field and the problem;
// encoding round-trips; the JSON Schema says what decoding accepts.
#include <gtest/gtest.h>

#include <random>

#include "cairn/toolkit/event.h"
#include "toolkit/src/codec_internal.h"

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
  auto d = Decode<Deposited>(
      R"({"account":"a","amount":1,"rate":1,"urgent":false,"tags":[],"note":null})");
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
  EXPECT_EQ(
      ErrorOf(R"({"account":"a","amount":99999999999999999999,"rate":1,"urgent":false,"tags":[]})"),
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
  const std::string m2 = ErrorOf(
      std::string("{") + R"("account":"a","amount":5,"rate":1,"urgent":false,"tags":[]} x)");
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
    })"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find(R"("note": {
      "type": [
        "string",
        "null"
      ]
    })"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find(R"("required": [
    "account",
    "amount",
    "rate",
    "urgent",
    "tags"
  ])"),
            std::string::npos)
      << s;
}

// ---- The compact fast path (codec.cc) against the general path ----

// Every kind the fast path reads (no string list: those always take the
// general path).
struct Movement {
  static constexpr std::string_view kType = "Movement";
  static constexpr int kVersion = 1;
  std::string account;
  int64_t amount = 0;
  double rate = 0;
  bool urgent = false;
  std::optional<std::string> note;
  std::optional<int64_t> fee;
  static void Describe(Fields<Movement>& f) {
    f.Add("account", &Movement::account);
    f.Add("amount", &Movement::amount, Range(-50, 1'000'000'000'000));
    f.Add("rate", &Movement::rate);
    f.Add("urgent", &Movement::urgent);
    f.Add("note", &Movement::note);
    f.Add("fee", &Movement::fee, Min(0));
  }
};

// The outcome of decoding `json` one way: the error, or the event encoded.
std::string Outcome(std::string_view json, bool general) {
  Movement m;
  Status s;
  if (general) {
    Fields<Movement>::Into sink(FieldsOf<Movement>(), &m);
    s = internal::DecodeFieldsGeneral(Movement::kType, FieldsOf<Movement>().specs(), json, &sink);
  } else {
    s = DecodeInto(json, &m);
  }
  if (!s.ok()) return std::string(ErrorCodeName(s.code())) + ": " + s.message();
  return "ok " + Encode(m);
}

bool Compact(std::string_view json) {
  return internal::DecodesCompactly(FieldsOf<Movement>().specs(), json);
}

TEST(CodecTest, WhatEncodeWritesTakesTheCompactPath) {
  Movement m{"acc-\xc3\xa9t\xc3\xa9", -50, 0.1, true, std::nullopt, 7};
  EXPECT_TRUE(Compact(Encode(m))) << Encode(m);
  m.note = "caf\xc3\xa9 \xe2\x82\xac 12";
  m.fee.reset();
  EXPECT_TRUE(Compact(Encode(m))) << Encode(m);
  EXPECT_EQ(Outcome(Encode(m), false), "ok " + Encode(m));
  // Forms it leaves to the general path, which decodes them the same way.
  for (std::string_view general : {
           R"({"account":"a\"b","amount":1,"rate":2,"urgent":false})",           // an escape
           R"({"account":"\u00e9","amount":1,"rate":2,"urgent":false})",         // a \u escape
           R"({ "account":"a","amount":1,"rate":2,"urgent":false})",             // whitespace
           R"({"amount":1,"account":"a","rate":2,"urgent":false})",              // field order
           R"({"account":"a","amount":1,"rate":2,"urgent":false,"note":null})",  // null optional
       }) {
    // (a null optional is compact; the others are not)
    EXPECT_EQ(Compact(general), general.find("null") != std::string_view::npos) << general;
    EXPECT_EQ(Outcome(general, false), Outcome(general, true)) << general;
    EXPECT_EQ(Outcome(general, false).substr(0, 3), "ok ") << general;
  }
  EXPECT_EQ(Outcome(R"({"account":"a\"b","amount":1,"rate":2,"urgent":false})", false),
            R"(ok {"account":"a\"b","amount":1,"rate":2.0,"urgent":false})");
}

TEST(CodecTest, TheCompactPathRejectsWhatTheGeneralPathRejects) {
  // Each is close to the compact form; the error always comes from the
  // general path, so it names the problem the same way.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"account":"a","amount":05,"rate":2,"urgent":false})", "malformed JSON"},
      {R"({"account":"a","amount":-,"rate":2,"urgent":false})", "malformed JSON"},
      {R"({"account":"a","amount":1.0,"rate":2,"urgent":false})",
       "Movement.amount: expected an integer, got 1.0"},
      {R"({"account":"a","amount":1e2,"rate":2,"urgent":false})",
       "Movement.amount: expected an integer, got 1e2"},
      {R"({"account":"a","amount":-51,"rate":2,"urgent":false})",
       "Movement.amount: -51 is below the minimum -50"},
      // Long integers (the compact path once overflowed past 18 digits).
      {R"({"account":"a","amount":999999999999999999,"rate":2,"urgent":false})",
       "Movement.amount: 999999999999999999 is above the maximum 1000000000000"},
      {R"({"account":"a","amount":9223372036854775807,"rate":2,"urgent":false})",
       "Movement.amount: 9223372036854775807 is above the maximum 1000000000000"},
      {R"({"account":"a","amount":-9223372036854775808,"rate":2,"urgent":false})",
       "Movement.amount: -9223372036854775808 is below the minimum -50"},
      {R"({"account":"a","amount":99999999999999999999,"rate":2,"urgent":false})",
       "Movement.amount: number out of range for a 64-bit integer"},
      {R"({"account":"a","amount":1,"rate":.5,"urgent":false})", "malformed JSON"},
      {R"({"account":"a","amount":1,"rate":1.,"urgent":false})", "malformed JSON"},
      {R"({"account":"a","amount":1,"rate":1e999,"urgent":false})", "malformed JSON"},
      // simdjson refuses exponents of more than 19 digits, whatever their value.
      {R"({"account":"a","amount":1,"rate":1e00000000000000000001,"urgent":false})",
       "malformed JSON"},
      {R"({"account":"a","amount":1,"rate":2,"urgent":tru})", "malformed JSON"},
      {R"({"account":"a","amount":1,"rate":2,"urgent":null})",
       "Movement.urgent: expected a boolean, got null"},
      {"{\"account\":\"a\x01\",\"amount\":1,\"rate\":2,\"urgent\":false}", "malformed JSON"},
      {"{\"account\":\"a\xc3\",\"amount\":1,\"rate\":2,\"urgent\":false}", "malformed JSON"},
      {"{\"account\":\"\xed\xa0\x80\",\"amount\":1,\"rate\":2,\"urgent\":false}", "malformed JSON"},
      {R"({"account":"a","amount":1,"rate":2,"urgent":false,"account":"b"})",
       "Movement.account: field appears twice"},
      {R"({"account":"a","amount":1,"rate":2,"urgent":false,"x":1})",
       "Movement: unknown field 'x'"},
      {R"({"account":"a","amount":1,"rate":2})", "Movement.urgent: missing required field"},
      {R"({"account":"a","amount":1,"rate":2,"urgent":false}{})", "malformed JSON"},
      {R"({"account":"a","amount":1,"rate":2,"urgent":false)", "malformed JSON"},
  };
  for (const auto& [json, problem] : cases) {
    const std::string fast = Outcome(json, false);
    EXPECT_EQ(fast, Outcome(json, true)) << json;
    EXPECT_NE(fast.find(problem), std::string::npos) << json << " gave " << fast;
    EXPECT_EQ(fast.rfind("invalid_argument: Movement", 0), 0u) << fast;
  }
}

// Differential test: many mutations of compact events, each decoded by
// DecodeFields (fast path first) and by the general path alone, must give
// the same event or the same error; at least one in twenty must take the fast
// path, so that it is the path under test.
TEST(CodecTest, CompactAndGeneralPathsAgreeOnMutatedEvents) {
  std::mt19937_64 rng(20261122);
  const std::vector<std::string> texts = {"",
                                          "a",
                                          "acc-42",
                                          "caf\xc3\xa9",
                                          "\xe2\x82\xac\xf0\x9f\x98\x80",
                                          "0123456789abcdef0123456789"};
  const std::vector<int64_t> ints = {-50, -1, 0, 1, 9, 10, 999999999999, 1'000'000'000'000};
  const std::vector<double> doubles = {0.0, -0.0, 0.1, 1e300, -2.5e-300, 123456.789, 3.0};
  const std::string alphabet = "\"\\{}[]:,0123456789.eE-+ntrufalsx \x01\x7f\x80\xc3\xa9\xed\xff";
  auto pick = [&](const auto& v) { return v[rng() % v.size()]; };
  int compact = 0, total = 0;
  for (int base = 0; base < 300; ++base) {
    Movement m{pick(texts),      pick(ints),   pick(doubles),
               (rng() & 1) != 0, std::nullopt, std::nullopt};
    if (rng() & 1) m.note = pick(texts);
    if (rng() & 1) m.fee = std::abs(pick(ints));
    const std::string json = Encode(m);
    ASSERT_TRUE(Compact(json)) << json;
    ASSERT_EQ(Outcome(json, false), "ok " + json);
    for (int k = 0; k < 60; ++k) {
      std::string v = json;
      const int edits = 1 + static_cast<int>(rng() % 2);
      for (int e = 0; e < edits && !v.empty(); ++e) {
        const size_t at = rng() % v.size();
        switch (rng() % 4) {
          case 0:
            v.erase(at, 1);
            break;
          case 1:
            v.insert(v.begin() + static_cast<std::ptrdiff_t>(at),
                     alphabet[rng() % alphabet.size()]);
            break;
          case 2:
            v[at] = alphabet[rng() % alphabet.size()];
            break;
          case 3:
            v.insert(at, v.substr(rng() % v.size(), 1 + rng() % 6));
            break;
        }
      }
      ++total;
      if (Compact(v)) ++compact;
      ASSERT_EQ(Outcome(v, false), Outcome(v, true)) << "input: " << v;
    }
  }
  EXPECT_GT(compact, total / 20) << compact << " of " << total << " took the fast path";
}

// A field name that JSON escapes gets no compact key: its events take the
// general path, which unescapes keys before comparing them.
struct Quoted {
  static constexpr std::string_view kType = "Quoted";
  static constexpr int kVersion = 1;
  std::string value;
  static void Describe(Fields<Quoted>& f) { f.Add("a\"b", &Quoted::value); }
};

TEST(CodecTest, NamesThatNeedEscapingTakeTheGeneralPath) {
  EXPECT_EQ(FieldsOf<Quoted>().specs()[0].json_key, "");
  const std::string json = Encode(Quoted{"v"});
  EXPECT_EQ(json, R"({"a\"b":"v"})");
  auto back = Decode<Quoted>(json);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->value, "v");
  // Raw bytes that only look like the name are not the name.
  auto wrong = Decode<Quoted>(R"({"a\b":"v"})");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kInvalidArgument);
}

struct Slashed {
  static constexpr std::string_view kType = "Slashed";
  static constexpr int kVersion = 1;
  std::string value;
  static void Describe(Fields<Slashed>& f) { f.Add("a\\b", &Slashed::value); }  // a, backslash, b
};

TEST(CodecTest, AnEscapeInTheInputIsNeverComparedRaw) {
  // In JSON, "a\\b" (two backslashes) is a<backslash>b, this field; "a\b"
  // (one) is a<backspace>, another one.
  auto right = Decode<Slashed>(R"({"a\\b":"v"})");
  ASSERT_TRUE(right.has_value()) << right.error().ToString();
  EXPECT_EQ(right->value, "v");
  auto other = Decode<Slashed>(R"({"a\b":"v"})");
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(other.error().message(), "Slashed: unknown field 'a\x08'");  // a, backspace
}

}  // namespace
}  // namespace cairn::toolkit
