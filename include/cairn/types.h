#pragma once
// Value types of the public engine API: strong numbers (revision, position),
// the expected-revision sum type, event ids, events to write and recorded
// events. All are plain values, safe to copy and to share between threads
// when not mutated.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn {

// 0-based index of an event within its stream; contiguous per stream.
class StreamRevision {
 public:
  // The revision of a tombstone (the "$streamDeleted" event a hard delete
  // appends), as in KurrentDB: INT64_MAX.
  static constexpr uint64_t kTombstone = 0x7fffffffffffffffull;
  constexpr StreamRevision() = default;
  constexpr explicit StreamRevision(uint64_t v) : value_(v) {}
  constexpr uint64_t value() const { return value_; }
  constexpr StreamRevision Next() const { return StreamRevision(value_ + 1); }
  friend constexpr auto operator<=>(StreamRevision, StreamRevision) = default;

 private:
  uint64_t value_ = 0;
};

// An event's place in the global order of all events ($all). The contract
// every backend keeps: positions strictly increase in the order readers see
// commits; a reader never sees them reordered and never skips one it could
// have seen; a checkpointed position stays valid to resume from. They are
// NOT contiguous in general (a PostgreSQL sequence or a KurrentDB log
// position has gaps): compare positions, never count with them. The native
// engine assigns 0, 1, 2... at durable append, leaving holes only where a
// scavenge removed events or a restore had none.
class Position {
 public:
  constexpr Position() = default;
  constexpr explicit Position(uint64_t v) : value_(v) {}
  constexpr uint64_t value() const { return value_; }
  constexpr Position Next() const { return Position(value_ + 1); }
  friend constexpr auto operator<=>(Position, Position) = default;

 private:
  uint64_t value_ = 0;
};

// What the caller expects of a stream's state before its append.
class ExpectedRevision {
 public:
  enum class Kind : uint8_t { kAny, kNoStream, kStreamExists, kExact };

  static constexpr ExpectedRevision Any() { return ExpectedRevision(Kind::kAny, 0); }
  static constexpr ExpectedRevision NoStream() { return ExpectedRevision(Kind::kNoStream, 0); }
  static constexpr ExpectedRevision StreamExists() {
    return ExpectedRevision(Kind::kStreamExists, 0);
  }
  static constexpr ExpectedRevision Exact(StreamRevision r) {
    return ExpectedRevision(Kind::kExact, r.value());
  }
  // Parses "any", "no-stream", "exists" or a decimal revision.
  static Result<ExpectedRevision> Parse(std::string_view text);

  constexpr Kind kind() const { return kind_; }
  // Only meaningful for kExact.
  constexpr StreamRevision revision() const { return StreamRevision(revision_); }
  // "any", "no_stream", "exists" or the number.
  std::string ToString() const;
  friend constexpr bool operator==(ExpectedRevision, ExpectedRevision) = default;

 private:
  constexpr ExpectedRevision(Kind k, uint64_t r) : kind_(k), revision_(r) {}
  Kind kind_;
  uint64_t revision_;
};

// A 128-bit event id in RFC 4122 layout.
class Uuid {
 public:
  constexpr Uuid() = default;
  explicit Uuid(const std::array<uint8_t, 16>& bytes) : bytes_(bytes) {}
  // A fresh random (version 4) id.
  static Uuid Random();
  // Parses the canonical 8-4-4-4-12 hex form (either case).
  static Result<Uuid> Parse(std::string_view text);
  // Lowercase canonical form.
  std::string ToString() const;
  bool IsNil() const;
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  friend bool operator==(const Uuid&, const Uuid&) = default;

 private:
  std::array<uint8_t, 16> bytes_{};
};

enum class ContentType : uint8_t { kJson = 1, kBinary = 2 };

// An event the caller wants written. The engine stores its data and
// metadata as the bytes given and never parses them (only the "$metadata"
// events it writes itself): any bytes, JSON nested to any depth, up to
// NativeOptions::max_event_bytes. Readers of JSON events should bound their
// parsers; `cairn` prints data nested deeper than 1,000 levels (or not
// valid JSON) as base64 (docs/format/jsonl.md).
struct EventData {
  std::optional<Uuid> id;  // generated (random v4) when absent
  std::string type;        // non-empty UTF-8
  ContentType content_type = ContentType::kJson;
  std::string data;      // bytes; JSON text when content_type is kJson
  std::string metadata;  // bytes; JSON by convention
};

// A stored event, as returned by reads. Owns its bytes.
struct RecordedEvent {
  std::string stream;
  StreamRevision revision;
  Position position;
  Uuid id;
  std::string type;
  ContentType content_type = ContentType::kJson;
  std::string data;
  std::string metadata;
  int64_t created_ns = 0;  // UTC, nanoseconds since the Unix epoch
  // The id was supplied by the appender (EventData::id), not made by the
  // engine: such ids are indexed, so a retry of the append finds them.
  bool caller_id = false;
};

// A stored event seen without copying: the views are valid only during the
// visitor call that receives it.
struct EventView {
  std::string_view stream;
  StreamRevision revision;
  Position position;
  Uuid id;
  std::string_view type;
  ContentType content_type = ContentType::kJson;
  std::string_view data;
  std::string_view metadata;
  int64_t created_ns = 0;
  bool caller_id = false;  // as RecordedEvent::caller_id

  RecordedEvent ToRecorded() const;
};

}  // namespace cairn
