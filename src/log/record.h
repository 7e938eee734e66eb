#pragma once
// The log's on-disk grammar (docs/format/log.md): segment headers and commit
// records. A commit record holds every event of one append call (one or
// several streams) and is the unit of atomicity: its CRC32C covers it whole,
// so it is either entirely present or detected as torn/corrupt.
//
// Pure encoding/decoding; no I/O. Thread-safe.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"
#include "cairn/types.h"

namespace cairn::log {

constexpr char kSegmentMagic[8] = {'C', 'A', 'I', 'R', 'N', 'L', 'O', 'G'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kSegmentHeaderSize = 32;
constexpr size_t kFrameHeaderSize = 8;  // u32 body length, u32 masked crc
constexpr uint8_t kRecordCommit = 1;
// Commit flag: each event carries its position (delta from first_pos).
constexpr uint8_t kFlagSparse = 0x01;
// Commit flag: not the first record of its write (the record before it was
// written and fsynced with it); recovery tells a torn last write by it.
constexpr uint8_t kFlagContinuesWrite = 0x02;
// Commit flag: events in the compact layout (varint lengths; a stream and a
// type repeated from the event before are not written again). Every record
// this build writes has it; records without it are read as before.
constexpr uint8_t kFlagCompact = 0x04;
// Fixed part of a commit body: type, flags, reserved u16, event count u32,
// first position u64, created u64.
constexpr size_t kCommitFixedSize = 24;

// A log address: segment id in the high 32 bits, byte offset in the low 32.
inline uint64_t MakeAddress(uint32_t segment, uint32_t offset) {
  return (static_cast<uint64_t>(segment) << 32) | offset;
}
inline uint32_t AddressSegment(uint64_t a) { return static_cast<uint32_t>(a >> 32); }
inline uint32_t AddressOffset(uint64_t a) { return static_cast<uint32_t>(a); }

// Segment header flag: rewritten by scavenge (its records may skip positions).
constexpr uint32_t kSegmentScavenged = 0x1;

struct SegmentHeader {
  uint32_t segment_id = 0;
  uint64_t first_position = 0;
  uint32_t flags = 0;
};
std::string EncodeSegmentHeader(const SegmentHeader& h);
// kCorruption naming `file` when the magic, version or checksum is wrong.
Result<SegmentHeader> DecodeSegmentHeader(std::string_view bytes, const std::string& file);

// One event as the encoder needs it.
struct EventToEncode {
  std::string_view stream;
  uint64_t revision;
  const Uuid* id;
  std::string_view type;
  ContentType content_type;
  std::string_view data;
  std::string_view metadata;
  bool caller_id = false;     // the id came from the caller (indexed for retries)
  bool first_stored = false;  // written by scavenge only: see kFirstStoredFlag
};

// High bit of an event's content-type byte: the id was supplied by the
// caller, so the event-id index keeps it (engine-made ids cannot be retried).
constexpr uint8_t kCallerIdFlag = 0x80;
// Bit 0x40 of the content-type byte, set only by a scavenge: it removed the
// stream's earlier events and this is now its first stored one (it carries
// the stream's creation for listing and counting streams).
constexpr uint8_t kFirstStoredFlag = 0x40;
// Compact records only, in the same byte: the event's stream is the one of
// the event before it, and its revision follows that event's (a varint of
// the revisions skipped is written instead of the stream and revision).
constexpr uint8_t kSameStreamFlag = 0x20;
// Compact records only: the event's type is the one of the event before it.
constexpr uint8_t kSameTypeFlag = 0x10;

// Appends a framed commit record to `out`. Call BeginCommit, AddEvent for
// each event, then FinishCommit.
class CommitEncoder {
 public:
  // Starts a record at the end of `out` (which must outlive the encoder).
  // `sparse`: events carry explicit positions (AddEvent's `position`).
  // `continues_write`: sets kFlagContinuesWrite.
  // `compact`: the compact event layout (kFlagCompact); false writes the
  // original one (tests of reading older logs).
  CommitEncoder(std::string* out, uint64_t first_position, int64_t created_ns, bool sparse = false,
                bool continues_write = false, bool compact = true);
  void AddEvent(const EventToEncode& e, uint64_t position = 0);
  // Writes the length, count and checksum; returns the framed size.
  size_t Finish();

 private:
  std::string* out_;
  size_t start_;
  uint64_t first_position_ = 0;
  uint32_t count_ = 0;
  bool sparse_ = false;
  bool compact_ = true;
  // The event before (compact): its stream and type, as offsets into *out_
  // (which may move), and its revision.
  size_t last_stream_at_ = 0, last_stream_len_ = 0;
  size_t last_type_at_ = 0, last_type_len_ = 0;
  uint64_t last_revision_ = 0;
};

// Upper bound of one event's encoded size in a commit body (either layout;
// the compact one is smaller except for revisions above 2^56).
size_t MaxEncodedEventSize(size_t stream, size_t type, size_t data, size_t metadata);

// What a frame check found at some offset.
enum class FrameState { kOk, kTruncated, kBadLength, kBadChecksum };

// Checks the frame at the start of `bytes` (which extends to the end of the
// valid file region). On kOk sets *body and *framed_size.
FrameState CheckFrame(std::string_view bytes, uint64_t max_body, std::string_view* body,
                      size_t* framed_size);

// Offset of the first whole commit record in `bytes` at or after `from`
// (a frame whose checksum holds and whose fixed part reads) starting at
// position `min_position` or later, or std::string_view::npos. For reading
// past damage: a cheap check of the frame's fixed bytes comes before the
// checksum, and runs of zeros (reserved space) are skipped at once.
size_t FindNextRecord(std::string_view bytes, size_t from, uint64_t min_position);

// A decoded commit body: iterate its events with Next().
class CommitReader {
 public:
  // Validates the fixed part; kCorruption (naming `where`) if malformed.
  static Result<CommitReader> Open(std::string_view body, const std::string& where);
  // The same, with the name of the record built only if an error needs it
  // (reads decode records by the million; most never report anything).
  static Result<CommitReader> Open(std::string_view body, std::function<std::string()> where);
  uint64_t first_position() const { return first_position_; }
  uint32_t event_count() const { return count_; }
  bool sparse() const { return sparse_; }
  bool continues_write() const { return continues_write_; }
  bool compact() const { return compact_; }
  int64_t created_ns() const { return created_ns_; }
  // Decodes the next event into *e (position and created filled in). Returns
  // false at the end; kCorruption if an event is malformed.
  Result<bool> Next(EventView* e);
  // Index (0-based) of the next event Next() returns.
  uint32_t next_index() const { return index_; }
  // Whether the event last returned by Next() carries a caller-supplied id.
  bool last_caller_id() const { return last_caller_id_; }
  // Whether the event last returned by Next() is its stream's creation:
  // revision 0, or marked as the first stored event by a scavenge.
  bool last_creates_stream() const { return last_creates_stream_; }

 private:
  CommitReader() = default;
  std::string_view rest_;
  std::function<std::string()> where_;
  uint64_t first_position_ = 0;
  int64_t created_ns_ = 0;
  uint32_t count_ = 0;
  uint32_t index_ = 0;
  uint64_t next_min_position_ = 0;  // sparse: positions strictly increase
  bool last_caller_id_ = false;
  bool last_creates_stream_ = false;
  bool sparse_ = false;
  bool continues_write_ = false;
  bool compact_ = false;
  // The event before (compact records refer to its stream and type).
  std::string_view last_stream_, last_type_;
  uint64_t last_revision_ = 0;
};

// The event at `position` in `events` (one decoded record, sorted by
// position; sparse records skip positions), or nullptr.
const EventView* FindAt(const std::vector<EventView>& events, uint64_t position);

}  // namespace cairn::log
