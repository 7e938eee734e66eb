#pragma once
// Helpers that turn the `cairn` command's output into exactly comparable
// values: "created" timestamps masked, error objects without their
// free-form "message". They record gtest failures when the output does not
// have the promised shape.
//
// Thread safety: call from the test's thread.

#include <nlohmann/json.hpp>
#include <string>

#include "tests/e2e/cli_runner.h"

namespace cairn::e2e {

// Replaces every "created" timestamp (after checking its RFC 3339 form) by
// "T", so lines can be compared exactly.
std::string MaskCreated(const std::string& text);

// Parses the one JSON line of stderr; checks "message" is a non-empty string
// and removes it and the "hint" of a corruption error (tests that care
// check it exactly), so the rest can be compared exactly.
nlohmann::ordered_json ErrorWithoutMessage(const RunResult& result);

// The "message" of the error object on stderr ("" when there is none).
std::string ErrorMessage(const RunResult& result);

}  // namespace cairn::e2e
