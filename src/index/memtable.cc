#include "src/index/memtable.h"

#include <algorithm>

#include "src/base/hash.h"

namespace cairn::index {

size_t Memtable::Hash::operator()(std::string_view s) const { return StreamHash(s); }

void Memtable::Add(std::string_view stream, const StreamEntry& e) {
  auto it = map_.find(stream);
  if (it == map_.end()) it = map_.emplace(std::string(stream), std::vector<StreamEntry>()).first;
  it->second.push_back(e);
  ++entries_;
}

const std::vector<StreamEntry>* Memtable::Find(std::string_view stream) const {
  auto it = map_.find(stream);
  return it == map_.end() ? nullptr : &it->second;
}

std::vector<IndexEntry> Memtable::Sorted() const {
  // Each stream's entries are already in revision order: sort the streams
  // by hash and concatenate, instead of sorting every entry.
  std::vector<std::pair<uint64_t, const std::vector<StreamEntry>*>> streams;
  streams.reserve(map_.size());
  for (const auto& [name, v] : map_) streams.emplace_back(StreamHash(name), &v);
  std::sort(streams.begin(), streams.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<IndexEntry> out;
  out.reserve(entries_);
  for (size_t i = 0; i < streams.size(); ++i) {
    size_t group_start = out.size();
    uint64_t h = streams[i].first;
    for (const auto& e : *streams[i].second) out.push_back({h, e.revision, e.position, e.address});
    if (i > 0 && streams[i - 1].first == h) {
      // Two streams share the hash (rare): order their entries together.
      size_t j = group_start;
      while (j > 0 && out[j - 1].hash == h) --j;
      std::sort(out.begin() + static_cast<std::ptrdiff_t>(j), out.end());
    }
  }
  return out;
}

void Memtable::AddTag(std::string_view tag, const StreamEntry& e) {
  auto it = tags_.find(tag);
  if (it == tags_.end()) it = tags_.emplace(std::string(tag), std::vector<StreamEntry>()).first;
  it->second.push_back(e);
  ++entries_;
}

const std::vector<StreamEntry>* Memtable::FindTag(std::string_view tag) const {
  auto it = tags_.find(tag);
  return it == tags_.end() ? nullptr : &it->second;
}

std::vector<IndexEntry> Memtable::SortedTags() const {
  std::vector<IndexEntry> out;
  for (const auto& [tag, v] : tags_) {
    const uint64_t h = StreamHash(tag);
    for (const auto& e : v) out.push_back({h, e.position, e.position, e.address});
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<IndexEntry> Memtable::SortedIds() const {
  std::vector<IndexEntry> out;
  out.reserve(ids_.size());
  for (const auto& [key, e] : ids_) out.push_back({key, e.revision, e.position, e.address});
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace cairn::index
