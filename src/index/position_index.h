#pragma once
// PositionIndex: maps a position in $all to the log address of the commit
// record holding it: one 16-byte entry per record, persisted in
// index/positions.idx (docs/format/index.md) plus an in-memory tail of
// records not yet checkpointed.
//
// Thread safety: all methods are safe concurrently; mu_ guards the map and
// the tail. Append is called by the commit leader, Persist by the
// checkpointing thread.

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "cairn/env.h"
#include "cairn/status.h"
#include "src/index/entry.h"

namespace cairn::index {

class PositionIndex {
 public:
  // Opens (creating when writable) `path`, keeping its first `count` entries;
  // a writer cuts entries past `count` (written after the last checkpoint).
  Status Open(Env* env, const std::string& path, uint64_t count, bool read_only);
  void Append(const PositionEntry& e);
  // Writes the first `n` tail entries to the file durably and maps them.
  Status Persist(uint64_t n);
  // Reader processes, after another process grew or replaced the file, in
  // two steps (installed only once everything the reader needs is mapped):
  // maps the file now at the path, checking it holds `count` entries;
  // InstallReload swaps it in and drops the in-memory tail.
  Result<std::shared_ptr<MappedFile>> MapForReload(uint64_t count) const;
  void InstallReload(std::shared_ptr<MappedFile> map, uint64_t count);
  // Writer, after scavenge replaced the file: maps it again with `count`
  // persisted entries, keeping the in-memory tail.
  Status Remap(uint64_t count);
  uint64_t size() const;
  uint64_t persisted() const;
  PositionEntry At(uint64_t i) const;
  // Ordinal of the record containing position `p`: the last entry whose
  // first_position <= p. Returns size() when the index is empty or p is
  // before the first entry.
  uint64_t Locate(uint64_t p) const;
  uint64_t file_bytes() const;
  // Bytes of a positions.idx file whose first `count` entries are valid:
  // its header and those entries (a backup copies that much).
  static uint64_t FileBytesFor(uint64_t count);

 private:
  PositionEntry AtLocked(uint64_t i) const;
  Env* env_ = nullptr;
  std::string path_;
  mutable std::shared_mutex mu_;
  std::shared_ptr<MappedFile> map_;  // guarded by mu_
  uint64_t file_count_ = 0;          // guarded by mu_
  std::vector<PositionEntry> tail_;  // guarded by mu_
};

}  // namespace cairn::index
