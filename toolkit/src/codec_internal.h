#pragma once
// Internals of toolkit/src/codec.cc exposed to its tests.
#include <span>
#include <string_view>

#include "cairn/status.h"
#include "cairn/toolkit/event.h"

namespace cairn::toolkit::internal {

// DecodeFields without its compact fast path: simdjson's walk for every
// input. The tests decode each input both ways and expect the same outcome.
[[nodiscard]] Status DecodeFieldsGeneral(std::string_view type, std::span<const FieldSpec> specs,
                                         std::string_view json, FieldSink* sink,
                                         PersonalDataCipher* cipher = nullptr);

// Whether DecodeFields takes its compact fast path for `json`.
bool DecodesCompactly(std::span<const FieldSpec> specs, std::string_view json);

}  // namespace cairn::toolkit::internal
