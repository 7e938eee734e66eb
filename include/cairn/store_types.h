#pragma once
// Options and results of the backend-neutral Store API (store.h): what an
// append returns, how to read, stream metadata, listing and counting. Plain
// values, safe to copy and to share between threads when not mutated.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"
#include "cairn/subscription.h"
#include "cairn/types.h"

namespace cairn {

// Result of one stream's append.
struct AppendResult {
  std::string stream;
  // Last revision of the stream after the append; nullopt only for an
  // empty append to a stream that does not exist.
  std::optional<StreamRevision> revision;
  // Position of the last event written (or of the original events when
  // `duplicate`); for an empty append, the store's head position.
  Position position;
  // True when every event was already stored by an earlier append of events
  // with the same ids: nothing was written and the original result is
  // returned. Only ids are compared, as in KurrentDB: a retry with the same
  // ids and other data is a duplicate too, and its data is not stored.
  bool duplicate = false;
};

// One stream's part of a multi-stream append.
struct StreamAppend {
  std::string stream;
  ExpectedRevision expected = ExpectedRevision::Any();
  std::vector<EventData> events;
};

enum class Direction : uint8_t { kForwards, kBackwards };

struct ReadStreamOptions {
  Direction direction = Direction::kForwards;
  // First revision to return (inclusive). nullopt: the start when reading
  // forwards, the end when reading backwards.
  std::optional<StreamRevision> from;
  uint64_t max_count = UINT64_MAX;
};

struct ReadAllOptions {
  Direction direction = Direction::kForwards;
  // First position to return (inclusive). nullopt: start or end.
  std::optional<Position> from;
  // Counts events returned (those passing `filter`), not events scanned.
  uint64_t max_count = UINT64_MAX;
  // Only events passing this filter are returned (see subscription.h).
  EventFilter filter;
};

struct StreamInfo {
  std::string stream;
  StreamRevision last_revision;
  Position last_position;
};

// A stream's metadata: one JSON object per stream, kept as the events of
// the system stream "$$<stream>" (event type "$metadata"), so it is
// versioned like any stream. Recognized keys use KurrentDB's names:
//   "$maxCount" (events kept: the newest N), "$maxAge" (seconds since an
//   event was written), "$tb" (truncate before: revisions below it).
// Every other key is the application's and is kept as given. Retention is
// applied at read time to stream, category and event-type reads (not to
// $all, which shows every stored event until it is removed for good).
struct StreamMetadata {
  std::optional<uint64_t> max_count;
  std::optional<uint64_t> max_age_seconds;
  std::optional<uint64_t> truncate_before;
  // A JSON object holding every other key ("{}" when none).
  std::string custom = "{}";

  // The JSON document: custom keys plus the recognized ones.
  std::string ToJson() const;
  // kInvalidArgument naming the key: not an object, nested deeper than 100
  // levels, or a recognized key that is not a non-negative integer
  // ($maxCount must be at least 1).
  static Result<StreamMetadata> Parse(std::string_view json);
};

struct StreamMetadataResult {
  StreamMetadata metadata;
  // Revision of the metadata in "$$<stream>"; nullopt when never set.
  std::optional<StreamRevision> revision;
};

enum class StreamState : uint8_t { kLive, kSoftDeleted, kTombstoned };

struct ListStreamsOptions {
  // Only streams whose name starts with this. A prefix containing '-'
  // names a category and only walks that category's streams.
  std::string prefix;
  // Paging: streams created after this position (the `created` of the last
  // stream of the previous page). nullopt: from the first stream.
  std::optional<Position> after;
  uint64_t limit = 1000;
  // Include soft-deleted and tombstoned streams.
  bool include_deleted = true;
};

struct StreamSummary {
  std::string stream;
  Position created;              // position of its first event (the paging key)
  StreamRevision last_revision;  // StreamRevision::kTombstone when tombstoned
  Position last_position;
  uint64_t event_count = 0;  // events visible to reads (retention applied)
  StreamState state = StreamState::kLive;
};

// What Store::Count counts.
struct CountOf {
  enum class Kind : uint8_t {
    kAll,       // events stored in $all (every event, system events included)
    kStream,    // events of a stream visible to reads (retention applied)
    kCategory,  // events of a category visible to reads
  };
  Kind kind = Kind::kAll;
  std::string name;  // the stream or category

  static CountOf All() { return {}; }
  static CountOf Stream(std::string stream) { return {Kind::kStream, std::move(stream)}; }
  static CountOf Category(std::string category) { return {Kind::kCategory, std::move(category)}; }
};

// How a store is opened through OpenStore (store.h), whatever its backend.
// Backend-specific settings have their own option structs (native.h).
struct OpenOptions {
  // Create an empty store when there is none. Default true.
  bool create_if_missing = true;
  // Open for reading only; writes fail with kReadOnly. Default false.
  bool read_only = false;
};

// Called with events in read order; return false to stop early.
using EventVisitor = std::function<bool(const EventView&)>;

}  // namespace cairn
