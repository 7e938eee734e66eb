#pragma once
// Appends that name a '$' stream, which Store::Append refuses: "$$<s>" is
// <s>'s metadata (one "$metadata" event: Store::SetStreamMetadata), any
// other "$..." stream a system stream (StoreAdmin::AppendSystem). What the
// clients do to set stream metadata, $settings or $acl. Who may is the
// caller's business (Security::Authorize: $admins by default).

#include <span>
#include <string_view>

#include "cairn/store.h"

namespace cairn::server {

inline bool IsSystemStream(std::string_view stream) { return !stream.empty() && stream[0] == '$'; }

// kInvalidArgument naming what is wrong (metadata that is not one
// "$metadata" JSON event); the store's errors otherwise.
Result<AppendResult> AppendToSystemStream(Store* store, std::string_view stream,
                                          ExpectedRevision expected,
                                          std::span<const EventData> events);

}  // namespace cairn::server
