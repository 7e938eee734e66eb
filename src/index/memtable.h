#pragma once
// Memtable: index entries of recent events, keyed by exact stream name, not
// yet written to a run file. Bounded by StoreOptions::memtable_entries; when
// full it is frozen and written out as a run (see index_run.h).
//
// Thread safety: none inside; the store guards a mutable memtable with its
// index mutex, and a frozen one is immutable and freely shared.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/index/entry.h"

namespace cairn::index {

class Memtable {
 public:
  void Add(std::string_view stream, const StreamEntry& e);
  // Entries of `stream` in revision order, or nullptr when it has none here.
  const std::vector<StreamEntry>* Find(std::string_view stream) const;
  uint64_t entries() const { return entries_; }
  size_t streams() const { return map_.size(); }
  bool empty() const { return entries_ == 0; }
  // All entries as (hash, revision, position) sorted, for writing a run.
  std::vector<IndexEntry> Sorted() const;
  // Visits each stream name and its entries (unordered).
  template <typename F>
  void ForEachStream(F&& f) const {
    for (const auto& [name, v] : map_) f(name, v);
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const;
  };
  std::unordered_map<std::string, std::vector<StreamEntry>, Hash, std::equal_to<>> map_;
  uint64_t entries_ = 0;
};

}  // namespace cairn::index
