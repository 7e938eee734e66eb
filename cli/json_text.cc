#include "cli/json_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <system_error>
#include <utility>

namespace cairn::cli {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// The escapes JSON writes as a backslash and one letter (besides \u), and
// the bytes they stand for, in the same order.
constexpr std::string_view kEscapeLetters = "\"\\/bfnrt";
constexpr std::string_view kEscapedBytes = "\"\\/\b\f\n\r\t";

bool IsWhitespace(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }

int HexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A byte as a message shows it: 'x' ("'" for a quote) when printable
// ASCII, else byte 0xC3.
std::string DescribeByte(unsigned char c) {
  if (c == '\'') return "\"'\"";
  if (c > 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "byte 0x%02X", c);
  return buf;
}

// Length of the well-formed UTF-8 sequence starting at s[i] (Unicode table
// 3-7: no overlong forms, no surrogates, nothing above U+10FFFF), or 0 when
// it is ill-formed, with *bad set to the length of its maximal ill-formed
// prefix (at least 1): what one U+FFFD replaces.
size_t Utf8SequenceLength(std::string_view s, size_t i, size_t* bad) {
  const auto lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) return 1;
  size_t trail = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    trail = 1;
  } else if (lead == 0xE0) {
    trail = 2;
    low = 0xA0;
  } else if (lead == 0xED) {
    trail = 2;
    high = 0x9F;
  } else if (lead >= 0xE1 && lead <= 0xEF) {
    trail = 2;
  } else if (lead == 0xF0) {
    trail = 3;
    low = 0x90;
  } else if (lead >= 0xF1 && lead <= 0xF3) {
    trail = 3;
  } else if (lead == 0xF4) {
    trail = 3;
    high = 0x8F;
  } else {
    *bad = 1;
    return 0;
  }
  for (size_t k = 1; k <= trail; ++k) {
    if (i + k >= s.size()) {
      *bad = k;
      return 0;
    }
    const auto c = static_cast<unsigned char>(s[i + k]);
    if (c < (k == 1 ? low : 0x80) || c > (k == 1 ? high : 0xBF)) {
      *bad = k;
      return 0;
    }
  }
  return trail + 1;
}

