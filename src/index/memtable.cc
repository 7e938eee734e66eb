#include "src/index/memtable.h"

#include <algorithm>

#include "src/base/hash.h"
#include "src/index/index_run.h"

namespace cairn::index {

size_t Memtable::Hash::operator()(std::string_view s) const { return StreamHash(s); }

void Memtable::Add(std::string_view stream, const StreamEntry& e) {
  auto it = map_.find(stream);
  if (it == map_.end()) it = map_.emplace(std::string(stream), std::vector<StreamEntry>()).first;
  it->second.push_back(e);
  ++entries_;
  if (e.revision == kTombstoneRevision || stream.starts_with("$$")) ++retention_keys_;
}

const std::vector<StreamEntry>* Memtable::Find(std::string_view stream) const {
  auto it = map_.find(stream);
  return it == map_.end() ? nullptr : &it->second;
}

namespace {

// Entries of every key of `map`, sorted by (key hash, then as `entry` orders
// them): each key's entries are already in order, so the keys are sorted by
// hash and their lists concatenated, instead of sorting every entry.
template <class Map, class MakeEntry>
std::vector<IndexEntry> ConcatenateByHash(const Map& map, size_t total, MakeEntry entry) {
  std::vector<std::pair<uint64_t, const std::vector<StreamEntry>*>> keys;
  keys.reserve(map.size());
  for (const auto& [name, v] : map) keys.emplace_back(StreamHash(name), &v);
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<IndexEntry> out;
  out.reserve(total);
  for (size_t i = 0; i < keys.size(); ++i) {
    size_t group_start = out.size();
    uint64_t h = keys[i].first;
    for (const auto& e : *keys[i].second) out.push_back(entry(h, e));
    if (i > 0 && keys[i - 1].first == h) {
      // Two keys share the hash (rare): order their entries together.
      size_t j = group_start;
      while (j > 0 && out[j - 1].hash == h) --j;
      std::sort(out.begin() + static_cast<std::ptrdiff_t>(j), out.end());
    }
  }
  return out;
}

}  // namespace

std::vector<IndexEntry> Memtable::Sorted() const {
  return ConcatenateByHash(map_, entries_, [](uint64_t h, const StreamEntry& e) {
    return IndexEntry{h, e.revision, e.position, e.address};
  });
}

void Memtable::AddTag(std::string_view tag, const StreamEntry& e) {
  // A batch tags event after event with the same few keys (its types and
  // categories): remember the last list of each tag kind (the key's first
  // byte). Map nodes never move, so the pointers stay valid.
  const char kind = tag.empty() ? '\0' : tag[0];
  auto& slot = recent_tags_[kind == 'C' ? 0 : kind == 'T' ? 1 : kind == 'S' ? 2 : 3];
  if (slot.list == nullptr || slot.key != tag) {
    auto it = tags_.find(tag);
    if (it == tags_.end()) it = tags_.emplace(std::string(tag), std::vector<StreamEntry>()).first;
    slot.key = it->first;
    slot.list = &it->second;
  }
  slot.list->push_back(e);
  ++entries_;
}

uint64_t Memtable::creations() const {
  const std::vector<StreamEntry>* created = FindTag(StreamsTag());
  return created == nullptr ? 0 : created->size();
}

const std::vector<StreamEntry>* Memtable::FindTag(std::string_view tag) const {
  auto it = tags_.find(tag);
  return it == tags_.end() ? nullptr : &it->second;
}

std::vector<IndexEntry> Memtable::SortedTags() const {
  // A tag's entries are in position order (commit order).
  return ConcatenateByHash(tags_, entries_, [](uint64_t h, const StreamEntry& e) {
    return IndexEntry{h, e.position, e.position, e.address};
  });
}

std::vector<IndexEntry> Memtable::SortedIds() const {
  std::vector<IndexEntry> out;
  out.reserve(ids_.size());
  for (const auto& [key, e] : ids_) out.push_back({key, e.revision, e.position, e.address});
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace cairn::index
