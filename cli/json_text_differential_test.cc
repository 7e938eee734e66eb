// Randomized differential test of CompactJson (cli/json_text.h) against
// nlohmann::json, an independent RFC 8259 parser: on generated documents and
// mutations of them, both must agree on what is JSON, and nlohmann must read
// our compact text as the same value. nlohmann keeps the last of repeated
// keys and has no depth limit, so the oracle is its SAX parser with a
// handler that stops at the first repeated key or too deep a level, as
// CompactJson does; it refuses numbers that overflow a double itself
// (error 406). The seed is printed with every failure.

#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cli/json_text.h"

namespace cairn::cli {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxDepth = 4;  // low, so the limit is often reached

// What nlohmann says of a document, as far as CompactJson's rules go.
enum class Verdict { kValid, kSyntax, kDuplicate, kTooDeep, kOutOfRange };

const char* VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kValid:
      return "valid";
    case Verdict::kSyntax:
      return "syntax error";
    case Verdict::kDuplicate:
      return "duplicate key";
    case Verdict::kTooDeep:
      return "too deep";
    case Verdict::kOutOfRange:
      return "out of range";
  }
  return "?";
}

// The verdict CompactJson's message gives.
Verdict VerdictOf(const Status& status) {
  if (status.ok()) return Verdict::kValid;
  const std::string& message = status.message();
  if (message.starts_with("duplicate key")) return Verdict::kDuplicate;
  if (message.starts_with("nesting deeper")) return Verdict::kTooDeep;
  if (message.find("out of range") != std::string::npos) return Verdict::kOutOfRange;
  return Verdict::kSyntax;
}

// SAX handler: stops at the first repeated key or too deep a level.
class Oracle : public nlohmann::json_sax<Json> {
 public:
  Verdict verdict = Verdict::kValid;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    keys_.emplace_back();
    return Open();
  }
  bool key(string_t& key) override {
    if (keys_.back().insert(key).second) return true;
    verdict = Verdict::kDuplicate;
    return false;
  }
  bool end_object() override {
    keys_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override { return Open(); }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& error) override {
    verdict = error.id == 406 ? Verdict::kOutOfRange : Verdict::kSyntax;
    return false;
  }

 private:
  bool Open() {
    if (++depth_ <= kMaxDepth) return true;
    verdict = Verdict::kTooDeep;
    return false;
  }

  size_t depth_ = 0;
  std::vector<std::set<std::string>> keys_;
};

Verdict NlohmannVerdict(const std::string& text) {
  Oracle oracle;
  Json::sax_parse(text, &oracle);
  return oracle.verdict;
}

// Random JSON-ish text: mostly valid, with repeated keys, deep nesting,
// escapes, multi-byte UTF-8, numbers at the edges, and some invalid pieces.
class Generator {
 public:
  explicit Generator(uint64_t seed) : random_(seed) {}

  std::string Document() {
    std::string out;
    Whitespace(&out);
    Value(&out, 0);
    Whitespace(&out);
    return out;
  }

