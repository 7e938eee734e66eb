// The parts of the public Store API every backend shares: the collecting
// read overloads, CategoryOf, AdminOf.
#include "cairn/store.h"

#include <utility>
#include <vector>

#include "cairn/admin.h"
#include "cairn/subscription.h"

namespace cairn {
namespace {

// Collects what `read` visits; each event is copied once.
template <typename Read>
Result<std::vector<RecordedEvent>> Collect(Read&& read) {
  std::vector<RecordedEvent> out;
  Status s = std::forward<Read>(read)([&out](const EventView& e) {
    out.push_back(e.ToRecorded());
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace

Result<std::vector<RecordedEvent>> Store::ReadStream(std::string_view stream,
                                                     const ReadStreamOptions& options) {
  return Collect([&](const EventVisitor& v) { return ReadStream(stream, options, v); });
}

Result<std::vector<RecordedEvent>> Store::ReadAll(const ReadAllOptions& options) {
  return Collect([&](const EventVisitor& v) { return ReadAll(options, v); });
}

Result<std::vector<RecordedEvent>> Store::ReadCategory(std::string_view category,
                                                       const ReadAllOptions& options) {
  return Collect([&](const EventVisitor& v) { return ReadCategory(category, options, v); });
}

Result<std::vector<RecordedEvent>> Store::ReadEventType(std::string_view type,
                                                        const ReadAllOptions& options) {
  return Collect([&](const EventVisitor& v) { return ReadEventType(type, options, v); });
}

std::string_view CategoryOf(std::string_view stream) {
  const size_t dash = stream.find('-');
  return dash == std::string_view::npos ? std::string_view() : stream.substr(0, dash);
}

StoreAdmin* AdminOf(Store* store) { return dynamic_cast<StoreAdmin*>(store); }

}  // namespace cairn
