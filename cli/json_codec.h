#pragma once
// The JSON-lines form of events used by `cairn` (read, read-all, export,
// import, append flags). One event is one JSON object:
//
//   {"stream":S,"revision":R,"position":P,"id":U,"type":T,
//    "created":"2026-11-22T07:45:11.123456789Z",["content_type":"binary",]
//    "data":V,"metadata":V}
//
// Data of content type JSON appears as the parsed JSON value. Data that is
// binary, or stored as JSON but not parseable, appears as a base64 string
// with "content_type":"binary". Metadata appears as its parsed JSON value;
// non-empty metadata that is not JSON appears as "metadata_base64".
//
// Pure functions, safe from any thread.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cairn/status.h"
#include "cairn/types.h"

namespace cairn::cli {

// How an event with empty metadata is written.
enum class EmptyMetadata {
  kNull,  // "metadata":null (read, read-all: every line has the same keys)
  kOmit,  // no "metadata" key (export: import maps absence back to empty)
};

// The JSON object of one stored event, keys in the order shown above.
nlohmann::ordered_json EventToJson(const EventView& event,
                                   EmptyMetadata empty_metadata);

// RFC 3339 UTC with nanoseconds: "2026-11-22T07:45:11.123456789Z".
std::string FormatTimestamp(int64_t unix_nanos);

// The compact JSON text of `text`. kInvalidArgument carrying the parser's
// message when `text` is not one JSON value.
Result<std::string> CompactJson(std::string_view text);

// One parsed line of an import file.
struct ImportEvent {
  std::string stream;
  EventData event;
};

// Parses one import line: an object with "stream" and "type" (non-empty
// strings), optional "data" (any JSON value, default {}; a base64 string when
// "content_type" is "binary"), optional "metadata" (any JSON value; absent
// means empty) or "metadata_base64", optional "id" (canonical UUID) and
// optional "content_type" ("json" or "binary"). The informational keys
// "revision", "position" and "created" written by export are ignored; any
// other key is an error. JSON values are stored as compact JSON text.
// kInvalidArgument names what is wrong; the caller adds the line number.
Result<ImportEvent> ParseImportLine(std::string_view line);

}  // namespace cairn::cli
