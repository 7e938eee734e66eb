// The type-independent part of typed events (include/cairn/toolkit/event.h):
// strict decoding with simdjson's on-demand parser (an aggregate rebuild
// decodes every event of a stream, so this is on the hot path), encoding and
// JSON Schemas with nlohmann::json (commands write few events).
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "cairn/toolkit/crypto.h"
#include "cairn/toolkit/event.h"
#include "toolkit/src/codec_internal.h"

namespace cairn::toolkit {
namespace {

namespace od = simdjson::ondemand;

const char* KindName(FieldKind k) {
  switch (k) {
    case FieldKind::kString:
      return "a string";
    case FieldKind::kInt:
      return "an integer";
    case FieldKind::kDouble:
      return "a number";
    case FieldKind::kBool:
      return "a boolean";
    case FieldKind::kStringList:
      return "an array of strings";
    case FieldKind::kPersonal:
      return "a sealed personal data token (a string)";
  }
  return "?";
}

const char* JsonTypeName(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "an array";
    case od::json_type::object:
      return "an object";
    case od::json_type::number:
      return "a number";
    case od::json_type::string:
      return "a string";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "?";
}

class FieldError {
 public:
  FieldError(std::string_view type, std::string_view field) : type_(type), field_(field) {}
  Status operator()(const std::string& problem) const {
    // "<type>.<field>", or just the field when the caller adds the type.
    std::string m(type_);
    if (!field_.empty()) m += (m.empty() ? "" : ".") + std::string(field_);
    return Status::InvalidArgument(m + ": " + problem);
  }

 private:
  std::string_view type_, field_;
};

Status Malformed(std::string_view type, simdjson::error_code e) {
  return Status::InvalidArgument(std::string(type) + ": malformed JSON (" +
                                 simdjson::error_message(e) + ")");
}

// The closing quote of a string whose text starts at `p` (just after its
// opening quote); nullptr on an escape, a control character, invalid UTF-8
// or no closing quote. (Returns a pointer, not a view through an out
// parameter: the caller's loads then never wait on stores.)
inline const char* CompactString(const char* p, const char* end) {
  const char* start = p;
  bool ascii = true;
  for (;;) {
    if (p >= end) return nullptr;
#if defined(__SSE2__)
    if (end - p >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
      const __m128i slash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
      const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);  // v <= 0x1f
      const auto stop = static_cast<unsigned>(
          _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, slash), control)));
      const auto high = static_cast<unsigned>(_mm_movemask_epi8(v));
      if (stop == 0) {
        ascii = ascii && high == 0;
        p += 16;
        continue;
      }
      const int first = __builtin_ctz(stop);
      ascii = ascii && (high & ((1u << first) - 1u)) == 0;
      p += first;
      if (*p != '"') return nullptr;
      break;
    }
#endif
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"') break;
    if (c == '\\' || c < 0x20) return nullptr;
    if (c >= 0x80) ascii = false;
    ++p;
  }
  if (!ascii && !simdjson::validate_utf8(start, static_cast<size_t>(p - start))) return nullptr;
  return p;
}

// Whether `key` ("\"name\":") is at p. Both sides may be read 16 bytes at
// a time: the input when at least 16 bytes are left, the key always (a
// std::string's buffer holds at least 16 bytes: 15 characters and the
// terminator in place, or a heap buffer of size + 1 > 16).
inline bool KeyAt(const char* p, const char* end, const std::string& key) {
  const size_t n = key.size();
  if (n == 0 || static_cast<size_t>(end - p) < n) return false;
#if defined(__SSE2__)
  if (n <= 16 && end - p >= 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key.data()));
    const unsigned want = n == 16 ? 0xffffu : (1u << n) - 1u;
    return (static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(a, b))) & want) == want;
  }
#endif
  return std::memcmp(p, key.data(), n) == 0;
}

// The text of a string without escapes that starts at `start` (just after
// its opening quote), as a view of the input; false when the parser must
// unescape it. The general path reads most strings and keys in place so.
bool PlainText(const char* start, const char* end, std::string_view* out) {
  const char* close = CompactString(start, end);
  if (close == nullptr) return false;
  *out = std::string_view(start, static_cast<size_t>(close - start));
  return true;
}

