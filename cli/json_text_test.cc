// Unit tests of the JSON validator and compactor (cli/json_text.h): every
// rule with its exact message, limits, and the byte-for-byte guarantees.
// The randomized comparison with nlohmann::json is in
// json_text_differential_test.cc.

#include "cli/json_text.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace cairn::cli {
namespace {

// The error message of CompactJson(text), or "OK: <compact>" on success, so
// a failed expectation shows what happened either way.
std::string Outcome(std::string_view text, const JsonLimits& limits = {}) {
  Result<std::string> compact = CompactJson(text, limits);
  if (compact.has_value()) return "OK: " + *compact;
  EXPECT_EQ(compact.error().code(), ErrorCode::kInvalidArgument);
  return compact.error().message();
}

std::string Nested(size_t levels, std::string_view open, std::string_view inner,
                   std::string_view close) {
  std::string text;
  text.reserve(levels * (open.size() + close.size()) + inner.size());
  for (size_t i = 0; i < levels; ++i) text.append(open);
  text.append(inner);
  for (size_t i = 0; i < levels; ++i) text.append(close);
  return text;
}

TEST(CompactJsonTest, RemovesWhitespaceBetweenTokensOnly) {
  EXPECT_EQ(Outcome(" \t\r\n[ 1 ,\n\t{ \"a b\" : \" x  y \" , \"c\" :[ ] } , true\r\n, null ]  \n"),
            "OK: [1,{\"a b\":\" x  y \",\"c\":[]},true,null]");
  EXPECT_EQ(Outcome("{ }"), "OK: {}");
  EXPECT_EQ(Outcome("[\n]"), "OK: []");
  EXPECT_EQ(Outcome("{\"a\":{\"b\":[[ ],{ }]}}"), R"(OK: {"a":{"b":[[],{}]}})");
}

TEST(CompactJsonTest, AnyValueMayBeTheDocument) {
  EXPECT_EQ(Outcome(" 1 "), "OK: 1");
  EXPECT_EQ(Outcome("\"s\""), "OK: \"s\"");
  EXPECT_EQ(Outcome("true"), "OK: true");
  EXPECT_EQ(Outcome("false"), "OK: false");
  EXPECT_EQ(Outcome("\nnull\n"), "OK: null");
}

TEST(CompactJsonTest, KeepsNumbersDigitForDigit) {
  for (const char* number : {"0",
                             "-0",
                             "-0.0",
                             "0.0e0",
                             "1E+2",
                             "1e-2",
                             "10.50",
                             "-123.456e-007",
                             "123456789012345678901234567890",
                             "12345678901234567890.10",
                             "0.1000000000000000055511151231257827021181583404541015625",
                             "3.14159265358979323846264338327950288419716939937510582097494459",
                             "1e-400",
                             "-4.9e-324",
                             "1e308",
                             "0.01e310",
                             "1.7976931348623157e308",
                             "-1.7976931348623157E+308",
                             "0e99999999999999999999",
                             "1e-99999999999999999999"}) {
    EXPECT_EQ(Outcome(number), std::string("OK: ") + number);
    EXPECT_EQ(Outcome(std::string("[ ") + number + " ]"), std::string("OK: [") + number + "]");
  }
  // DBL_MAX written out in full (309 digits) fits.
  const std::string dbl_max =
      "17976931348623157081452742373170435679807056752584499659891747680315726078002853876058955"
      "86327668781715404589535143824642343213268894641827684675467035375169860499105765512820762"
      "45490090389328944075868508455133942304583236903222948165808559332123348274797826204144723"
      "168738177180919299881250404026184124858368";
  ASSERT_EQ(dbl_max.size(), 309u);
  EXPECT_EQ(Outcome(dbl_max), "OK: " + dbl_max);
}

TEST(CompactJsonTest, RefusesNumbersBeyondADouble) {
  EXPECT_EQ(Outcome(R"({"a":1e400})"),
            "number 1e400 at offset 5 is out of range (beyond a double)");
  EXPECT_EQ(Outcome("-1e400"), "number -1e400 at offset 0 is out of range (beyond a double)");
  EXPECT_EQ(Outcome("[1.8e308]"), "number 1.8e308 at offset 1 is out of range (beyond a double)");
  EXPECT_EQ(Outcome("0.1e310"), "number 0.1e310 at offset 0 is out of range (beyond a double)");
  EXPECT_EQ(Outcome("1e99999999999999999999"),
            "number 1e99999999999999999999 at offset 0 is out of range (beyond a double)");
  // 400 digits: the message shows the first 40.
  const std::string digits = "1" + std::string(399, '7');
  EXPECT_EQ(Outcome("[0, " + digits + "]"),
            "number " + digits.substr(0, 40) + "... at offset 4 is out of range (beyond a double)");
  // 2^1024 - 2^970 is where rounding reaches infinity; one digit above DBL_MAX
  // in the 17th place rounds to it.
  EXPECT_EQ(Outcome("1.7976931348623159e308"),
            "number 1.7976931348623159e308 at offset 0 is out of range (beyond a double)");
  EXPECT_EQ(Outcome("1.7976931348623158e308"), "OK: 1.7976931348623158e308");
}

TEST(CompactJsonTest, KeepsStringsAsWritten) {
  EXPECT_EQ(Outcome(R"( [ "\u00e9\u00E9\/\"\\\b\f\n\r\t" , "\ud83d\ude00\uD834\uDD1E" ] )"),
            R"(OK: ["\u00e9\u00E9\/\"\\\b\f\n\r\t","\ud83d\ude00\uD834\uDD1E"])");
  EXPECT_EQ(Outcome(R"("\u0000 inside")"), R"(OK: "\u0000 inside")");
  EXPECT_EQ(Outcome("\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \x7F\""),
            "OK: \"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \x7F\"");
}

