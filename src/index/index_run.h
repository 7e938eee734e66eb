#pragma once
// IndexRun: an immutable, sorted file of stream-index entries covering one
// range of positions (format: docs/format/index.md). Never mapped: Open keeps
// the block checksums, the fences (first key of each block) and the Bloom
// filter in memory; a lookup preads the one 4 KiB block that can hold its
// key and checks the block's CRC. So resident memory is ~0.16 bytes per
// entry plus the filter, however large the run.
//
// Thread safety: immutable after Open; safe for concurrent readers. A
// RunReader is one thread's cursor.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cairn/env.h"
#include "cairn/status.h"
#include "src/index/entry.h"

namespace cairn::index {

constexpr size_t kRunHeaderSize = 64;
constexpr size_t kRunEntrySize = 32;
constexpr size_t kRunBlockEntries = 128;  // one CRC per block of entries

struct RunInfo {
  uint64_t count = 0;
  uint64_t min_position = 0;  // first position covered
  uint64_t end_position = 0;  // one past the last position covered
  uint64_t new_streams = 0;   // entries with revision 0 (streams created)
  uint64_t distinct_keys =
      0;  // Bloom keys: distinct hashes plus tombstone entries (upper bound in merged runs)
  uint32_t flags = 0;  // kRun* bits below (0 in files written before they existed)
};

// RunInfo::flags: no entry is a tombstone and none belongs to a metadata
// stream ("$$<stream>"), so no retention rule can come from this run.
// Set by writers that know the stream names (checkpoints); a merge keeps it
// when every input has it. 0 means "may hold such entries".
constexpr uint32_t kRunNoRetentionKeys = 1;

// The revision of a tombstone entry (StreamRevision::kTombstone). Version 3
// runs also put TombstoneKey(hash) of such entries in their Bloom filter.
constexpr uint64_t kTombstoneRevision = 0x7fffffffffffffffull;
constexpr uint64_t TombstoneKey(uint64_t hash) { return hash ^ 0x5bd1e9955bd1e995ull; }

constexpr uint32_t kBloomBitsPerKey = 10;  // ~1% false positives with 7 probes
constexpr uint32_t kBloomProbes = 7;

class IndexRun;

// Streams sorted entries into a new run file: `<path>.tmp` is written,
// fsynced and renamed to `path` by Finish. `info` (count included) must be
// known up front; Finish fails if the count differs.
class RunWriter {
 public:
  static Result<std::unique_ptr<RunWriter>> Create(Env* env, const std::string& path,
                                                   const RunInfo& info);
  Status Add(const IndexEntry& e);
  Status Finish();
  // A writer destroyed before Finish succeeded (a failed write, a full
  // disk) removes its temporary file: scratch never outlives the failure.
  ~RunWriter();
  RunWriter(const RunWriter&) = delete;
  RunWriter& operator=(const RunWriter&) = delete;

 private:
  RunWriter() = default;
  bool finished_ = false;
  Status FlushBuffer();
  Env* env_ = nullptr;
  std::string path_;
  RunInfo info_;
  std::unique_ptr<WritableFile> file_;
  std::string buf_;
  std::string crcs_;
  uint64_t added_ = 0;
  uint32_t block_crc_ = 0;
  std::vector<uint8_t> bloom_;  // bits of the Bloom filter over distinct hashes
  uint64_t last_hash_ = 0;
  std::string fences_;
};

class IndexRun {
 public:
  // Writes `sorted` (ascending) to `path` durably (write, fsync, rename).
  static Status Write(Env* env, const std::string& path, const std::vector<IndexEntry>& sorted,
                      const RunInfo& info);
  // Merges adjacent runs (oldest first, contiguous position ranges) into one
  // new run file at `path`, streaming: memory stays small.
  // `cancel` (optional) is polled: when set, the merge stops with kCancelled
  // and leaves no file behind.
  static Status Merge(Env* env, const std::string& path,
                      const std::vector<std::shared_ptr<const IndexRun>>& runs,
                      const std::atomic<bool>* cancel = nullptr);
  // Opens `path` and checks its header, checksum table, fences and filter.
  // kCorruption names the file and offset.
  static Result<std::unique_ptr<IndexRun>> Open(Env* env, const std::string& path);

  const RunInfo& info() const { return info_; }
  const std::string& path() const { return file_->path(); }
  uint64_t bytes() const { return bytes_; }
  uint64_t count() const { return info_.count; }
  uint32_t version() const { return version_; }
  // Heap bytes this run keeps (fences, checksums, filter).
  uint64_t resident_bytes() const;
  // False when no entry has `hash` (Bloom filter; ~1% false positives).
  bool MayContain(uint64_t hash) const;
  // False when no entry has `hash` and revision kTombstoneRevision. Version
  // 1 and 2 runs cannot tell and answer MayContain(hash).
  bool MayHoldTombstone(uint64_t hash) const {
    return MayContain(version_ >= 3 ? TombstoneKey(hash) : hash);
  }
  // Visits every entry in order, reading the file sequentially and checking
  // each block's CRC (kCorruption names the block's offset). visit returns
  // false to stop.
  Status Scan(const std::function<bool(uint64_t index, const IndexEntry& e)>& visit) const;

 private:
  friend class RunReader;
  struct Fence {
    uint64_t hash;
    uint64_t revision;
  };
  IndexRun() = default;
  Status BuildFencesFromEntries();  // version 1 files
  // Reads block `b` into `buf` (kRunBlockEntries * kRunEntrySize bytes at
  // most) and checks its CRC. Returns the entries in it.
  Result<uint64_t> ReadBlock(uint64_t b, char* buf) const;
  // Reads blocks b..b+count-1 (fewer at the end of the run) with one read
  // into `buf` and checks each CRC. Returns how many leading blocks are
  // intact (>= 1); the first block damaged is kCorruption.
  Result<uint64_t> ReadBlocks(uint64_t b, uint64_t count, char* buf) const;
  Status BlockCorrupt(uint64_t b) const;

  std::unique_ptr<RandomAccessFile> file_;
  RunInfo info_;
  uint32_t version_ = 0;
  uint64_t bytes_ = 0;
  std::vector<uint32_t> block_crcs_;  // unmasked
  std::vector<Fence> fences_;         // first key of each block
  std::vector<uint8_t> bloom_;
  uint64_t bloom_bits_ = 0;
};

// One lookup's cursor over a run: keeps the last block read so neighbouring
// entries cost no further read. A walk that steps into the next block
// (reading a long stream) reads ahead: up to kWindowBlocks blocks with one
// read, each checked when read.
class RunReader {
 public:
  static constexpr uint64_t kWindowBlocks = 16;  // 64 KiB

  explicit RunReader(const IndexRun& run) : run_(run) {}
  // First i with entry(i) >= (hash, revision, 0); count() when none.
  Result<uint64_t> LowerBound(uint64_t hash, uint64_t revision);
  Result<IndexEntry> At(uint64_t i);

 private:
  Status Load(uint64_t block);
  const IndexRun& run_;
  uint64_t block_ = UINT64_MAX;
  uint64_t block_count_ = 0;
  const char* entries_ = nullptr;  // block_'s entries: in buf_ or window_
  char buf_[kRunBlockEntries * kRunEntrySize];
  std::unique_ptr<char[]> window_;  // allocated on the first step forward
  uint64_t window_first_ = 0;
  uint64_t window_blocks_ = 0;
};

}  // namespace cairn::index
