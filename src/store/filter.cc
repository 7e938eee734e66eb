#include "src/store/filter.h"

#include <re2/re2.h>

#include <algorithm>

#include "src/base/hash.h"

namespace cairn {
namespace {

bool StartsWithAny(std::string_view s, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](const std::string& p) { return s.substr(0, p.size()) == p; });
}

Result<std::unique_ptr<re2::RE2>> CompileRegex(const std::string& pattern, const char* what) {
  if (pattern.empty()) return std::unique_ptr<re2::RE2>();
  re2::RE2::Options o;
  o.set_log_errors(false);
  auto re = std::make_unique<re2::RE2>(pattern, o);
  if (!re->ok()) {
    return Status::InvalidArgument(std::string(what) + " '" + pattern +
                                   "' is not a valid regex: " + re->error());
  }
  return re;
}

}  // namespace

EventMatcher::~EventMatcher() = default;

Result<std::unique_ptr<EventMatcher>> EventMatcher::Compile(const EventFilter& filter) {
  std::unique_ptr<EventMatcher> m(new EventMatcher());
  m->filter_ = filter;
  CAIRN_ASSIGN_OR_RETURN(m->stream_re_, CompileRegex(filter.stream_regex, "stream regex"));
  CAIRN_ASSIGN_OR_RETURN(m->type_re_, CompileRegex(filter.type_regex, "event type regex"));
  for (const auto& c : filter.categories) {
    if (c.empty() || c.find('-') != std::string::npos) {
      return Status::InvalidArgument("category '" + c + "' must be non-empty and contain no '-'");
    }
  }
  m->passes_all_ = filter.empty();
  return m;
}

bool EventMatcher::Matches(std::string_view stream, std::string_view type) const {
  if (passes_all_) return true;
  const EventFilter& f = filter_;
  if (!f.stream_prefixes.empty() && !StartsWithAny(stream, f.stream_prefixes)) return false;
  if (!f.categories.empty()) {
    std::string_view c = CategoryOf(stream);
    if (c.empty() || std::find(f.categories.begin(), f.categories.end(), c) == f.categories.end()) {
      return false;
    }
  }
  if (!f.types.empty() && std::find(f.types.begin(), f.types.end(), type) == f.types.end()) {
    return false;
  }
  if (!f.type_prefixes.empty() && !StartsWithAny(type, f.type_prefixes)) return false;
  if (stream_re_ &&
      !re2::RE2::PartialMatch(re2::StringPiece(stream.data(), stream.size()), *stream_re_)) {
    return false;
  }
  if (type_re_ && !re2::RE2::PartialMatch(re2::StringPiece(type.data(), type.size()), *type_re_)) {
    return false;
  }
  return true;
}

}  // namespace cairn