void AppendUtf8(std::string* out, uint32_t cp) {
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

// The value of the four hex digits at s[i], or -1.
int32_t Hex4(std::string_view s, size_t i) {
  int32_t value = 0;
  for (size_t k = 0; k < 4; ++k) {
    const int digit = HexValue(static_cast<unsigned char>(s[i + k]));
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

// Appends the decoded text of `body`, the inside of a string literal that
// Scanner has already validated (so every escape is complete and paired).
void AppendDecoded(std::string* out, std::string_view body) {
  size_t run = 0;
  size_t i = 0;
  while (i < body.size()) {
    if (body[i] != '\\') {
      ++i;
      continue;
    }
    out->append(body.data() + run, i - run);
    const char e = body[i + 1];
    i += 2;
    if (e == 'u') {
      auto cp = static_cast<uint32_t>(Hex4(body, i));
      i += 4;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        const auto low = static_cast<uint32_t>(Hex4(body, i + 2));
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        i += 6;
      }
      AppendUtf8(out, cp);
    } else {
      out->push_back(kEscapedBytes[kEscapeLetters.find(e)]);
    }
    run = i;
  }
  out->append(body.data() + run, body.size() - run);
}

// Checks one JSON document in a single pass, with an explicit stack of open
// arrays and objects, and copies it without the whitespace between tokens:
// the output is the input with whitespace runs cut out, so every other byte
// is kept as written. In member mode (ParseJsonObject) the document must be
// an object and each of its member values goes to its own JsonMember.
//
// Duplicate keys: the keys of all open objects live in one stack (keys_) and
// one open-addressing hash table (slots_) keyed by (object serial, decoded
// key). Keys are only ever removed in reverse order of insertion (an object's
// keys when it closes, after those of every object nested in it), and
// clearing a linear-probing slot in exactly that order restores the table as
// it was, so no tombstones are needed. A key without escapes is compared as
// the bytes of the input; only escaped keys are decoded, into arena_.
class Scanner {
 public:
  Scanner(std::string_view text, const JsonLimits& limits) : text_(text), limits_(limits) {}

  // Scans the whole input as one value; appends its compact text to `out`
  // unless null. *kind (when not null) is the value's kind.
  Status ScanDocument(std::string* out, JsonKind* kind) {
    out_ = out;
    SkipWhitespace();
    if (pos_ < text_.size() && kind != nullptr) *kind = KindOf(text_[pos_]);
    CAIRN_RETURN_IF_ERROR(ScanValue());
    Flush(pos_);
    SkipWhitespace();
    if (pos_ != text_.size()) return Error("trailing characters", pos_);
    return Status::OK();
  }

  // Scans the input as one object, filling `*members`.
  Status ScanMembers(std::vector<JsonMember>* members) {
    members_ = members;
    depth_base_ = 1;
    CAIRN_RETURN_IF_ERROR(ScanValue());
    SkipWhitespace();
    if (pos_ != text_.size()) return Error("trailing characters", pos_);
    return Status::OK();
  }

  static JsonKind KindOf(char c) {
    switch (c) {
      case '{':
        return JsonKind::kObject;
      case '[':
        return JsonKind::kArray;
      case '"':
        return JsonKind::kString;
      case 't':
        return JsonKind::kTrue;
      case 'f':
        return JsonKind::kFalse;
      case 'n':
        return JsonKind::kNull;
      default:
        return JsonKind::kNumber;
    }
  }

 private:
  struct Frame {
    bool object;
    uint64_t serial;     // tells apart the key sets of objects
    size_t keys_begin;   // the object's keys are keys_[keys_begin, end)
    size_t arena_begin;  // and its decoded keys arena_[arena_begin, end)
  };
  struct Key {
    uint64_t hash;
    uint64_t serial;
    size_t offset;  // in text_ or, when in_arena, in arena_
    size_t size;
    size_t slot;  // its index in slots_
    bool in_arena;
  };

  // Scans one value at pos_ and everything nested in it.
  Status ScanValue() {
    const size_t n = text_.size();
    for (;;) {
      // A value starts here.
      SkipWhitespace();
      if (pos_ == n) return EndOfInput();
      const char c = text_[pos_];
      if (members_ != nullptr && stack_.size() == 1) BeginMemberValue(c);
      if (c == '{' || c == '[') {
        CAIRN_RETURN_IF_ERROR(Push(c == '{'));
        SkipWhitespace();
        if (pos_ == n) return EndOfInput();
        if (text_[pos_] != (c == '{' ? '}' : ']')) {
          if (c == '{') CAIRN_RETURN_IF_ERROR(ScanKeyAndColon());
          continue;
        }
        ++pos_;
        Pop();
      } else if (c == '"') {
        CAIRN_RETURN_IF_ERROR(ScanString(nullptr));
      } else if (c == 't' || c == 'f' || c == 'n') {
        CAIRN_RETURN_IF_ERROR(ScanLiteral(c));
      } else if (c == '-' || IsDigit(c)) {
        CAIRN_RETURN_IF_ERROR(ScanNumber());
      } else {
        return Unexpected();
      }
      // A value ended here: close containers until one continues.
      for (;;) {
        if (stack_.empty()) return Status::OK();
        if (members_ != nullptr && stack_.size() == 1) EndMemberValue();
        SkipWhitespace();
        if (pos_ == n) return EndOfInput();
        const char next = text_[pos_];
        const bool object = stack_.back().object;
        if (next == ',') {
          ++pos_;
          if (object) {
            SkipWhitespace();
            CAIRN_RETURN_IF_ERROR(ScanKeyAndColon());
          }
          break;
        }
        if (next != (object ? '}' : ']')) return Unexpected();
        ++pos_;
        Pop();
      }
    }
  }

  Status Push(bool object) {
    if (stack_.size() + 1 - depth_base_ > limits_.max_depth) {
      return Error("nesting deeper than " + std::to_string(limits_.max_depth) + " levels", pos_);
    }
    ++pos_;
    stack_.push_back(Frame{object, object ? ++objects_ : 0, keys_.size(), arena_.size()});
    return Status::OK();
  }

  void Pop() {
    const Frame& frame = stack_.back();
    if (frame.object) {
      for (size_t i = keys_.size(); i > frame.keys_begin; --i) slots_[keys_[i - 1].slot] = 0;
      keys_.resize(frame.keys_begin);
      arena_.resize(frame.arena_begin);
    }
    stack_.pop_back();
  }

  // A key, the ':' after it and the whitespace around them.
  Status ScanKeyAndColon() {
    if (pos_ == text_.size()) return EndOfInput();
    if (text_[pos_] != '"') return Unexpected();
    const size_t key_offset = pos_;
    bool escaped = false;
    CAIRN_RETURN_IF_ERROR(ScanString(&escaped));
    const std::string_view body = text_.substr(key_offset + 1, pos_ - key_offset - 2);
    const bool top_member = members_ != nullptr && stack_.size() == 1;
    if (limits_.reject_duplicate_keys || top_member) {
      CAIRN_RETURN_IF_ERROR(AddKey(key_offset, body, escaped));
    }
    if (top_member) {
      members_->emplace_back();
      if (escaped) {
        AppendDecoded(&members_->back().key, body);
      } else {
        members_->back().key.assign(body);
      }
    }
    SkipWhitespace();
    if (pos_ == text_.size()) return EndOfInput();
    if (text_[pos_] != ':') return Unexpected();
    ++pos_;
    return Status::OK();
  }

  // Records the key of the innermost object, refusing it when that object
  // has it already.
  Status AddKey(size_t key_offset, std::string_view body, bool escaped) {
    size_t offset = static_cast<size_t>(body.data() - text_.data());
    std::string_view key = body;
    if (escaped) {
      offset = arena_.size();
      AppendDecoded(&arena_, body);
      key = std::string_view(arena_).substr(offset);
    }
    const uint64_t serial = stack_.back().serial;
    const uint64_t hash = std::hash<std::string_view>{}(key) ^ (serial * 0x9E3779B97F4A7C15ull);
    if ((keys_.size() + 1) * 2 > slots_.size()) Grow();
    const size_t mask = slots_.size() - 1;
    size_t slot = hash & mask;
    while (slots_[slot] != 0) {
      const Key& other = keys_[slots_[slot] - 1];
      if (other.hash == hash && other.serial == serial && KeyText(other) == key) {
        std::string message = "duplicate key ";
        AppendJsonString(&message, Shortened(key, 64));
        return Error(message, key_offset);
      }
      slot = (slot + 1) & mask;
    }
    slots_[slot] = keys_.size() + 1;
    keys_.push_back(Key{hash, serial, offset, key.size(), slot, escaped});
    return Status::OK();
  }

  std::string_view KeyText(const Key& key) const {
    return (key.in_arena ? std::string_view(arena_) : text_).substr(key.offset, key.size);
  }

  // Doubles the hash table, re-inserting the live keys in their order.
  void Grow() {
    slots_.assign(slots_.empty() ? 32 : slots_.size() * 2, 0);
    const size_t mask = slots_.size() - 1;
    for (size_t i = 0; i < keys_.size(); ++i) {
      size_t slot = keys_[i].hash & mask;
      while (slots_[slot] != 0) slot = (slot + 1) & mask;
      slots_[slot] = i + 1;
      keys_[i].slot = slot;
    }
  }

  // A string literal at pos_; sets *escaped (unless null) when it holds a
  // backslash escape.
  Status ScanString(bool* escaped) {
    const size_t n = text_.size();
    ++pos_;  // the opening quote
    for (;;) {
      while (pos_ < n) {
        const auto c = static_cast<unsigned char>(text_[pos_]);
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
        ++pos_;
      }
      if (pos_ == n) return EndOfInput();
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return Status::OK();
      }
      if (c == '\\') {
        if (escaped != nullptr) *escaped = true;
        CAIRN_RETURN_IF_ERROR(ScanEscape());
      } else if (c < 0x20) {
        return Error("unescaped control character in a string", pos_);
      } else {
        size_t bad = 0;
        const size_t length = Utf8SequenceLength(text_, pos_, &bad);
        if (length == 0) return Error("invalid UTF-8", pos_);
        pos_ += length;
      }
    }
  }

  // A backslash escape at pos_.
  Status ScanEscape() {
    const size_t n = text_.size();
    if (pos_ + 1 == n) return EndOfInput();
    const auto e = static_cast<unsigned char>(text_[pos_ + 1]);
    if (e != 'u') {
      if (kEscapeLetters.find(static_cast<char>(e)) == std::string_view::npos) {
        return Error("invalid escape character " + DescribeByte(e), pos_);
      }
      pos_ += 2;
      return Status::OK();
    }
    const int32_t cp = ScanHex4(pos_ + 2);
    if (cp < 0) return cp == -2 ? EndOfInput() : Error("invalid \\u escape", pos_);
    if (cp >= 0xDC00 && cp <= 0xDFFF) return LoneSurrogate();
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (pos_ + 7 >= n || text_[pos_ + 6] != '\\' || text_[pos_ + 7] != 'u') {
        return LoneSurrogate();
      }
      const int32_t low = ScanHex4(pos_ + 8);
      if (low == -2) return EndOfInput();
      if (low == -1) return Error("invalid \\u escape", pos_ + 6);
      if (low < 0xDC00 || low > 0xDFFF) return LoneSurrogate();
      pos_ += 6;
    }
    pos_ += 6;
    return Status::OK();
  }

  // The four hex digits at text_[i], -1 when one is not hex, -2 when the
  // input ends first.
  int32_t ScanHex4(size_t i) const {
    for (size_t k = 0; k < 4; ++k) {
      if (i + k >= text_.size()) return -2;
      if (HexValue(static_cast<unsigned char>(text_[i + k])) < 0) return -1;
    }
    return Hex4(text_, i);
  }

  Status LoneSurrogate() const {
    return Error("lone surrogate " + std::string(text_.substr(pos_, 6)), pos_);
  }

  // true, false or null at pos_ (whose first letter is `c`).
  Status ScanLiteral(char c) {
    const std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
    for (size_t k = 0; k < word.size(); ++k, ++pos_) {
      if (pos_ == text_.size()) return EndOfInput();
      if (text_[pos_] != word[k]) return Unexpected();
    }
    return Status::OK();
  }

  // A number at pos_: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, whose
  // magnitude must not overflow a double.
  Status ScanNumber() {
    const size_t n = text_.size();
    const size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    if (pos_ == n) return EndOfInput();
    const size_t int_begin = pos_;
    if (text_[pos_] == '0') {
      ++pos_;
      if (pos_ < n && IsDigit(text_[pos_])) return Error("number with a leading zero", start);
    } else if (IsDigit(text_[pos_])) {
      while (pos_ < n && IsDigit(text_[pos_])) ++pos_;
    } else {
      return Unexpected();
    }
    const size_t int_end = pos_;
    size_t frac_begin = pos_;
    size_t frac_end = pos_;
    if (pos_ < n && text_[pos_] == '.') {
      frac_begin = ++pos_;
      CAIRN_RETURN_IF_ERROR(ScanDigits());
      frac_end = pos_;
    }
    int64_t exponent = 0;
    if (pos_ < n && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      bool negative = false;
      if (pos_ < n && (text_[pos_] == '+' || text_[pos_] == '-')) negative = text_[pos_++] == '-';
      const size_t digits_begin = pos_;
      CAIRN_RETURN_IF_ERROR(ScanDigits());
      for (size_t i = digits_begin; i < pos_ && exponent < 1'000'000'000; ++i) {
        exponent = exponent * 10 + (text_[i] - '0');
      }
      if (negative) exponent = -exponent;
    }
    // The value is 0.d... x 10^magnitude, d its first non-zero digit.
    int64_t magnitude = 0;
    if (text_[int_begin] != '0') {
      magnitude = static_cast<int64_t>(int_end - int_begin) + exponent;
    } else {
      size_t first = frac_begin;
      while (first < frac_end && text_[first] == '0') ++first;
      if (first == frac_end) return Status::OK();  // zero
      magnitude = -static_cast<int64_t>(first - frac_begin) + exponent;
    }
    // Below 10^308 fits (DBL_MAX is 1.797e308); from 10^309 on does not.
    if (magnitude <= 308) return Status::OK();
    if (magnitude == 309) {
      double value = 0;
      const std::from_chars_result parsed =
          std::from_chars(text_.data() + start, text_.data() + pos_, value);
      if (parsed.ec == std::errc() && std::isfinite(value)) return Status::OK();
    }
    return Error("number " + Shortened(text_.substr(start, pos_ - start), 40), start,
                 " is out of range (beyond a double)");
  }

  // One or more digits at pos_.
  Status ScanDigits() {
    if (pos_ == text_.size()) return EndOfInput();
    if (!IsDigit(text_[pos_])) return Unexpected();
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    return Status::OK();
  }

  // Skips whitespace at pos_, first copying the bytes before it.
  void SkipWhitespace() {
    if (pos_ < text_.size() && IsWhitespace(text_[pos_])) {
      Flush(pos_);
      while (pos_ < text_.size() && IsWhitespace(text_[pos_])) ++pos_;
      run_begin_ = pos_;
    }
  }

  // Copies the bytes from run_begin_ to `end` to the output, if any.
  void Flush(size_t end) {
    if (out_ != nullptr) out_->append(text_.data() + run_begin_, end - run_begin_);
    run_begin_ = end;
  }

  void BeginMemberValue(char c) {
    JsonMember& member = members_->back();
    member.kind = KindOf(c);
    run_begin_ = pos_;
    out_ = &member.value;
  }

  void EndMemberValue() {
    Flush(pos_);
    out_ = nullptr;
  }

  // `text` cut to at most `max` bytes (at a UTF-8 boundary) with "..."
  // added when cut.
  static std::string Shortened(std::string_view text, size_t max) {
    if (text.size() <= max) return std::string(text);
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return std::string(text.substr(0, cut)) + "...";
  }

  Status Error(std::string what, size_t offset, std::string_view after = {}) const {
    return Status::InvalidArgument(std::move(what) + " at offset " + std::to_string(offset) +
                                   std::string(after));
  }

  Status Unexpected() const { return Error("unexpected " + DescribeByte(text_[pos_]), pos_); }

  static Status EndOfInput() { return Status::InvalidArgument("unexpected end of input"); }

  const std::string_view text_;
  const JsonLimits limits_;
  size_t pos_ = 0;
  std::string* out_ = nullptr;                  // where compact text goes; null: nowhere
  size_t run_begin_ = 0;                        // first byte not yet copied to out_
  std::vector<JsonMember>* members_ = nullptr;  // member mode when not null
  size_t depth_base_ = 0;                       // levels not counted against the limit
  std::vector<Frame> stack_;
  uint64_t objects_ = 0;  // objects opened so far: the next serial
  std::vector<Key> keys_;
  std::vector<size_t> slots_;  // 0: empty, else 1 + an index in keys_
  std::string arena_;
};

}  // namespace

