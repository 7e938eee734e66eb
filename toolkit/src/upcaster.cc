// Upcaster chains (include/cairn/toolkit/upcaster.h).
#include "cairn/toolkit/upcaster.h"

#include <nlohmann/json.hpp>

namespace cairn::toolkit {

Status Upcasters::Add(std::string_view type, int from, Step step) {
  if (from < 1) {
    return Status::InvalidArgument("upcaster of " + std::string(type) +
                                   ": versions start at 1, got " + std::to_string(from));
  }
  auto [it, added] = steps_.emplace(std::make_pair(std::string(type), from), std::move(step));
  if (!added) {
    return Status::InvalidArgument("upcaster of " + std::string(type) + " v" +
                                   std::to_string(from) + " -> v" + std::to_string(from + 1) +
                                   " is registered twice");
  }
  return Status::OK();
}

Status Upcasters::Validate(std::string_view type, int current) const {
  for (int v = 1; v < current; ++v) {
    if (steps_.find(std::make_pair(std::string(type), v)) == steps_.end()) {
      return Status::InvalidArgument(
          "upcaster of " + std::string(type) + " v" + std::to_string(v) + " -> v" +
          std::to_string(v + 1) + " is missing (current version " + std::to_string(current) + ")");
    }
  }
  auto it = steps_.lower_bound(std::make_pair(std::string(type), current));
  if (it != steps_.end() && it->first.first == type) {
    return Status::InvalidArgument("upcaster of " + std::string(type) + " v" +
                                   std::to_string(it->first.second) + " -> v" +
                                   std::to_string(it->first.second + 1) +
                                   " goes past the current version " + std::to_string(current));
  }
  return Status::OK();
}

Result<std::string> Upcasters::Upcast(std::string_view type, int from, int to,
                                      std::string_view data) const {
  nlohmann::json j = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Status::InvalidArgument(std::string(type) + " v" + std::to_string(from) +
                                   ": stored data is not JSON");
  }
  for (int v = from; v < to; ++v) {
    auto it = steps_.find(std::make_pair(std::string(type), v));
    const std::string step =
        std::string(type) + " v" + std::to_string(v) + " -> v" + std::to_string(v + 1);
    if (it == steps_.end()) return Status::InvalidArgument("upcaster " + step + " is missing");
    Status s;
    try {
      s = it->second(j);
    } catch (const std::exception& e) {  // a step that reads a field of the wrong type
      s = Status::InvalidArgument(e.what());
    }
    if (!s.ok()) return Status::InvalidArgument("upcaster " + step + " failed: " + s.message());
  }
  return j.dump();
}

}  // namespace cairn::toolkit
