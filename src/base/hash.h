#pragma once
// 64-bit hash of stream names for the stream index. Not cryptographic;
// collisions are tolerated by the index (entries are checked against the
// stream name stored in the log). The function is part of the index format
// (docs/format/index.md): never change it without a format version bump.

#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/subscription.h"  // CategoryOf

namespace cairn {

inline uint64_t StreamHash(std::string_view s) {
  // FNV-1a over the bytes, then a murmur3-style finalizer for avalanche.
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

// 64-bit key of an event id for the event-id index: the two halves of the
// UUID mixed. Part of the index format, like StreamHash.
inline uint64_t IdKey(const uint8_t* uuid16) {
  uint64_t a = 0, b = 0;
  for (int i = 0; i < 8; ++i) {
    a |= static_cast<uint64_t>(uuid16[i]) << (8 * i);
    b |= static_cast<uint64_t>(uuid16[8 + i]) << (8 * i);
  }
  uint64_t h = a ^ (b * 0x9e3779b97f4a7c15ull);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

// Tags of the category/type index (docs/format/index.md): "C" 0x1f category
// and "T" 0x1f type; the index key is StreamHash(tag).
inline std::string CategoryTag(std::string_view category) {
  std::string t("C\x1f");
  t.append(category);
  return t;
}
inline std::string TypeTag(std::string_view type) {
  std::string t("T\x1f");
  t.append(type);
  return t;
}
// Creation tags: the first event (revision 0) of every stream carries
// "S" 0x1f, and "N" 0x1f category when its name has a category, so streams
// can be listed in creation order, store-wide or per category.
inline std::string StreamsTag() { return std::string("S\x1f"); }
inline std::string CategoryStreamsTag(std::string_view category) {
  std::string t("N\x1f");
  t.append(category);
  return t;
}
// The stream name's part before its first '-', or "" when it has none.
inline std::string_view StreamCategory(std::string_view stream) { return CategoryOf(stream); }

}  // namespace cairn