Status AppendCompactJson(std::string* out, std::string_view text, const JsonLimits& limits) {
  const size_t size_before = out->size();
  Status status = Scanner(text, limits).ScanDocument(out, nullptr);
  if (!status.ok()) out->resize(size_before);
  return status;
}

Result<std::string> CompactJson(std::string_view text, const JsonLimits& limits) {
  std::string out;
  out.reserve(text.size());
  CAIRN_RETURN_IF_ERROR(AppendCompactJson(&out, text, limits));
  return out;
}

Status ValidateJson(std::string_view text, const JsonLimits& limits) {
  return Scanner(text, limits).ScanDocument(nullptr, nullptr);
}

Result<std::string> DecodeJsonString(std::string_view token) {
  JsonKind kind = JsonKind::kNull;
  CAIRN_RETURN_IF_ERROR(Scanner(token, JsonLimits{}).ScanDocument(nullptr, &kind));
  if (kind != JsonKind::kString) {
    return Status::InvalidArgument(std::string("expected a JSON string, got ") +
                                   JsonKindName(kind));
  }
  if (token.front() != '"' || token.back() != '"') {
    return Status::InvalidArgument("whitespace around a JSON string");
  }
  std::string out;
  out.reserve(token.size() - 2);
  AppendDecoded(&out, token.substr(1, token.size() - 2));
  return out;
}

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      if (c < 0x80) {
        ++i;
        continue;
      }
      size_t bad = 0;
      if (const size_t length = Utf8SequenceLength(s, i, &bad); length > 0) {
        i += length;
        continue;
      }
      out->append(s.data() + run, i - run);
      out->append(kReplacementCharacter);
      i += bad;
      run = i;
      continue;
    }
    out->append(s.data() + run, i - run);
    out->push_back('\\');
    // A control character, '"' or '\\': all but '/' of kEscapedBytes.
    if (const size_t k = kEscapedBytes.find(static_cast<char>(c)); k != std::string_view::npos) {
      out->push_back(kEscapeLetters[k]);
    } else {
      out->append("u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xF]);
    }
    ++i;
    run = i;
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

const char* JsonKindName(JsonKind kind) {
  switch (kind) {
    case JsonKind::kObject:
      return "object";
    case JsonKind::kArray:
      return "array";
    case JsonKind::kString:
      return "string";
    case JsonKind::kNumber:
      return "number";
    case JsonKind::kTrue:
    case JsonKind::kFalse:
      return "boolean";
    case JsonKind::kNull:
      return "null";
  }
  return "null";
}

Result<std::vector<JsonMember>> ParseJsonObject(std::string_view text, const JsonLimits& limits) {
  size_t first = 0;
  while (first < text.size() && IsWhitespace(text[first])) ++first;
  if (first == text.size() || text[first] != '{') {
    // Say what is wrong with the text before saying it is no object.
    JsonKind kind = JsonKind::kNull;
    CAIRN_RETURN_IF_ERROR(Scanner(text, limits).ScanDocument(nullptr, &kind));
    return Status::InvalidArgument(std::string("expected a JSON object, got ") +
                                   JsonKindName(kind));
  }
  std::vector<JsonMember> members;
  CAIRN_RETURN_IF_ERROR(Scanner(text, limits).ScanMembers(&members));
  return members;
}

}  // namespace cairn::cli
