#pragma once
// Upcasters: per event type, a chain of steps v1 -> v2 -> ... -> current,
// each a JSON-to-JSON change of the event's data, applied while reading.
// Writes always use the current version. Registration is checked: a chain
// with a missing or doubled step is an error when the program starts, not
// when an old event is read.
//
// The step works on an nlohmann::json (only forward-declared here; include
// <nlohmann/json.hpp> where you write steps).
//
// Thread safety: register everything first (not thread-safe), then Upcast
// may be called concurrently.
#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "cairn/status.h"

namespace cairn::toolkit {

class Upcasters {
 public:
  // Changes `data` in place from version `from` to `from + 1`. A returned
  // error (kInvalidArgument naming the problem) stops the read.
  using Step = std::function<Status(nlohmann::json& data)>;

  // Registers the step of `type` from version `from` (>= 1) to from + 1.
  // kInvalidArgument when that step is already registered or from < 1.
  Status Add(std::string_view type, int from, Step step);
  // Checks that `type` has every step from 1 to `current`: kInvalidArgument
  // naming the first missing step, or a step at or past `current`.
  Status Validate(std::string_view type, int current) const;
  // Upcasts `data` stored at version `from` to `to`; kInvalidArgument when
  // a step is missing, the data is not JSON, or a step fails (naming the
  // type and the step).
  Result<std::string> Upcast(std::string_view type, int from, int to, std::string_view data) const;

 private:
  std::map<std::pair<std::string, int>, Step, std::less<>> steps_;
};

}  // namespace cairn::toolkit
