#pragma once
// The audit trail: every event the toolkit writes carries, in its metadata,
// who did it and why: the schema version of its data, correlation and
// causation ids, the command id and the acting user. The keys are
// "$correlationId" and "$causationId" (the names KurrentDB clients and UIs
// know), "commandId", "user", "schemaVersion"; "schemaVersion" comes first
// so a reader finds it without parsing the whole object.
//
// Thread safety: free functions and value types.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/status.h"
#include "cairn/types.h"

namespace cairn::toolkit {

// Who issues a command, and in answer to what.
struct CommandContext {
  // Makes the command idempotent: its events get ids derived from it
  // (CommandEventId), so a retry after a timeout finds them and writes
  // nothing. Nil: no idempotency (fresh random ids).
  Uuid command_id;
  std::string user;            // the acting user (may be empty)
  std::string correlation_id;  // empty: the command id (or a fresh id)
  std::string causation_id;    // empty: the command id (or a fresh id)
};

// The audit fields of one stored event.
struct Audit {
  int schema_version = 1;
  std::string correlation_id;
  std::string causation_id;
  std::string command_id;
  std::string user;
};

// The id of event `index` of command `command` on `stream`: the same
// inputs always give the same id (a version-8 UUID from a BLAKE2b hash).
Uuid CommandEventId(const Uuid& command, std::string_view stream, uint32_t index);

// The metadata JSON of an event written for `ctx` with data of
// `schema_version`.
std::string EncodeAudit(const CommandContext& ctx, int schema_version);

// The audit fields of an event's metadata. Metadata that is not a JSON
// object or lacks fields gives defaults (schema version 1: events written
// before the toolkit); kInvalidArgument when "schemaVersion" is not a
// positive integer.
Result<Audit> DecodeAudit(std::string_view metadata);

// Only the schema version (the rebuild path): O(1) when the metadata starts
// with "schemaVersion" as EncodeAudit writes it.
Result<int> SchemaVersionOf(std::string_view metadata);

}  // namespace cairn::toolkit
