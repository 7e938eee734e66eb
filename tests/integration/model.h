#pragma once
// Model: what a correct store holds, kept in plain containers, and what a
// correct store answers. Used by model_test.cc to check the engine after
// every random operation.
//
// The append rules written here are the public contract of Store::Append
// (include/cairn/store.h) made exact:
//   - an expectation holds as its name says (any; no stream; stream exists;
//     last revision equals N); a soft-deleted stream counts as absent for
//     no-stream and exists, and its revisions continue after the old last;
//   - a call whose ids are all the caller's is a retry (duplicate, nothing
//     written, the original result returned) when those ids are stored at
//     the revisions the expectation implies (no-stream: from the stream's
//     "$tb", 0 when unset, which is where a recreated stream starts; exact N:
//     from N+1) or, for any/exists, from wherever the first id is stored;
//     "stored" means still in the log: retention does not matter, but an
//     event a scavenge removed is gone;
//   - kIdempotencyConflict when only some of those ids are stored there (for
//     a failed no-stream/exact expectation, or any/exists whose first id is
//     stored), and for a multi-stream call partly a retry and partly new;
//   - kStreamDeleted for a tombstoned stream whatever the expectation;
//   - otherwise a failed expectation is kWrongExpectedRevision naming the
//     first failing stream; a call either writes everything or nothing.
//
// The lifecycle (store.h, StreamMetadata and the delete calls): metadata is
// the newest "$metadata" event of "$$<stream>"; the revisions a stream read
// shows are those >= max($tb, last + 1 - $maxCount) that are still stored,
// and a stream whose "$tb" is past its last revision is soft-deleted (read
// as absent). Category, event-type and count reads apply the same
// retention; $all shows every stored event. A scavenge removes events of
// tombstoned streams (not the tombstone), revisions below the visible range
// and superseded metadata (all metadata of a tombstoned stream); a stream's
// last event, if not visible, stays with empty data and metadata.
//
// Not thread-safe; one model per test run. Copyable (a scavenge that may
// or may not have committed is checked against both outcomes).

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cairn/native.h"
#include "tests/integration/printers.h"

namespace cairn {

struct ModelEvent {
  std::string stream;
  uint64_t revision = 0;
  std::optional<Uuid> id;  // unknown until first read when the store chose it
  std::string type;
  ContentType content_type = ContentType::kJson;
  std::string data;
  std::string metadata;
  bool removed = false;   // a scavenge took it out of the log
  bool scrubbed = false;  // a scavenge kept it with data and metadata emptied
};

// The predicted answer to one append call (or one lifecycle call, whose
// single result is its append).
struct Outcome {
  ErrorCode code = ErrorCode::kOk;
  RevisionConflict conflict;          // kWrongExpectedRevision only
  std::vector<AppendResult> results;  // kOk only
};

// What the store says about one stream under its retention.
struct ModelRetention {
  std::optional<uint64_t> last;  // last revision stored (the tombstone aside)
  bool tombstoned = false;
  bool soft_deleted = false;   // every stored revision is below "$tb"
  uint64_t first_visible = 0;  // "$tb", "$maxCount"
};

// One row of ListStreams.
struct ModelSummary {
  std::string stream;
  uint64_t created = 0;  // position of the stream's first stored event
  uint64_t last_revision = 0;
  uint64_t last_position = 0;
  uint64_t event_count = 0;
  StreamState state = StreamState::kLive;
};

// What one scavenge does.
struct ModelScavenge {
  uint64_t removed = 0;
  uint64_t scrubbed = 0;      // events kept with their data and metadata emptied
  std::string scrubbed_text;  // "stream/revision@position ..." of those, for messages
};

class Model {
 public:
  static bool IsSystem(const std::string& stream) { return !stream.empty() && stream[0] == '$'; }
  static std::string MetaStream(const std::string& stream) { return "$$" + stream; }
  // The part of a stream name before its first '-'; empty when none.
  static std::string CategoryOf(const std::string& stream);

  // Positions assigned (HeadPosition); events still stored (CountAll).
  uint64_t size() const { return all_.size(); }
  uint64_t stored() const { return all_.size() - removed_; }
  uint64_t removed() const { return removed_; }
  const ModelEvent& At(uint64_t position) const { return all_[position]; }
  // Position of the first event still stored (size() when none).
  uint64_t FirstStored() const;
  // Streams holding a stored event, system streams included (a stream
  // tombstoned without ever holding an event counts: its tombstone is
  // stored).
  size_t stream_count() const;

