#pragma once
// Numeric command-line options parsed strictly: a decimal number from 0 to
// 2^64-1, nothing else. CLI11's own unsigned options wrap "-1" to 2^64-1
// and saturate values past it, so `export --from -1` used to write an empty
// "backup" with exit 0; these reject both as usage errors (exit 2).
//
// Thread safety: used while parsing, on the main thread.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn::cli {

// `text` as a number from 0 to 2^64-1 (decimal digits only), or
// kInvalidArgument naming `flag` and the text.
Result<uint64_t> ParseUnsigned(std::string_view flag, std::string_view text);

// Adds option `name` to `app`, storing its value in `*target` (which must
// outlive parsing); a value that is not such a number fails the parse with
// a message naming the option.
CLI::Option* AddUnsignedOption(CLI::App* app, const std::string& name,
                               std::optional<uint64_t>* target, const std::string& help);

}  // namespace cairn::cli
