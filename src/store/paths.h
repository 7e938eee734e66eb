#pragma once
// File names inside a store directory (docs/format/index.md, log.md).

#include <string>

namespace cairn {

inline std::string IndexDir(const std::string& dir) { return dir + "/index"; }
inline std::string ManifestPath(const std::string& dir) { return dir + "/index/MANIFEST"; }
// Present while a scavenge swaps files (from before its first rename until
// after its manifest is written); docs/format/index.md.
inline std::string IntentPath(const std::string& dir) { return dir + "/index/SCAVENGE"; }
inline std::string PositionsPath(const std::string& dir) { return dir + "/index/positions.idx"; }

}  // namespace cairn
