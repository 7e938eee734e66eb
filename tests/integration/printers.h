#pragma once
// Readable gtest output for the engine's value types. Every test file of
// this target includes it, so each type prints the same way everywhere.

#include <ostream>

#include "cairn/types.h"

namespace cairn {

inline void PrintTo(StreamRevision r, std::ostream* os) { *os << "revision " << r.value(); }
inline void PrintTo(Position p, std::ostream* os) { *os << "position " << p.value(); }
inline void PrintTo(const Uuid& id, std::ostream* os) { *os << id.ToString(); }

}  // namespace cairn