TEST(CompactJsonTest, AcceptsUtf8AtEveryBoundary) {
  for (const char* text : {
           "\xC2\x80",          // U+0080, smallest two-byte
           "\xDF\xBF",          // U+07FF
           "\xE0\xA0\x80",      // U+0800, smallest three-byte
           "\xED\x9F\xBF",      // U+D7FF, just below the surrogates
           "\xEE\x80\x80",      // U+E000, just above them
           "\xEF\xBF\xBF",      // U+FFFF
           "\xF0\x90\x80\x80",  // U+10000, smallest four-byte
           "\xF4\x8F\xBF\xBF",  // U+10FFFF, the last code point
       }) {
    const std::string json = std::string("\"") + text + "\"";
    EXPECT_EQ(Outcome(json), "OK: " + json);
  }
}

TEST(CompactJsonTest, RefusesInvalidUtf8) {
  struct Case {
    const char* bytes;  // inside ["x", "<bytes>"]: the string starts at offset 7
    const char* why;
  };
  const Case cases[] = {
      {"\x80", "a lone continuation byte"},
      {"\xBF", "a lone continuation byte"},
      {"\xC0\x80", "overlong NUL"},
      {"\xC1\xBF", "overlong two-byte"},
      {"\xE0\x80\x80", "overlong three-byte"},
      {"\xE0\x9F\xBF", "overlong three-byte"},
      {"\xED\xA0\x80", "UTF-8 encoded surrogate U+D800"},
      {"\xED\xBF\xBF", "UTF-8 encoded surrogate U+DFFF"},
      {"\xF0\x80\x80\x80", "overlong four-byte"},
      {"\xF0\x8F\xBF\xBF", "overlong four-byte"},
      {"\xF4\x90\x80\x80", "U+110000"},
      {"\xF5\x80\x80\x80", "lead byte above F4"},
      {"\xFE", "never valid"},
      {"\xFF", "never valid"},
      {"\xC3", "truncated by the quote"},
      {"\xE2\x82", "truncated by the quote"},
      {"\xF0\x9F\x98", "truncated by the quote"},
      {"\xE2\x82x", "truncated by a letter"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Outcome(std::string("[\"x\", \"") + c.bytes + "\"]"), "invalid UTF-8 at offset 7")
        << c.why;
  }
  EXPECT_EQ(Outcome("\"ok \xC3\xA9 then \xC3\""), "invalid UTF-8 at offset 12");
  EXPECT_EQ(Outcome("\"\xE2\x82"), "invalid UTF-8 at offset 1");  // cut by the end
}

TEST(CompactJsonTest, RefusesUnescapedControlCharacters) {
  EXPECT_EQ(Outcome("\"ab\x01\""), "unescaped control character in a string at offset 3");
  EXPECT_EQ(Outcome("[\"line\nbreak\"]"), "unescaped control character in a string at offset 6");
  EXPECT_EQ(Outcome("\"\t\""), "unescaped control character in a string at offset 1");
  EXPECT_EQ(Outcome(std::string("\"\0\"", 3)),
            "unescaped control character in a string at offset 1");
  EXPECT_EQ(Outcome("\"\x1F\""), "unescaped control character in a string at offset 1");
}

