#pragma once
// JSON text checked and kept byte for byte: the validator and compactor
// behind the JSON-lines event format (docs/format/jsonl.md).
//
// An event store stores the caller's bytes, so nothing here builds a tree
// and re-serializes it: a document is checked in one pass (RFC 8259, strict)
// and its compact form is the input with the whitespace between tokens
// removed, every other byte as given (numbers digit for digit, strings with
// their escapes as written). Nesting is tracked on an explicit stack, never
// by recursion, so hostile input cannot exhaust the call stack; time is
// linear in the input.
//
// Rules beyond the grammar (each failure is kInvalidArgument naming the
// problem and the byte offset in the input):
//  - strings are valid UTF-8 (no overlong forms, no UTF-16 surrogates
//    encoded in UTF-8, nothing above U+10FFFF), control characters below
//    U+0020 escaped, \u escapes pair surrogates correctly ("\u0000" is fine);
//  - a number whose magnitude is beyond the range of a double (1e400, a
//    400-digit integer) is refused; one that merely underflows (1e-400) or
//    has more digits than a double holds is kept as written;
//  - nesting is at most JsonLimits::max_depth levels;
//  - an object may not repeat a key; keys compare decoded ("a" == "\u0061").
//
// Pure functions, safe from any thread.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"

namespace cairn::cli {

// Bounds a JSON document must keep.
struct JsonLimits {
  // Most levels of nested arrays and objects; the outermost array or object
  // is level 1. Default 1000.
  size_t max_depth = 1000;
  // Refuse an object that repeats a key (compared decoded). Default true:
  // parsers disagree on which of the repeated values counts.
  bool reject_duplicate_keys = true;
};

// On success appends the compact form of `text`, which must be exactly one
// JSON value (whitespace around it allowed), to `*out`. On failure `*out` is
// left as it was and the status is kInvalidArgument naming the problem and
// its byte offset in `text`, e.g. "unexpected '}' at offset 7".
Status AppendCompactJson(std::string* out, std::string_view text, const JsonLimits& limits = {});

// The compact form of `text`, as AppendCompactJson.
Result<std::string> CompactJson(std::string_view text, const JsonLimits& limits = {});

// OK when `text` is exactly one JSON value within `limits`; else the error
// CompactJson would return. Allocates nothing per key or per value.
Status ValidateJson(std::string_view text, const JsonLimits& limits = {});

// The UTF-8 text of `token`, a complete JSON string literal with its quotes
// (e.g. "\"a\\u00e9\"" gives "aé"). kInvalidArgument when `token` is not
// exactly one valid JSON string.
Result<std::string> DecodeJsonString(std::string_view token);

// Appends `s` as a JSON string literal: quotes around, `"` and `\` escaped,
// control characters below U+0020 escaped (\n style where JSON has one,
// else \u00XX). Bytes that are not valid UTF-8 become U+FFFD (one per
// maximal invalid sequence), so the output is always valid JSON.
void AppendJsonString(std::string* out, std::string_view s);

// What a JSON value is, from its first byte.
enum class JsonKind { kObject, kArray, kString, kNumber, kTrue, kFalse, kNull };

// The JSON name of a kind as users know it: "object", "array", "string",
// "number", "boolean" (for true and false) or "null".
const char* JsonKindName(JsonKind kind);

// One member of an object parsed by ParseJsonObject.
struct JsonMember {
  std::string key;    // decoded UTF-8
  std::string value;  // the value's validated compact text
  JsonKind kind = JsonKind::kNull;
};

// The members of `text`, which must be exactly one JSON object, in their
// order. Every rule of CompactJson holds, duplicate keys of the object
// itself always refused; `limits` apply to each member's value on its own
// (the enclosing object is not counted as a level, so a value printed
// inside an object comes back under the same limit). kInvalidArgument as for
// CompactJson, or "expected a JSON object, got array" and the like.
Result<std::vector<JsonMember>> ParseJsonObject(std::string_view text,
                                                const JsonLimits& limits = {});

}  // namespace cairn::cli
