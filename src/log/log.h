#pragma once
// Log: the set of segment files under <store>/log/ holding commit records
// (format: docs/format/log.md). Segments are memory-mapped for reads; the
// active one is mapped with reserved address space so it can grow.
//
// Thread safety: reads (Record, Scan, ValidEnd) are safe from any thread at
// any time. Write-side calls (Prepare/Write/Sync/Truncate*) are made by one
// thread at a time (the store's commit leader); Refresh by one reader-side
// thread at a time. segments_mu_ guards the segment table only.

#include <atomic>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "cairn/env.h"
#include "cairn/status.h"
#include "src/log/record.h"

namespace cairn::log {

struct LogOptions {
  uint64_t segment_bytes = 256ull << 20;
  uint64_t max_record_bytes = 257ull << 20;  // largest body + frame
  bool read_only = false;
  // The writer fsyncs each write (durable appends). Then Write reserves the
  // active segment with written zeros while writes are small (see
  // Log::Write); without fsync that would only add work.
  bool synced_writes = false;
};

// "NNNNNNNN.seg", the file name of segment `id` in a store's log/.
std::string SegmentFileName(uint32_t id);
// Whether `name` is a segment file name; its id in *id.
bool ParseSegmentName(const std::string& name, uint32_t* id);

class Log {
 public:
  // Opens every segment of `dir` (creating dir and segment 0 when empty and
  // writable). Validates headers and id continuity. Valid ends start at the
  // file sizes; recovery then narrows the last one with SetValidEnd.
  static Result<std::unique_ptr<Log>> Open(Env* env, const std::string& dir,
                                           const LogOptions& options);
  ~Log();

  // Address one past the last byte of the log accepted as valid.
  uint64_t EndAddress() const;
  uint32_t LastSegmentId() const;
  std::string SegmentPath(uint32_t id) const;
  uint64_t SegmentFirstPosition(uint32_t id) const;
  // Whether scavenge rewrote the segment (its records may skip positions).
  bool SegmentScavenged(uint32_t id) const;
  // Bytes of segment `id` accepted as valid (its file size at open); 0 for
  // a segment the log does not have.
  uint64_t SegmentSize(uint32_t id) const;
  // Bytes of all segments, and their number.
  uint64_t TotalBytes() const;
  size_t SegmentCount() const;

  // The framed record at `address`, checksum verified. kCorruption names the
  // file and offset when it is damaged or lies outside the log (a missing
  // or cut segment: callers take addresses from the index).
  Result<std::string_view> Record(uint64_t address) const;

  // Visits each record from `from` to the valid end, in order, across
  // segments. On the first bad frame calls `on_bad` (if set) with its address
  // and the reason, and stops with its status. visit returns false to stop.
  using RecordVisitor =
      std::function<Status(uint64_t address, std::string_view body, size_t framed)>;
  // When a frame is bad and `bad_address` is set, stores its address there.
  Status Scan(uint64_t from, uint64_t to, const RecordVisitor& visit,
              uint64_t* bad_address = nullptr) const;

  // Raw bytes of segment `id` from `offset` to its current file size (for
  // recovery and verify, which look past the valid end).
  Result<std::string_view> RawTail(uint32_t id, uint64_t offset) const;
  // Narrows (recovery) or extends (readers following a writer) the valid end
  // of the last segment.
  void SetValidEnd(uint64_t address);
  // Cuts the last segment's file at `address` (writer only; torn tail).
  Status TruncateTail(uint64_t address);

  // Writer: makes room for `bytes` of records whose first event will have
  // `next_position`, rolling to a new segment when the active one is not
  // empty and would pass segment_bytes. Returns the address of the write.
  Result<uint64_t> PrepareWrite(size_t bytes, uint64_t next_position);
  // Writer: appends `bytes` at the prepared address. On failure the file is
  // cut back so no partial record remains (or the error says it could not).
  Status Write(std::string_view bytes);
  Status Sync();
  // Starts writing the active segment's new bytes without waiting (a hint;
  // Sync still decides durability).
  void StartSync();
  // Writer: closes the active segment (when it holds a record) and starts
  // a new one whose first event will have `next_position`.
  Status Roll(uint64_t next_position);
  // Writer, with no reader active: maps segment `id` again after its file
  // was replaced (by scavenge); its valid end becomes the new file size.
  // The old mapping is handed back so the caller can release it (munmap of
  // a large resident map takes time) after readers may run again.
  Result<std::unique_ptr<MappedFile>> Remap(uint32_t id);
  // Remap in two steps, for a reader that installs only once everything it
  // needs is mapped: Prepare maps the file now at segment `id`'s path
  // (checking its header); Install swaps it in and returns the old mapping.
  struct Replacement {
    uint32_t id = 0;
    std::unique_ptr<MappedFile> map;
    uint64_t size = 0;
    uint32_t flags = 0;
  };
  Result<Replacement> PrepareRemap(uint32_t id) const;
  std::unique_ptr<MappedFile> InstallRemap(Replacement r);
  // Writer: non-OK once a failed write could not be cut back.
  const Status& broken() const { return broken_; }
  // Writer: cuts the active segment's reserved space (see Write) back to
  // its last record and syncs the new length. Done before rolling over to a
  // new segment (closed segments end at their last record) and by Close.
  Status TrimReserved();

  // Reader processes: maps segments created since Open. Returns the path of
  // a problem, if any.
  Status RefreshSegments();
  // Readers: whether the writer has created a segment past the last mapped.
  Result<bool> NextSegmentExists() const;

 private:
  struct Segment {
    uint32_t id = 0;
    uint64_t first_position = 0;
    uint32_t flags = 0;
    std::string path;
    std::unique_ptr<MappedFile> map;
    std::atomic<uint64_t> valid_end{0};  // bytes of the file known valid
  };
  Log(Env* env, std::string dir, LogOptions options);
  // `closed`: the segment no longer grows; it is mapped to its size.
  Status AddSegment(uint32_t id, bool create, uint64_t first_position, bool closed = false);
  // Shrinks a segment's mapping to `size` once it is closed (see MapLength).
  static void MapClosed(Segment* s, uint64_t size);
  Segment* Get(uint32_t id) const;
  uint64_t MapLength() const;

  Env* const env_;
  const std::string dir_;
  const LogOptions options_;
  mutable std::shared_mutex segments_mu_;
  std::vector<std::unique_ptr<Segment>> segments_;  // guarded by segments_mu_; index = id
  std::unique_ptr<WritableFile> active_;            // writer thread only
  uint64_t write_address_ = 0;                      // writer thread only
  // Writer thread only: the active segment's file is reserved up to this
  // offset (fallocate, or written zeros for small synced writes), so appends
  // below it change no file size; into written zeros their fdatasync
  // journals nothing either. reserve_failed_: the file system refused;
  // plain appends until the next segment.
  uint64_t reserved_end_ = 0;
  bool reserve_failed_ = false;
  // Writer thread only: recent write sizes (moving average, bytes), which
  // choose how the next reservation is made.
  uint64_t recent_write_bytes_ = 0;
  // Writer thread only: the file may be longer than its last record (a
  // reservation was attempted: even a failed fallocate may have grown it).
  // Cleared only once a cut to the last record has been synced.
  bool maybe_longer_ = false;
  Status broken_;  // writer thread only: set when a failed write could not be cut back
};

}  // namespace cairn::log