TEST(CompactJsonTest, PairsSurrogateEscapes) {
  EXPECT_EQ(Outcome(R"(["\ud800"])"), R"(lone surrogate \ud800 at offset 2)");
  EXPECT_EQ(Outcome(R"("\uDBFF")"), R"(lone surrogate \uDBFF at offset 1)");
  EXPECT_EQ(Outcome(R"("\udc00")"), R"(lone surrogate \udc00 at offset 1)");
  EXPECT_EQ(Outcome(R"("a\udc00\ud800")"), R"(lone surrogate \udc00 at offset 2)");
  EXPECT_EQ(Outcome(R"("\ud800\ud800")"), R"(lone surrogate \ud800 at offset 1)");
  EXPECT_EQ(Outcome(R"("\ud800\u0041")"), R"(lone surrogate \ud800 at offset 1)");
  EXPECT_EQ(Outcome(R"("\ud800x")"), R"(lone surrogate \ud800 at offset 1)");
  EXPECT_EQ(Outcome(R"("\ud800\n")"), R"(lone surrogate \ud800 at offset 1)");
  EXPECT_EQ(Outcome(R"("\ud800\uZZZZ")"), R"(invalid \u escape at offset 7)");
  EXPECT_EQ(Outcome(R"("\uDBFF\uDFFF")"), R"(OK: "\uDBFF\uDFFF")");
}

TEST(CompactJsonTest, RefusesBadEscapes) {
  EXPECT_EQ(Outcome(R"("\x41")"), "invalid escape character 'x' at offset 1");
  EXPECT_EQ(Outcome(R"("\'")"), "invalid escape character \"'\" at offset 1");
  EXPECT_EQ(Outcome(R"("\U0041")"), "invalid escape character 'U' at offset 1");
  EXPECT_EQ(Outcome("\"\\\xC3\xA9\""), "invalid escape character byte 0xC3 at offset 1");
  EXPECT_EQ(Outcome(R"(["\u12G4"])"), R"(invalid \u escape at offset 2)");
  EXPECT_EQ(Outcome(R"("\u12")"), R"(invalid \u escape at offset 1)");
  EXPECT_EQ(Outcome(R"("\u12)"), "unexpected end of input");
  EXPECT_EQ(Outcome(R"("\)"), "unexpected end of input");
}

TEST(CompactJsonTest, StrictGrammar) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"[1,]", "unexpected ']' at offset 3"},
      {R"({"a":1,})", "unexpected '}' at offset 7"},
      {"[,1]", "unexpected ',' at offset 1"},
      {"NaN", "unexpected 'N' at offset 0"},
      {"[Infinity]", "unexpected 'I' at offset 1"},
      {"['a']", "unexpected \"'\" at offset 1"},
      {"{'a':1}", "unexpected \"'\" at offset 1"},
      {"[1 // c\n]", "unexpected '/' at offset 3"},
      {"/* c */ 1", "unexpected '/' at offset 0"},
      {R"({"a" 1})", "unexpected '1' at offset 5"},
      {R"({"a":1 "b":2})", "unexpected '\"' at offset 7"},
      {"{1:2}", "unexpected '1' at offset 1"},
      {"{a:2}", "unexpected 'a' at offset 1"},
      {"[1 2]", "unexpected '2' at offset 3"},
      {"[}", "unexpected '}' at offset 1"},
      {"{]", "unexpected ']' at offset 1"},
      {"[1}", "unexpected '}' at offset 2"},
      {R"({"a":1])", "unexpected ']' at offset 6"},
      {"]", "unexpected ']' at offset 0"},
      {"1 2", "trailing characters at offset 2"},
      {"{} {}", "trailing characters at offset 3"},
      {"[]]", "trailing characters at offset 2"},
      {"01", "number with a leading zero at offset 0"},
      {"[-01]", "number with a leading zero at offset 1"},
      {"00.5", "number with a leading zero at offset 0"},
      {".5", "unexpected '.' at offset 0"},
      {"+1", "unexpected '+' at offset 0"},
      {"-x", "unexpected 'x' at offset 1"},
      {"1.e5", "unexpected 'e' at offset 2"},
      {"[1e+x]", "unexpected 'x' at offset 4"},
      {"0x10", "trailing characters at offset 1"},
      {"tRue", "unexpected 'R' at offset 1"},
      {"nul1", "unexpected '1' at offset 3"},
      {"True", "unexpected 'T' at offset 0"},
      {"\x01", "unexpected byte 0x01 at offset 0"},
      {"[\xC3\xA9]", "unexpected byte 0xC3 at offset 1"},
      {"\xEF\xBB\xBF{}", "unexpected byte 0xEF at offset 0"},  // no BOM
      {"[1]\x0B", "trailing characters at offset 3"},          // VT is no whitespace
      {"\f[]", "unexpected byte 0x0C at offset 0"},
  };
  for (const Case& c : cases) EXPECT_EQ(Outcome(c.text), c.message) << c.text;
  EXPECT_EQ(Outcome(std::string("[1,\0]", 5)), "unexpected byte 0x00 at offset 3");
}