// Whether simdjson may parse `json` where it lies (see DecodeFields).
bool InPlace(std::string_view json) {
#if defined(__SANITIZE_ADDRESS__)
  return false;
#else
  if (json.empty()) return false;
  constexpr uintptr_t kPage = 4096;
  const auto last = reinterpret_cast<uintptr_t>(json.data() + json.size() - 1);
  return (last % kPage) + simdjson::SIMDJSON_PADDING < kPage;
#endif
}

// a == b for short strings (field names) without a call into libc.
bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Reads one value of kind `spec.kind` into *in (a string's view points into
// the input or the parser's buffer: valid until its next document). A kStringList goes
// to *list; a kPersonal token, like a string, to in->text.
Status ReadValue(std::string_view type, const FieldSpec& spec, od::value v, const char* end,
                 FieldInput* in, std::vector<std::string>* list) {
  const FieldError err(type, spec.name);
  od::json_type jt;
  if (auto e = v.type().get(jt); e)
    return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
  if (jt == od::json_type::null) {
    bool is_null = false;
    if (auto e = v.is_null().get(is_null); e) {
      return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
    }
    if (spec.optional) {
      in->absent = true;
      return Status::OK();
    }
    if (spec.kind == FieldKind::kPersonal) return Status::OK();  // forgotten (text stays null)
    return err(std::string("expected ") + KindName(spec.kind) + ", got null");
  }
  auto wrong = [&] {
    return err(std::string("expected ") + KindName(spec.kind) + ", got " + JsonTypeName(jt));
  };
  switch (spec.kind) {
    case FieldKind::kString:
    case FieldKind::kPersonal: {  // the token; opened after the whole object is read
      if (jt != od::json_type::string) return wrong();
      // Most strings hold no escape: read them in place (stage 1 has
      // checked their UTF-8 and control characters).
      if (PlainText(v.raw_json_token().data() + 1, end, &in->text)) return Status::OK();
      if (auto e = v.get_string().get(in->text); e)
        return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
      return Status::OK();
    }
    case FieldKind::kBool: {
      if (jt != od::json_type::boolean) return wrong();
      if (auto e = v.get_bool().get(in->boolean); e)
        return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
      return Status::OK();
    }
    case FieldKind::kDouble: {
      if (jt != od::json_type::number) return wrong();
      if (auto e = v.get_double().get(in->number); e)
        return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
      return Status::OK();
    }
    case FieldKind::kInt: {
      if (jt != od::json_type::number) return wrong();
      std::string_view raw = v.raw_json_token();
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\t' ||
                              raw.back() == '\r')) {
        raw.remove_suffix(1);
      }
      // simdjson refuses both malformed numbers (05, -) and integers beyond
      // 64 bits: tell them apart.
      auto refused = [&] {
        std::string_view digits = raw.substr(!raw.empty() && raw[0] == '-' ? 1 : 0);
        const bool integer = !digits.empty() &&
                             digits.find_first_not_of("0123456789") == std::string_view::npos &&
                             (digits.size() == 1 || digits[0] != '0');
        if (integer) return err("number out of range for a 64-bit integer");
        return err("malformed JSON (number " + std::string(raw) + ")");
      };
      od::number_type nt;
      if (auto e = v.get_number_type().get(nt); e) return refused();
      if (nt == od::number_type::floating_point_number) {
        return err("expected an integer, got " + std::string(raw));
      }
      if (nt == od::number_type::unsigned_integer) {
        return err("number out of range for a 64-bit integer");
      }
      int64_t i = 0;
      if (auto e = v.get_int64().get(i); e) return refused();
      if (i < spec.rules.min) {
        return err(std::to_string(i) + " is below the minimum " + std::to_string(spec.rules.min));
      }
      if (i > spec.rules.max) {
        return err(std::to_string(i) + " is above the maximum " + std::to_string(spec.rules.max));
      }
      in->integer = i;
      return Status::OK();
    }
    case FieldKind::kStringList: {
      if (jt != od::json_type::array) return wrong();
      od::array a;
      if (auto e = v.get_array().get(a); e)
        return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
      list->clear();
      size_t index = 0;
      for (auto item : a) {
        od::value iv;
        if (auto e = item.get(iv); e)
          return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
        od::json_type it;
        if (auto e = iv.type().get(it); e)
          return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
        if (it != od::json_type::string) {
          return err("item " + std::to_string(index) + ": expected a string, got " +
                     JsonTypeName(it));
        }
        std::string_view s;
        if (auto e = iv.get_string().get(s); e)
          return err(std::string("malformed JSON (") + simdjson::error_message(e) + ")");
        list->emplace_back(s);
        ++index;
      }
      in->list = list;
      return Status::OK();
    }
  }
  return wrong();
}

