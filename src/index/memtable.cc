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
  std::vector<IndexEntry> out;
  out.reserve(entries_);
  for (const auto& [name, v] : map_) {
    uint64_t h = StreamHash(name);
    for (const auto& e : v) out.push_back({h, e.revision, e.position, e.address});
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
