#pragma once
// Memtable: index entries of recent events, keyed by exact stream name, not
// yet written to a run file. Bounded by NativeOptions::memtable_entries; when
// full it is frozen and written out as a run (see index_run.h).
//
// Thread safety: none inside; the store guards a mutable memtable with its
// index mutex, and a frozen one is immutable and freely shared.

#include <array>
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
  // Records that the event with id key `id_key` (IdKey of its UUID) is `e`.
  void AddId(uint64_t id_key, const StreamEntry& e) { ids_.emplace(id_key, e); }
  // Calls f(entry) for every event recorded with `id_key`.
  template <typename F>
  void ForEachId(uint64_t id_key, F&& f) const {
    auto [lo, hi] = ids_.equal_range(id_key);
    for (auto it = lo; it != hi; ++it) f(it->second);
  }
  // All id entries as (id_key, revision, position, address), sorted.
  std::vector<IndexEntry> SortedIds() const;
  // Records that the event `e` carries `tag` (CategoryTag / TypeTag).
  void AddTag(std::string_view tag, const StreamEntry& e);
  // Entries carrying `tag` in position order, or nullptr.
  const std::vector<StreamEntry>* FindTag(std::string_view tag) const;
  // All tag entries as (StreamHash(tag), position, position, address), sorted.
  std::vector<IndexEntry> SortedTags() const;
  // Entries of `stream` in revision order, or nullptr when it has none here.
  const std::vector<StreamEntry>* Find(std::string_view stream) const;
  // Streams created here: events tagged as their stream's first stored one
  // (revision 0, or first stored after a scavenge or a restore).
  uint64_t creations() const;
  // Stream and tag entries (what bounds the memtable's memory).
  uint64_t entries() const { return entries_; }
  size_t streams() const { return map_.size(); }
  bool empty() const { return entries_ == 0; }
  // Whether any stream entry is a tombstone or belongs to a metadata stream
  // ("$$<stream>"): if not, no retention rule lives in this memtable.
  bool HoldsRetentionKeys() const { return retention_keys_ > 0; }
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
  std::unordered_multimap<uint64_t, StreamEntry> ids_;
  std::unordered_map<std::string, std::vector<StreamEntry>, Hash, std::equal_to<>> tags_;
  // AddTag's cache: the list of the last key of each tag kind (`key` views
  // the map's own key).
  struct RecentTag {
    std::string_view key;
    std::vector<StreamEntry>* list = nullptr;
  };
  std::array<RecentTag, 4> recent_tags_{};  // 'C', 'T', 'S', other
  uint64_t entries_ = 0;
  uint64_t retention_keys_ = 0;  // tombstone and "$$" stream entries
};

}  // namespace cairn::index