// The index of the string field naming the subject of personal field `f`.
Result<size_t> SubjectField(std::string_view type, std::span<const FieldSpec> specs,
                            const FieldSpec& f) {
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].name == f.rules.subject && specs[i].kind == FieldKind::kString) return i;
  }
  return FieldError(type, f.name)("personal data needs rules.subject naming a string field, got '" +
                                  std::string(f.rules.subject) + "'");
}

// ---- The compact fast path ----
//
// Encode writes {"name":value,...}: field names in spec order, no
// whitespace, absent optionals left out. Events read back are nearly always
// in that form, and a scanner that knows the field order reads it several
// times faster than a general parser walk (an aggregate rebuild decodes
// every event of a stream). CompactScan accepts only a strict subset of
// valid JSON whose values it reads exactly as simdjson would: strings
// without escapes (UTF-8 checked, no control characters), integers of at
// most 18 digits within the field's range, JSON numbers for doubles that
// std::from_chars reads (both round correctly), true/false, null where the
// field allows it. Anything else, including every malformed or invalid
// input, returns false and the general path below decodes it and reports
// the error. String lists always take the general path.

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// -?(0|[1-9][0-9]{0,17}), not followed by a fraction or an exponent.
bool CompactInt(const char*& p, const char* end, const FieldRules& rules, int64_t* out) {
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  const char* digits = p;
  int64_t v = 0;
  while (p < end && IsDigit(*p)) {
    if (p - digits == 18) return false;  // 19 digits or more: the general path decides
    v = v * 10 + (*p - '0');
    ++p;
  }
  const auto n = p - digits;
  if (n == 0 || (n > 1 && *digits == '0')) return false;
  if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) return false;
  if (negative) v = -v;
  if (v < rules.min || v > rules.max) return false;  // the general path names the bound
  *out = v;
  return true;
}

// A JSON number read with std::from_chars.
bool CompactDouble(const char*& p, const char* end, double* out) {
  const char* start = p;
  if (p < end && *p == '-') ++p;
  if (p >= end || !IsDigit(*p)) return false;
  if (*p == '0') {
    ++p;
  } else {
    while (p < end && IsDigit(*p)) ++p;
  }
  if (p < end && *p == '.') {
    ++p;
    if (p >= end || !IsDigit(*p)) return false;
    while (p < end && IsDigit(*p)) ++p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (p >= end || !IsDigit(*p)) return false;
    const char* digits = p;
    while (p < end && IsDigit(*p)) ++p;
    if (p - digits > 19) return false;  // simdjson refuses longer exponents
  }
  auto [next, ec] = std::from_chars(start, p, *out);
  return ec == std::errc() && next == p;
}

bool Literal(const char*& p, const char* end, std::string_view word) {
  if (static_cast<size_t>(end - p) < word.size() || std::memcmp(p, word.data(), word.size()) != 0) {
    return false;
  }
  p += word.size();
  return true;
}

// Fills in[i], seen[i] and texts[i] (strings and personal tokens; a null
// personal token stays a null view) as the general path would; true when
// `json` is in the compact form, else false with nothing decided.
bool CompactScan(std::span<const FieldSpec> specs, std::string_view json, std::span<FieldInput> in,
                 std::span<uint8_t> seen, std::span<std::string_view> texts) {
  const char* p = json.data();
  const char* end = p + json.size();
  if (p == end || *p != '{') return false;
  ++p;
  size_t i = 0;
  if (p < end && *p == '}') {
    ++p;
  } else {
    for (;;) {
      // The next key, with its quotes and colon, is the next spec's (an
      // absent optional field may be skipped); else the input is missing,
      // repeating, reordering or adding a field, or escapes a name.
      while (i < specs.size() && !KeyAt(p, end, specs[i].json_key)) {
        if (!specs[i].optional) return false;
        ++i;
      }
      if (i == specs.size()) return false;
      p += specs[i].json_key.size();
      const FieldSpec& spec = specs[i];
      FieldInput& v = in[i];
      v = FieldInput();
      std::string_view text;
      if (p < end && *p == 'n') {
        if (!Literal(p, end, "null")) return false;
        if (spec.optional) {
          v.absent = true;
        } else if (spec.kind != FieldKind::kPersonal) {
          return false;  // the general path names the problem
        }
      } else {
        switch (spec.kind) {
          case FieldKind::kString:
          case FieldKind::kPersonal:
            if (p >= end || *p != '"') return false;
            if (const char* close = CompactString(p + 1, end); close != nullptr) {
              text = std::string_view(p + 1, static_cast<size_t>(close - p - 1));
              p = close + 1;
              break;
            }
            return false;
          case FieldKind::kInt:
            if (!CompactInt(p, end, spec.rules, &v.integer)) return false;
            break;
          case FieldKind::kDouble:
            if (!CompactDouble(p, end, &v.number)) return false;
            break;
          case FieldKind::kBool:
            if (Literal(p, end, "true")) {
              v.boolean = true;
            } else if (!Literal(p, end, "false")) {
              return false;
            }
            break;
          case FieldKind::kStringList:
            return false;
        }
      }
      seen[i] = 1;
      v.text = text;
      texts[i] = text;
      ++i;
      if (p < end && *p == ',') {
        ++p;
        continue;
      }
      if (p < end && *p == '}') {
        ++p;
        break;
      }
      return false;
    }
  }
  for (; i < specs.size(); ++i) {
    if (!specs[i].optional) return false;
  }
  return p == end;
}

