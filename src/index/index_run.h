#pragma once
// IndexRun: an immutable, sorted file of stream-index entries covering one
// range of positions (format: docs/format/index.md). Memory-mapped: the OS
// pages it in and out, so the index never has to fit in RAM.
//
// Thread safety: immutable after Open; safe for concurrent readers.

#include <atomic>
#include <cstdint>
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
  uint64_t distinct_keys = 0; // distinct hashes (upper bound in merged runs); sizes the Bloom filter
};

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

 private:
  RunWriter() = default;
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
  // Maps `path` and checks its header and trailer. kCorruption names the file.
  static Result<std::unique_ptr<IndexRun>> Open(Env* env, const std::string& path);

  const RunInfo& info() const { return info_; }
  const std::string& path() const { return map_->path(); }
  uint64_t bytes() const { return map_->data().size(); }
  IndexEntry At(uint64_t i) const;
  // First i with entry(i) >= (hash, revision, 0); count() when none.
  uint64_t LowerBound(uint64_t hash, uint64_t revision) const;
  uint64_t count() const { return info_.count; }
  // False when no entry has `hash` (Bloom filter; ~1% false positives).
  bool MayContain(uint64_t hash) const;
  // Recomputes every block checksum; appends problems to `problems`.
  void VerifyBlocks(std::vector<std::string>* problems) const;

 private:
  explicit IndexRun(std::unique_ptr<MappedFile> map) : map_(std::move(map)) {}
  std::unique_ptr<MappedFile> map_;
  RunInfo info_;
  const char* entries_ = nullptr;
  const uint8_t* bloom_ = nullptr;
  uint64_t bloom_bits_ = 0;
};

}  // namespace cairn::index
