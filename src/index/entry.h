#pragma once
// Index entry types shared by the memtable, run files and the store.

#include <cstdint>
#include <tuple>

namespace cairn::index {

// One event in the stream index: which stream (by hash), which revision,
// where in $all and where in the log (the address of its commit record).
struct IndexEntry {
  uint64_t hash = 0;
  uint64_t revision = 0;
  uint64_t position = 0;
  uint64_t address = 0;

  friend bool operator<(const IndexEntry& a, const IndexEntry& b) {
    return std::tie(a.hash, a.revision, a.position) < std::tie(b.hash, b.revision, b.position);
  }
  friend bool operator==(const IndexEntry& a, const IndexEntry& b) = default;
};

// A stream's entry without its hash (the memtable keys by stream name).
struct StreamEntry {
  uint64_t revision = 0;
  uint64_t position = 0;
  uint64_t address = 0;
};

// One commit record in the position index: its first position and address.
struct PositionEntry {
  uint64_t first_position = 0;
  uint64_t address = 0;
};

}  // namespace cairn::index
