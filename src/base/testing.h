#pragma once
// Helpers shared by tests only (never linked into the engine): a scratch
// directory removed at the end of a test, and short event builders.

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cairn/types.h"

namespace cairn::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    tmpl += "/cairn_test_XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  // CAIRN_KEEP_TEMP=1 keeps the directory (to inspect a failing test's store).
  ~TempDir() {
    if (std::getenv("CAIRN_KEEP_TEMP") == nullptr) std::filesystem::remove_all(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline EventData Ev(std::string type, std::string data = "{}") {
  EventData e;
  e.type = std::move(type);
  e.data = std::move(data);
  return e;
}

inline EventData EvId(std::string type, const std::string& uuid, std::string data = "{}") {
  EventData e = Ev(std::move(type), std::move(data));
  e.id = *Uuid::Parse(uuid);
  return e;
}

// "00000000-0000-4000-8000-00000000000N" for small n.
inline std::string NthUuid(uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(n));
  return buf;
}

// Abandons `p` as a crashed process would: never closed, never destroyed,
// and still reachable, so LeakSanitizer does not report it.
template <typename T>
void AbandonAsCrashed(std::unique_ptr<T> p) {
  static auto* abandoned = new std::vector<T*>();
  abandoned->push_back(p.release());
}

}  // namespace cairn::testing