TEST(CompactJsonTest, NamesTheEndOfInput) {
  for (const char* text : {"", "  \n", "[", "[1", "[1,", "{", "{\"a\"", "{\"a\":", "{\"a\":1,",
                           "\"abc", "\"\\u00", "tru", "f", "-", "1.", "1e", "1e+", "[{}"}) {
    EXPECT_EQ(Outcome(text), "unexpected end of input") << text;
  }
}

TEST(CompactJsonTest, NestingLimitCountsTheOutermostLevel) {
  EXPECT_EQ(Outcome(Nested(1000, "[", "", "]")), "OK: " + Nested(1000, "[", "", "]"));
  EXPECT_EQ(Outcome(Nested(1001, "[", "", "]")), "nesting deeper than 1000 levels at offset 1000");
  const std::string objects = Nested(1000, R"({"a":)", "1", "}");
  EXPECT_EQ(Outcome(objects), "OK: " + objects);
  EXPECT_EQ(Outcome(Nested(1001, R"({"a":)", "1", "}")),
            "nesting deeper than 1000 levels at offset 5000");
  EXPECT_EQ(Outcome(Nested(1000, "[ ", "{}", " ]")),
            "nesting deeper than 1000 levels at offset 2000");
  // Mixed, with the limit set lower.
  JsonLimits three;
  three.max_depth = 3;
  EXPECT_EQ(Outcome(R"([{"a":[1]},[[2]]])", three), R"(OK: [{"a":[1]},[[2]]])");
  EXPECT_EQ(Outcome(R"([{"a":[[1]]}])", three), "nesting deeper than 3 levels at offset 7");
  EXPECT_EQ(Outcome("1", JsonLimits{.max_depth = 0}), "OK: 1");
  EXPECT_EQ(Outcome("[]", JsonLimits{.max_depth = 0}), "nesting deeper than 0 levels at offset 0");
}

