#pragma once
// Standard base64 (RFC 4648, with padding): how binary event bytes travel in
// JSON lines. Pure functions, safe from any thread.

#include <optional>
#include <string>
#include <string_view>

namespace cairn::cli {

std::string Base64Encode(std::string_view bytes);

// The bytes of `text`, or nullopt when it is not canonical padded base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace cairn::cli
