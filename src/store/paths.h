#pragma once
// File names inside a store directory (docs/format/index.md, log.md).

#include <string>

namespace cairn {

inline std::string IndexDir(const std::string& dir) { return dir + "/index"; }
inline std::string ManifestPath(const std::string& dir) { return dir + "/index/MANIFEST"; }

}  // namespace cairn