  // Changes one to three bytes or slices of `text`.
  std::string Mutate(std::string text) {
    static const char kBytes[] = "\"\\,:[]{}0-+.eE \t\nux1a\x01\x7f\x80\xbf\xc0\xc3\xed\xf4\xff";
    for (int n = 1 + Below(3); n > 0; --n) {
      const size_t at = text.empty() ? 0 : Below(text.size());
      const char byte =
          Below(4) == 0 ? static_cast<char>(random_()) : kBytes[Below(sizeof(kBytes) - 1)];
      switch (Below(5)) {
        case 0:
          if (!text.empty()) text[at] = byte;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), byte);
          break;
        case 2:
          if (!text.empty()) text.erase(at, 1 + Below(3));
          break;
        case 3:
          text.resize(at);
          break;
        default:
          text.insert(at, text.substr(at, Below(8)));
          break;
      }
    }
    return text;
  }

 private:
  size_t Below(size_t n) { return static_cast<size_t>(random_() % n); }

  template <size_t N>
  const char* Pick(const char* const (&choices)[N]) {
    return choices[Below(N)];
  }

  // How many members a container gets: mostly one to three.
  size_t Members() { return Below(5) == 0 ? 0 : 1 + Below(3); }

  void Whitespace(std::string* out) {
    if (Below(3) != 0) return;
    static const char* const kSpaces[] = {" ", "\t", "\n", "\r", "  ", "\r\n", " \t "};
    out->append(Pick(kSpaces));
  }

  void Value(std::string* out, size_t depth) {
    // Containers are likelier near the top, so some documents go deep.
    const size_t kind = depth >= 7 ? Below(5) : depth < 3 ? 3 + Below(5) : Below(8);
    switch (kind) {
      case 0:
        out->append(Pick({"true", "false", "null"}));
        break;
      case 1:
      case 2:
        Number(out);
        break;
      case 3:
      case 4:
        String(out);
        break;
      case 5:
      case 6:
        Object(out, depth);
        break;
      default:
        Array(out, depth);
        break;
    }
  }

  void Number(std::string* out) {
    static const char* const kSpecial[] = {"0",
                                           "-0",
                                           "0.0",
                                           "1e308",
                                           "-1e308",
                                           "1.7976931348623157e308",
                                           "1.8e308",
                                           "1e400",
                                           "-1e400",
                                           "1e-400",
                                           "4.9e-324",
                                           "123456789012345678901234567890",
                                           "1E+2",
                                           "2e-0",
                                           "18446744073709551616",
                                           "-9223372036854775809",
                                           "0.00000000000000000001e328",
                                           "0.00000000000000000001e330",
                                           "-17976931348623159e292"};
    if (Below(3) == 0) {
      out->append(Pick(kSpecial));
      return;
    }
    if (Below(12) == 0) {  // beyond a double
      static const std::string kTenToThe309 = "1" + std::string(309, '0');
      out->append(Below(4) == 0 ? kTenToThe309.c_str() : Pick({"1e309", "-2e308", "0.1e310"}));
      return;
    }
    if (Below(3) == 0) out->push_back('-');
    const size_t digits = 1 + Below(Below(5) == 0 ? 25 : 4);
    out->push_back(static_cast<char>('1' + Below(9)));
    for (size_t i = 1; i < digits; ++i) out->push_back(static_cast<char>('0' + Below(10)));
    if (Below(3) == 0) {
      out->push_back('.');
      for (size_t i = 1 + Below(6); i > 0; --i) out->push_back(static_cast<char>('0' + Below(10)));
    }
    if (Below(4) == 0) {
      out->append(Pick({"e", "E", "e+", "e-", "E-"}));
      out->append(std::to_string(Below(Below(3) == 0 ? 400 : 30)));
    }
  }

  void String(std::string* out) {
    static const char* const kPieces[] = {
        "a", "b", "key", " ", "\\n", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\r", "\\t", "\\u0041",
        "\\u00e9", "\\u00E9", "\\u0000", "\\u001f", "\\ud83d\\ude00", "\\uD834\\uDD1E", "\xC3\xA9",
        "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF", "\xC2\x80", "\x7F",
        // Rarely invalid:
        "\\ud800", "\\udc00", "\\x", "\x01", "\xC0\x80", "\xED\xA0\x80", "\xFF",
        "\xF4\x90\x80\x80"};
    out->push_back('"');
    for (size_t n = Below(4); n > 0; --n) {
      const size_t valid = std::size(kPieces) - 8;
      out->append(kPieces[Below(20) == 0 ? Below(std::size(kPieces)) : Below(valid)]);
    }
    out->push_back('"');
  }

  void Key(std::string* out) {
    // Few distinct keys, some spelled two ways: repeats happen often.
    static const char* const kKeys[] = {"\"a\"",        "\"b\"",       "\"\\u0061\"",
                                        "\"k\"",        "\"\"",        "\"\\u006b\"",
                                        "\"\xC3\xA9\"", "\"\\u00e9\"", "\"c\""};
    if (Below(4) == 0) {
      String(out);
    } else {
      out->append(Pick(kKeys));
    }
  }

  void Object(std::string* out, size_t depth) {
    out->push_back('{');
    Whitespace(out);
    for (size_t n = Members(), i = 0; i < n; ++i) {
      if (i > 0) out->push_back(',');
      Whitespace(out);
      Key(out);
      Whitespace(out);
      out->push_back(':');
      Whitespace(out);
      Value(out, depth + 1);
      Whitespace(out);
    }
    out->push_back('}');
  }

  void Array(std::string* out, size_t depth) {
    out->push_back('[');
    Whitespace(out);
    for (size_t n = Members(), i = 0; i < n; ++i) {
      if (i > 0) out->push_back(',');
      Whitespace(out);
      Value(out, depth + 1);
      Whitespace(out);
    }
    out->push_back(']');
  }

  std::mt19937_64 random_;
};

TEST(JsonTextDifferentialTest, AgreesWithNlohmann) {
  constexpr uint64_t kSeed = 0xCA1A7E57;
  constexpr int kCases = 4000;
  Generator generator(kSeed);
  JsonLimits limits;
  limits.max_depth = kMaxDepth;
  int counts[5] = {};
  for (int i = 0; i < kCases; ++i) {
    std::string text = generator.Document();
    if (i % 2 == 1) text = generator.Mutate(std::move(text));
    // nlohmann skips a leading byte order mark (RFC 8259 parsers need not)
    // and stops at a NUL byte as if the input ended there.
    if (text.starts_with("\xEF\xBB\xBF") || text.find('\0') != std::string::npos) continue;
    SCOPED_TRACE("seed " + std::to_string(kSeed) + ", case " + std::to_string(i) + ": " + text);
    const Verdict expected = NlohmannVerdict(text);
    Result<std::string> compact = CompactJson(text, limits);
    const Verdict actual = VerdictOf(compact.status());
    ++counts[static_cast<int>(expected)];
    ASSERT_EQ(VerdictName(actual), std::string(VerdictName(expected)))
        << (compact.has_value() ? *compact : compact.error().message());
    if (!compact.has_value()) continue;
    EXPECT_EQ(Json::parse(*compact), Json::parse(text)) << *compact;
    // Compacting is idempotent and never longer.
    EXPECT_EQ(CompactJson(*compact, limits).value(), *compact);
    EXPECT_LE(compact->size(), text.size());
  }
  // The generator reaches every verdict often enough to mean something.
  for (int verdict = 0; verdict < 5; ++verdict) {
    EXPECT_GE(counts[verdict], kCases / 100)
        << VerdictName(static_cast<Verdict>(verdict)) << ": " << counts[0] << " valid, "
        << counts[1] << " syntax, " << counts[2] << " duplicate, " << counts[3] << " deep, "
        << counts[4] << " range";
  }
}

}  // namespace
}  // namespace cairn::cli