// The general path: simdjson's on-demand walk. Puts every field that is
// not a present personal token (seen[i] and texts[i] then say what to open).
Status DecodeGeneral(std::string_view type, std::span<const FieldSpec> specs, std::string_view json,
                     FieldSink* sink, std::span<uint8_t> seen, std::span<std::string_view> texts) {
  // simdjson reads up to SIMDJSON_PADDING bytes past the end of its input
  // (what lies there never changes the result). Memory is mapped by whole
  // pages of at least 4 KiB, so when those bytes are on the page of the last
  // byte of `json` they are readable and the parse runs in place; otherwise
  // (about one event in 64) it runs on a padded copy. Sanitizer builds
  // always copy: they would report the read.
  thread_local std::string buf;
  thread_local od::parser parser;
  thread_local std::vector<std::string> list;
  simdjson::padded_string_view input;
  if (InPlace(json)) {
    input = simdjson::padded_string_view(json.data(), json.size(),
                                         json.size() + simdjson::SIMDJSON_PADDING);
  } else {
    buf.assign(json);
    buf.reserve(json.size() + simdjson::SIMDJSON_PADDING);
    input = simdjson::padded_string_view(buf.data(), json.size(), buf.capacity());
  }
  od::document doc;
  if (auto e = parser.iterate(input).get(doc); e) return Malformed(type, e);
  od::json_type top;
  if (auto e = doc.type().get(top); e) return Malformed(type, e);
  if (top != od::json_type::object) {
    return FieldError(type, "")(std::string("expected a JSON object, got ") + JsonTypeName(top));
  }
  od::object obj;
  if (auto e = doc.get_object().get(obj); e) return Malformed(type, e);
  size_t expected = 0;  // fields usually come in spec order (as Encode writes them)
  const char* end = input.data() + json.size();
  for (auto result : obj) {
    od::field field;
    if (auto e = std::move(result).get(field); e) return Malformed(type, e);
    std::string_view key;
    if (!PlainText(field.key().raw(), end, &key)) {
      if (auto e = field.unescaped_key().get(key); e) return Malformed(type, e);
    }
    size_t i = expected;
    if (i >= specs.size() || !SameName(specs[i].name, key)) {
      i = 0;
      while (i < specs.size() && !SameName(specs[i].name, key)) ++i;
    }
    expected = i + 1;
    if (i == specs.size()) return FieldError(type, "")("unknown field '" + std::string(key) + "'");
    if (seen[i]) return FieldError(type, key)("field appears twice");
    seen[i] = 1;
    FieldInput in;
    CAIRN_RETURN_IF_ERROR(ReadValue(type, specs[i], field.value(), end, &in, &list));
    texts[i] = in.text;
    if (specs[i].kind == FieldKind::kPersonal && !in.absent)
      continue;  // opened once its subject is known
    sink->Put(i, in);
  }
  // Nothing may follow the object.
  if (!doc.current_location().error()) return Malformed(type, simdjson::TRAILING_CONTENT);
  for (size_t i = 0; i < specs.size(); ++i) {
    if (seen[i]) continue;
    if (!specs[i].optional) return FieldError(type, specs[i].name)("missing required field");
    FieldInput absent;
    absent.absent = true;
    sink->Put(i, absent);
  }
  return Status::OK();
}

