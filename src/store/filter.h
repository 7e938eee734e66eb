#pragma once
// EventMatcher: an EventFilter compiled once (regexes with RE2) and applied
// to events during $all reads and subscriptions.

#include <memory>
#include <string>
#include <string_view>

#include "cairn/status.h"
#include "cairn/subscription.h"
#include "cairn/types.h"

namespace re2 {
class RE2;
}

namespace cairn {

class EventMatcher {
 public:
  // kInvalidArgument names a regex that does not compile and why.
  static Result<std::unique_ptr<EventMatcher>> Compile(const EventFilter& filter);
  ~EventMatcher();
  bool Matches(std::string_view stream, std::string_view type) const;
  bool passes_all() const { return passes_all_; }

 private:
  EventMatcher() = default;
  EventFilter filter_;
  std::unique_ptr<re2::RE2> stream_re_;
  std::unique_ptr<re2::RE2> type_re_;
  bool passes_all_ = true;
};

}  // namespace cairn
