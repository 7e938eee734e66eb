#pragma once
// The JSON-lines form of events used by `cairn` (read, read-all, tail,
// export, import), specified in docs/format/jsonl.md. One event is one line:
//
//   {"stream":S,"revision":R,"position":P,"id":U,"type":T,
//    "created":"2026-11-22T07:45:11.123456789Z",["content_type":"binary",]
//    "data":V | "data_base64":B, ["metadata":V | "metadata_base64":B,]
//    ["id_generated":true]}
//
// Event bytes are never parsed into a tree and re-serialized: JSON data is
// checked by cli/json_text.h and printed as stored (whitespace removed for
// read), anything else travels as base64, so what was stored comes back.
//
// Pure functions, safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/status.h"
#include "cairn/types.h"

namespace cairn::cli {

// Which command a line is for.
enum class LineMode {
  // read, read-all, tail: JSON data and metadata with whitespace removed,
  // empty metadata as "metadata":null (every line has the same keys).
  kRead,
  // export: an exact backup. JSON data and metadata only when the stored
  // bytes are already compact (so import stores them byte for byte), else
  // base64; empty metadata leaves the key out.
  kExport,
};

// The line of one stored event, without its '\n', keys in the order of
// docs/format/jsonl.md. "data" holds the event's bytes when the event is
// JSON and the bytes pass CompactJson (default limits; for kExport they
// must also be compact already); otherwise "data_base64" holds them, after
// "content_type":"binary" for a binary event. Metadata follows the same
// rule with "metadata" / "metadata_base64". "id_generated":true ends the
// line when the engine made the id (!event.caller_id). Never recursive: any
// stored bytes, however deeply nested, give a line.
std::string EventToJsonLine(const EventView& event, LineMode mode);

// RFC 3339 UTC with nanoseconds: "2026-11-22T07:45:11.123456789Z". Every
// int64 value has one (years 1677 to 2262).
std::string FormatTimestamp(int64_t unix_nanos);

// The inverse of FormatTimestamp, exact to the nanosecond:
// "YYYY-MM-DDTHH:MM:SS[.F]Z" with F of 1 to 9 digits. kInvalidArgument
// when `text` is not of that form, not a real date and time (no leap
// seconds), or outside the int64 nanoseconds FormatTimestamp can write
// (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z).
Result<int64_t> ParseTimestamp(std::string_view text);

// One parsed line of an import file.
struct ImportEvent {
  std::string stream;
  EventData event;                    // type, content_type, data, metadata, id
  std::optional<uint64_t> revision;   // "revision" (0..2^63-1)
  std::optional<uint64_t> position;   // "position" (0..2^64-1)
  std::optional<int64_t> created_ns;  // "created"
  bool id_generated = false;          // "id_generated":true (needs "id")
};

// Parses one import line, an object with exactly the keys of
// docs/format/jsonl.md, none twice. "stream" and "type" are required,
// non-empty strings. "data" (any JSON value, default {}) and "metadata"
// (absent: empty) are stored as their validated compact text (the caller's
// bytes with whitespace removed); "data_base64" / "metadata_base64" hold
// raw bytes instead, each exclusive with its JSON form. "content_type" is
// "json" (default) or "binary"; a binary event's "data" is a base64 string
// (the form older exports wrote). "revision" and "position" are plain JSON
// integers in range, "created" a timestamp as ParseTimestamp reads,
// "id" a canonical UUID, "id_generated" true (needs "id") or false.
// kInvalidArgument naming the field or key that is wrong; the caller adds
// the line number.
Result<ImportEvent> ParseImportLine(std::string_view line);

}  // namespace cairn::cli