// Opens the personal fields seen[i] with texts[i] (a null view: written
// after the subject was forgotten) and Puts them.
Status OpenPersonal(std::string_view type, std::span<const FieldSpec> specs,
                    std::span<const uint8_t> seen, std::span<const std::string_view> texts,
                    FieldSink* sink, PersonalDataCipher* cipher) {
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].kind != FieldKind::kPersonal || !seen[i] ||
        (specs[i].optional && texts[i].data() == nullptr)) {
      continue;  // not personal, absent, or an optional null (Put as absent)
    }
    if (texts[i].data() == nullptr) {  // null: written after its subject was forgotten
      Personal gone = Personal::Forgotten();
      FieldInput in;
      in.personal = &gone;
      sink->Put(i, in);
      continue;
    }
    const FieldError err(type, specs[i].name);
    CAIRN_ASSIGN_OR_RETURN(size_t subject, SubjectField(type, specs, specs[i]));
    if (cipher == nullptr) return err("personal data needs a PersonalDataCipher to be read");
    if (!seen[subject]) return err("its subject field '" + specs[subject].name + "' is absent");
    auto opened = cipher->Open(texts[subject], texts[i]);
    if (!opened.has_value())
      return Status(opened.error().code(), err(opened.error().message()).message());
    Personal value = *opened ? Personal(std::move(**opened)) : Personal::Forgotten();
    FieldInput in;
    in.personal = &value;
    sink->Put(i, in);
  }
  return Status::OK();
}

}  // namespace

Status DecodeFields(std::string_view type, std::span<const FieldSpec> specs, std::string_view json,
                    FieldSink* sink, PersonalDataCipher* cipher) {
  // Per field: its value, whether it was seen, and the text of strings and
  // personal tokens (views into the input or the parser's buffer, valid for
  // this call). One thread-local scratch, reached once per call.
  struct Scratch {
    std::vector<FieldInput> in;
    std::vector<uint8_t> seen;
    std::vector<std::string_view> texts;
  };
  thread_local Scratch scratch;
  Scratch& sc = scratch;
  const size_t n = specs.size();
  if (sc.in.size() < n) {
    sc.in.resize(n);
    sc.seen.resize(n);
    sc.texts.resize(n);
  }
  const std::span<FieldInput> in(sc.in.data(), n);
  const std::span<uint8_t> seen(sc.seen.data(), n);
  const std::span<std::string_view> texts(sc.texts.data(), n);
  std::fill(seen.begin(), seen.end(), uint8_t{0});
  if (CompactScan(specs, json, in, seen, texts)) {
    bool personal = false;
    for (size_t i = 0; i < n; ++i) {
      if (!seen[i]) {
        in[i] = FieldInput();
        in[i].absent = true;
      }
      if (specs[i].kind == FieldKind::kPersonal && !in[i].absent) {
        personal = true;  // opened below
        continue;
      }
      sink->Put(i, in[i]);
    }
    if (!personal) return Status::OK();
  } else {
    std::fill(seen.begin(), seen.end(), uint8_t{0});
    std::fill(texts.begin(), texts.end(), std::string_view());
    CAIRN_RETURN_IF_ERROR(DecodeGeneral(type, specs, json, sink, seen, texts));
  }
  return OpenPersonal(type, specs, seen, texts, sink, cipher);
}

namespace internal {
Status DecodeFieldsGeneral(std::string_view type, std::span<const FieldSpec> specs,
                           std::string_view json, FieldSink* sink, PersonalDataCipher* cipher) {
  std::vector<uint8_t> seen(specs.size(), 0);
  std::vector<std::string_view> texts(specs.size());
  CAIRN_RETURN_IF_ERROR(DecodeGeneral(type, specs, json, sink, seen, texts));
  return OpenPersonal(type, specs, seen, texts, sink, cipher);
}
bool DecodesCompactly(std::span<const FieldSpec> specs, std::string_view json) {
  std::vector<FieldInput> in(specs.size());
  std::vector<uint8_t> seen(specs.size(), 0);
  std::vector<std::string_view> texts(specs.size());
  return CompactScan(specs, json, in, seen, texts);
}
}  // namespace internal