// A hostile document crashed a recursive printer at ~50,000 levels. This
// one is refused by the limit, and accepted when the limit allows it: the
// scanner's stack is a vector, not the call stack.
TEST(CompactJsonTest, HundredThousandLevelsNeverCrash) {
  const std::string arrays = Nested(100'000, "[", "", "]");
  const std::string objects = Nested(100'000, R"({"":)", "0", "}");
  EXPECT_EQ(Outcome(arrays), "nesting deeper than 1000 levels at offset 1000");
  EXPECT_EQ(Outcome(objects), "nesting deeper than 1000 levels at offset 4000");
  EXPECT_EQ(Outcome(Nested(100'000, "[", "", "")),
            "nesting deeper than 1000 levels at offset 1000");
  const JsonLimits unbounded{.max_depth = 1'000'000};
  EXPECT_TRUE(ValidateJson(arrays, unbounded).ok());
  Result<std::string> compact = CompactJson(objects, unbounded);
  ASSERT_TRUE(compact.has_value()) << compact.error().message();
  EXPECT_EQ(*compact, objects);
  EXPECT_EQ(ValidateJson(Nested(100'000, "[", "", ""), unbounded).message(),
            "unexpected end of input");
}

TEST(CompactJsonTest, RefusesDuplicateKeysComparedDecoded) {
  EXPECT_EQ(Outcome(R"({"k":1,"k":2})"), R"(duplicate key "k" at offset 7)");
  EXPECT_EQ(Outcome(R"({"k":1, "x":{}, "k":2})"), R"(duplicate key "k" at offset 16)");
  EXPECT_EQ(Outcome(R"({"a":1,"\u0061":2})"), R"(duplicate key "a" at offset 7)");
  EXPECT_EQ(Outcome(R"({"\u00e9":1,"\u00E9":2})"), "duplicate key \"\xC3\xA9\" at offset 12");
  EXPECT_EQ(Outcome("{\"\xC3\xA9\":1,\"\\u00e9\":2}"), "duplicate key \"\xC3\xA9\" at offset 8");
  EXPECT_EQ(Outcome(R"({"\/":1,"/":2})"), R"(duplicate key "/" at offset 8)");
  EXPECT_EQ(Outcome(R"({"":1,"":2})"), R"(duplicate key "" at offset 6)");
  EXPECT_EQ(Outcome(R"({"\u0000":1,"\u0000":2})"), R"(duplicate key "\u0000" at offset 12)");
  EXPECT_EQ(Outcome(R"([{"a":{"x":1,"y":[{"x":2}]},"a":3}])"), R"(duplicate key "a" at offset 28)");
  // Quotes and control characters in the key are escaped in the message.
  EXPECT_EQ(Outcome(R"({"q\"\n":1,"q\"\n":2})"), R"(duplicate key "q\"\n" at offset 11)");
  // The same key in different objects is fine, nested or side by side.
  EXPECT_EQ(Outcome(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}],"c":{"b":1}})"),
            R"(OK: {"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}],"c":{"b":1}})");
  // Keys that only differ in escapes that decode differently.
  EXPECT_EQ(Outcome(R"({"a":1,"\u0041":2,"a ":3,"\\u0061":4})"),
            R"(OK: {"a":1,"\u0041":2,"a ":3,"\\u0061":4})");
  JsonLimits allow;
  allow.reject_duplicate_keys = false;
  EXPECT_EQ(Outcome(R"({"k":1,"k":2})", allow), R"(OK: {"k":1,"k":2})");
}

TEST(CompactJsonTest, DuplicateKeysAmongManyKeys) {
  // Enough keys to grow the hash table several times, at several levels.
  std::string text = "{";
  for (int i = 0; i < 20'000; ++i) {
    if (i > 0) text += ',';
    text += "\"k" + std::to_string(i) + "\":";
    text += i % 1000 == 0 ? R"({"k1":1,"k2":{"k1":[]}})" : "0";
  }
  EXPECT_TRUE(ValidateJson(text + "}").ok());
  const std::string duplicated = text + R"(,"k\u0031234":1})";
  EXPECT_EQ(ValidateJson(duplicated).message(),
            "duplicate key \"k1234\" at offset " + std::to_string(text.size() + 1));
  // A long key is cut in the message.
  const std::string long_key(100, 'x');
  EXPECT_EQ(Outcome("{\"" + long_key + "\":1,\"" + long_key + "\":2}"),
            "duplicate key \"" + long_key.substr(0, 64) + "...\" at offset 106");
}

TEST(CompactJsonTest, AppendLeavesTheOutputAloneOnFailure) {
  std::string out = "prefix:";
  EXPECT_TRUE(AppendCompactJson(&out, " [ 1 ] ").ok());
  EXPECT_EQ(out, "prefix:[1]");
  EXPECT_EQ(AppendCompactJson(&out, "[1, 2, oops]").message(), "unexpected 'o' at offset 7");
  EXPECT_EQ(out, "prefix:[1]");
}

TEST(DecodeJsonStringTest, DecodesEscapesToUtf8) {
  struct Case {
    std::string token;
    std::string text;
  };
  const Case cases[] = {
      {R"("plain")", "plain"},
      {R"("")", ""},
      {R"("\"\\\/\b\f\n\r\t")", "\"\\/\b\f\n\r\t"},
      {R"("\u0041\u00e9\u20AC")", "A\xC3\xA9\xE2\x82\xAC"},
      {R"("\ud83d\ude00!")", "\xF0\x9F\x98\x80!"},
      {R"("\uDBFF\uDFFF")", "\xF4\x8F\xBF\xBF"},
      {R"("a\u0000b")", std::string("a\0b", 3)},
      {"\"raw \xC3\xA9\"", "raw \xC3\xA9"},
  };
  for (const Case& c : cases) {
    Result<std::string> text = DecodeJsonString(c.token);
    ASSERT_TRUE(text.has_value()) << c.token << ": " << text.error().message();
    EXPECT_EQ(*text, c.text) << c.token;
  }
}