  std::optional<uint64_t> LastRevision(const std::string& stream) const;
  uint64_t StreamLength(const std::string& stream) const;
  uint64_t PositionOf(const std::string& stream, uint64_t revision) const {
    return streams_.at(stream).at(revision);
  }
  bool Tombstoned(const std::string& stream) const { return tombstones_.count(stream) > 0; }
  // The stream's metadata; nullptr when never set.
  const StreamMetadata* Metadata(const std::string& stream) const;
  ModelRetention RetentionOf(const std::string& stream) const;
  bool SoftDeleted(const std::string& stream) const { return RetentionOf(stream).soft_deleted; }

  Outcome Predict(std::span<const StreamAppend> parts) const;
  // Records the events of a successful call predicted as `o`.
  void Apply(std::span<const StreamAppend> parts, const Outcome& o);

  // SetStreamMetadata(stream, expected, ...): the append to "$$<stream>".
  Outcome PredictMetadata(const std::string& stream, ExpectedRevision expected) const;
  void ApplyMetadata(const std::string& stream, const StreamMetadata& m);
  // DeleteStream(stream, expected); on kOk, *written is the metadata it writes.
  Outcome PredictDelete(const std::string& stream, ExpectedRevision expected,
                        StreamMetadata* written) const;
  // TombstoneStream(stream, expected).
  Outcome PredictTombstone(const std::string& stream, ExpectedRevision expected) const;
  void ApplyTombstone(const std::string& stream);

  // A scavenge, deciding every event's fate from the state it starts in.
  ModelScavenge Scavenge();

  // kOk, kNotFound or kStreamDeleted: what ReadStream, GetStreamInfo and
  // CountStream of `stream` say.
  ErrorCode StreamCode(const std::string& stream) const;
  // Positions of the events a read of `stream` can show, in revision order.
  std::vector<uint64_t> VisibleOf(const std::string& stream) const;
  // Positions a stream read with `o` returns, in order (StreamCode kOk).
  std::vector<uint64_t> StreamRead(const std::string& stream, const ReadStreamOptions& o) const;
  // Positions a $all read with `o` returns, in order.
  std::vector<uint64_t> AllRead(const ReadAllOptions& o) const;
  // Whether category and event-type reads show the event at `position`.
  bool VisibleInIndex(uint64_t position) const;
  // Positions a category (by_category) or event-type read returns.
  std::vector<uint64_t> TaggedRead(bool by_category, const std::string& name,
                                   const ReadAllOptions& o) const;
  // ListStreams with default options: in creation order (the position of a
  // stream's first stored event, or of its tombstone when that is all that
  // is left), streams tombstoned without ever holding an event included.
  std::vector<ModelSummary> List() const;

  // Compares a stored event with the model's event at `position` (the
  // index-th of the read `what`). An id the store generated is learned the
  // first time it is read.
  void CheckEvent(const RecordedEvent& got, uint64_t position, const std::string& what,
                  size_t index);

 private:
  static Outcome Fail(ErrorCode code) {
    Outcome o;
    o.code = code;
    return o;
  }
  static Outcome Conflict(const std::string& stream, ExpectedRevision e,
                          std::optional<uint64_t> actual) {
    Outcome o = Fail(ErrorCode::kWrongExpectedRevision);
    o.conflict = {stream, e.ToString(), actual};
    return o;
  }
  // Appends one event the engine makes ("$metadata", "$streamDeleted").
  void AddSystemEvent(const std::string& stream, uint64_t revision, std::string type,
                      std::string data);

  // The stored revision of `stream` whose event has `id`, if any. Ids the
  // tests choose are unique, so at most one is stored.
  std::optional<uint64_t> RevisionOfId(const std::string& stream, const Uuid& id) const;
  // How many leading events of `a` carry the ids stored from `first` on.
  size_t MatchingIds(const StreamAppend& a, uint64_t first) const;

  std::vector<ModelEvent> all_;                           // index = position
  std::map<std::string, std::vector<uint64_t>> streams_;  // revision -> position
  std::map<std::string, uint64_t> tombstones_;            // stream -> its tombstone's position
  std::map<std::string, StreamMetadata> metadata_;        // the newest of each "$$<stream>"
  uint64_t removed_ = 0;
};

}  // namespace cairn