namespace {

// `seal`: how a Personal value is written (a token, or the clear value).
template <class Seal>
Status EncodeInto(std::span<const FieldSpec> specs, std::span<const FieldValue> values, Seal&& seal,
                  nlohmann::ordered_json* j) {
  for (size_t i = 0; i < specs.size(); ++i) {
    Status s;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, Personal>) {
            auto token = seal(i, v);
            if (!token.has_value()) {
              s = token.error();
            } else if (*token) {
              (*j)[specs[i].name] = std::move(**token);
            } else {
              (*j)[specs[i].name] = nullptr;
            }
          } else if constexpr (!std::is_same_v<T, std::monostate>) {
            (*j)[specs[i].name] = v;
          }
        },
        values[i]);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace

std::string EncodeFields(std::span<const FieldSpec> specs, std::span<const FieldValue> values) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  Status s = EncodeInto(
      specs, values,
      [](size_t, const Personal& p) -> Result<std::optional<std::string>> {
        if (p.forgotten()) return std::optional<std::string>();
        return std::optional<std::string>(p.value());
      },
      &j);
  (void)s;  // clear values cannot fail
  return j.dump();
}

Result<std::string> EncodeFields(std::span<const FieldSpec> specs,
                                 std::span<const FieldValue> values, PersonalDataCipher* cipher) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  CAIRN_RETURN_IF_ERROR(EncodeInto(
      specs, values,
      [&](size_t i, const Personal& p) -> Result<std::optional<std::string>> {
        // A forgotten value stays forgotten: written as null (a snapshot of
        // a state after an erasure, an event copying such a value).
        if (p.forgotten()) return std::optional<std::string>();
        // EncodeSealed puts the type in front of the field's name.
        CAIRN_ASSIGN_OR_RETURN(size_t subject, SubjectField("", specs, specs[i]));
        if (cipher == nullptr) {
          return Status::InvalidArgument(
              specs[i].name + ": personal data needs a PersonalDataCipher to be written");
        }
        const std::string* who = std::get_if<std::string>(&values[subject]);
        if (who == nullptr) {
          return Status::InvalidArgument(specs[i].name + ": its subject field '" +
                                         specs[subject].name + "' is absent");
        }
        auto token = cipher->Seal(*who, p.value());
        if (!token.has_value()) {
          return Status(token.error().code(), specs[i].name + ": " + token.error().message());
        }
        return std::optional<std::string>(std::move(*token));
      },
      &j));
  return j.dump();
}

std::string JsonSchema(std::string_view type, int version, std::span<const FieldSpec> specs) {
  nlohmann::ordered_json s;
  s["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  s["$id"] = "urn:cairn:event:" + std::string(type) + ":v" + std::to_string(version);
  s["title"] = type;
  s["type"] = "object";
  nlohmann::ordered_json props = nlohmann::ordered_json::object();
  nlohmann::ordered_json required = nlohmann::ordered_json::array();
  for (const FieldSpec& f : specs) {
    nlohmann::ordered_json p;
    const char* t = "string";
    switch (f.kind) {
      case FieldKind::kString:
        t = "string";
        break;
      case FieldKind::kInt:
        t = "integer";
        break;
      case FieldKind::kDouble:
        t = "number";
        break;
      case FieldKind::kBool:
        t = "boolean";
        break;
      case FieldKind::kStringList:
        t = "array";
        break;
      case FieldKind::kPersonal:
        t = "string";
        break;
    }
    if (f.optional || f.kind == FieldKind::kPersonal) {  // personal: null once forgotten
      p["type"] = {t, "null"};
    } else {
      p["type"] = t;
    }
    if (!f.optional) required.push_back(f.name);
    if (f.kind == FieldKind::kStringList) p["items"] = {{"type", "string"}};
    if (f.kind == FieldKind::kPersonal) {
      // Sealed for the subject named by another field (personal-data.md).
      p["pattern"] = "^cairn:v1:[A-Za-z0-9_-]+$";
      p["x-cairn-personal-data"] = {{"subject", std::string(f.rules.subject)}};
    }
    if (f.kind == FieldKind::kInt) {
      p["minimum"] = f.rules.min;
      p["maximum"] = f.rules.max;
    }
    if (!f.rules.description.empty()) p["description"] = f.rules.description;
    props[f.name] = std::move(p);
  }
  s["properties"] = std::move(props);
  s["required"] = std::move(required);
  s["additionalProperties"] = false;
  s["x-cairn-schema-version"] = version;
  return s.dump(2);
}

}  // namespace cairn::toolkit
