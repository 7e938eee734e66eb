// StreamMetadata's JSON form (include/cairn/store_types.h): KurrentDB's
// key names for the recognized keys, every other key kept as given.
#include <nlohmann/json.hpp>

#include "cairn/store_types.h"

namespace cairn {
namespace {

constexpr const char* kMaxCount = "$maxCount";
constexpr const char* kMaxAge = "$maxAge";
constexpr const char* kTruncateBefore = "$tb";

// Stream metadata nests at most this deep (store_types.h): it is parsed and
// written again by a JSON library that recurses per level, which must never
// run out of stack on a document an application stored.
constexpr size_t kMaxMetadataDepth = 100;

// Whether `json` nests arrays and objects deeper than `limit` (counted
// without recursion; brackets inside strings do not count).
bool NestsDeeperThan(std::string_view json, size_t limit) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace

std::string StreamMetadata::ToJson() const {
  nlohmann::json j = NestsDeeperThan(custom, kMaxMetadataDepth)
                         ? nlohmann::json()
                         : nlohmann::json::parse(custom, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) j = nlohmann::json::object();
  if (max_count) j[kMaxCount] = *max_count;
  if (max_age_seconds) j[kMaxAge] = *max_age_seconds;
  if (truncate_before) j[kTruncateBefore] = *truncate_before;
  return j.dump();
}

Result<StreamMetadata> StreamMetadata::Parse(std::string_view json) {
  if (NestsDeeperThan(json, kMaxMetadataDepth)) {
    return Status::InvalidArgument("stream metadata nests deeper than " +
                                   std::to_string(kMaxMetadataDepth) + " levels");
  }
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("stream metadata is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("stream metadata must be a JSON object");
  StreamMetadata m;
  for (const char* key : {kMaxCount, kMaxAge, kTruncateBefore}) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_number_unsigned()) {
      return Status::InvalidArgument(std::string("stream metadata key '") + key +
                                     "' must be a non-negative integer");
    }
    uint64_t v = it->get<uint64_t>();
    if (key == kMaxCount) {
      if (v == 0)
        return Status::InvalidArgument("stream metadata key '$maxCount' must be at least 1");
      m.max_count = v;
    } else if (key == kMaxAge) {
      m.max_age_seconds = v;
    } else {
      m.truncate_before = v;
    }
    j.erase(it);
  }
  m.custom = j.dump();
  return m;
}

}  // namespace cairn