TEST(DecodeJsonStringTest, RefusesWhatIsNotOneString) {
  EXPECT_EQ(DecodeJsonString("12").error().message(), "expected a JSON string, got number");
  EXPECT_EQ(DecodeJsonString("[\"a\"]").error().message(), "expected a JSON string, got array");
  EXPECT_EQ(DecodeJsonString(" \"a\"").error().message(), "whitespace around a JSON string");
  EXPECT_EQ(DecodeJsonString("\"a").error().message(), "unexpected end of input");
  EXPECT_EQ(DecodeJsonString("").error().message(), "unexpected end of input");
  EXPECT_EQ(DecodeJsonString(R"("\ud800")").error().message(),
            R"(lone surrogate \ud800 at offset 1)");
  EXPECT_EQ(DecodeJsonString("\"a\"b").error().message(), "trailing characters at offset 3");
}

TEST(AppendJsonStringTest, EscapesWhatJsonRequires) {
  std::string out;
  AppendJsonString(&out, std::string("a\"b\\c/\b\f\n\r\t\x01\x1f\x7f\0", 15));
  EXPECT_EQ(out, R"("a\"b\\c/\b\f\n\r\t\u0001\u001f)"
                 "\x7f"
                 R"(\u0000")");
  out.clear();
  AppendJsonString(&out, "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(out, "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");
}

TEST(AppendJsonStringTest, ReplacesInvalidUtf8) {
  const std::string fffd = "\xEF\xBF\xBD";
  struct Case {
    std::string bytes;
    std::string json;
  };
  const Case cases[] = {
      {"a\xFF"
       "b",
       "\"a" + fffd + "b\""},
      {"\xC0\x80", "\"" + fffd + fffd + "\""},  // C0 never starts a sequence
      {"\xE2\x82"
       "A",
       "\"" + fffd + "A\""},                               // one U+FFFD for the truncated sequence
      {"\xE2\x82", "\"" + fffd + "\""},                    // ... also at the end
      {"\xED\xA0\x80", "\"" + fffd + fffd + fffd + "\""},  // surrogate: ED A0 is ill-formed
      {"\xF4\x90\x80\x80", "\"" + fffd + fffd + fffd + fffd + "\""},
      {"\xF0\x9F\x98"
       "\"",
       "\"" + fffd + "\\\"\""},
  };
  for (const Case& c : cases) {
    std::string out;
    AppendJsonString(&out, c.bytes);
    EXPECT_EQ(out, c.json);
    EXPECT_TRUE(ValidateJson(out).ok()) << out;
  }
}

// Appends code point `cp` as UTF-8 (the test's own encoder).
void EncodeUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

TEST(AppendJsonStringTest, RandomTextRoundTripsAndRandomBytesGiveValidJson) {
  std::mt19937_64 random(20261207);
  // Any code point but a surrogate, weighted towards the edges of the forms.
  const uint32_t ranges[][2] = {
      {0, 0x20},           {0x20, 0x80}, {0x80, 0x800},    {0x800, 0xD800},   {0xE000, 0x10000},
      {0x10000, 0x110000}, {0x7F, 0x81}, {0xD7FF, 0xD800}, {0xFFFF, 0x10001}, {0x10FFFF, 0x110000}};
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    for (size_t n = random() % 12; n > 0; --n) {
      const auto& range = ranges[random() % std::size(ranges)];
      EncodeUtf8(range[0] + static_cast<uint32_t>(random() % (range[1] - range[0])), &text);
    }
    std::string json;
    AppendJsonString(&json, text);
    Result<std::string> back = DecodeJsonString(json);
    ASSERT_TRUE(back.has_value()) << json << ": " << back.error().message();
    EXPECT_EQ(*back, text) << json;

    std::string bytes(random() % 12, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    json.clear();
    AppendJsonString(&json, bytes);
    EXPECT_TRUE(ValidateJson(json).ok()) << json;
  }
}

TEST(JsonKindTest, Names) {
  EXPECT_STREQ(JsonKindName(JsonKind::kObject), "object");
  EXPECT_STREQ(JsonKindName(JsonKind::kArray), "array");
  EXPECT_STREQ(JsonKindName(JsonKind::kString), "string");
  EXPECT_STREQ(JsonKindName(JsonKind::kNumber), "number");
  EXPECT_STREQ(JsonKindName(JsonKind::kTrue), "boolean");
  EXPECT_STREQ(JsonKindName(JsonKind::kFalse), "boolean");
  EXPECT_STREQ(JsonKindName(JsonKind::kNull), "null");
}

TEST(ParseJsonObjectTest, SplitsMembersWithCompactValues) {
  Result<std::vector<JsonMember>> members = ParseJsonObject(
      " { \"o\" : { \"x\" : [ 1 , 2 ] } , \"a\":[ ], \"s\" : \" a b \", \"n\":-1.50e+3 ,"
      "\"t\":true,\"f\" : false , \"\\u006e\\u0075ll\" : null } ");
  ASSERT_TRUE(members.has_value()) << members.error().message();
  ASSERT_EQ(members->size(), 7u);
  const struct {
    const char* key;
    const char* value;
    JsonKind kind;
  } expected[] = {
      {"o", R"({"x":[1,2]})", JsonKind::kObject},
      {"a", "[]", JsonKind::kArray},
      {"s", "\" a b \"", JsonKind::kString},
      {"n", "-1.50e+3", JsonKind::kNumber},
      {"t", "true", JsonKind::kTrue},
      {"f", "false", JsonKind::kFalse},
      {"null", "null", JsonKind::kNull},
  };
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ((*members)[i].key, expected[i].key) << i;
    EXPECT_EQ((*members)[i].value, expected[i].value) << i;
    EXPECT_EQ((*members)[i].kind, expected[i].kind) << i;
  }
  Result<std::vector<JsonMember>> empty = ParseJsonObject(" {\n} ");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST(ParseJsonObjectTest, LimitsApplyToEachValueOnItsOwn) {
  // A value of 1000 levels is fine inside the object (level 1001 of the
  // line): what export prints, import must read back.
  const std::string deep = Nested(1000, "[", "", "]");
  Result<std::vector<JsonMember>> members = ParseJsonObject(R"({"d":)" + deep + "}");
  ASSERT_TRUE(members.has_value()) << members.error().message();
  EXPECT_EQ((*members)[0].value, deep);
  EXPECT_EQ(ParseJsonObject(R"({"d":)" + Nested(1001, "[", "", "]") + "}").error().message(),
            "nesting deeper than 1000 levels at offset 1005");
  EXPECT_EQ(ParseJsonObject(R"({"d":{"k":1,"k":2}})").error().message(),
            R"(duplicate key "k" at offset 12)");
  EXPECT_EQ(ParseJsonObject(R"({"d":1e999})").error().message(),
            "number 1e999 at offset 5 is out of range (beyond a double)");
}

TEST(ParseJsonObjectTest, RefusesRepeatedMembersAlways) {
  JsonLimits allow;
  allow.reject_duplicate_keys = false;
  EXPECT_EQ(ParseJsonObject(R"({"stream":"a","type":"T","stream":"b"})", allow).error().message(),
            R"(duplicate key "stream" at offset 25)");
  Result<std::vector<JsonMember>> nested = ParseJsonObject(R"({"d":{"k":1,"k":2}})", allow);
  ASSERT_TRUE(nested.has_value());
  EXPECT_EQ((*nested)[0].value, R"({"k":1,"k":2})");
}

TEST(ParseJsonObjectTest, SaysWhatIsWrongFirst) {
  EXPECT_EQ(ParseJsonObject("[1]").error().message(), "expected a JSON object, got array");
  EXPECT_EQ(ParseJsonObject(" \"s\" ").error().message(), "expected a JSON object, got string");
  EXPECT_EQ(ParseJsonObject("false").error().message(), "expected a JSON object, got boolean");
  EXPECT_EQ(ParseJsonObject("[1,]").error().message(), "unexpected ']' at offset 3");
  EXPECT_EQ(ParseJsonObject("").error().message(), "unexpected end of input");
  EXPECT_EQ(ParseJsonObject(R"({"a":1} x)").error().message(), "trailing characters at offset 8");
  EXPECT_EQ(ParseJsonObject(R"({"a":1)").error().message(), "unexpected end of input");
  EXPECT_EQ(ParseJsonObject(R"({"a" :)").error().message(), "unexpected end of input");
  EXPECT_EQ(ParseJsonObject(R"({"a":"\x"})").error().message(),
            "invalid escape character 'x' at offset 6");
}

}  // namespace
}  // namespace cairn::cli
