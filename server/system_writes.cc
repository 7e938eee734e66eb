#include "server/system_writes.h"

#include <string>

#include "cairn/admin.h"

namespace cairn::server {

Result<AppendResult> AppendToSystemStream(Store* store, std::string_view stream,
                                          ExpectedRevision expected,
                                          std::span<const EventData> events) {
  if (stream.starts_with("$$")) {
    if (events.size() != 1 || events[0].type != "$metadata") {
      return Status::InvalidArgument("stream '" + std::string(stream) +
                                     "': metadata is written as one event of type '$metadata'");
    }
    CAIRN_ASSIGN_OR_RETURN(StreamMetadata m, StreamMetadata::Parse(events[0].data));
    return store->SetStreamMetadata(stream.substr(2), expected, m);
  }
  StoreAdmin* admin = AdminOf(store);
  if (admin == nullptr) {
    return Status(ErrorCode::kUnimplemented, "this store has no system streams");
  }
  return admin->AppendSystem(stream, expected, events);
}

}  // namespace cairn::server
