// Registers the native engine as OpenStore's backend for "file" URLs and
// plain paths (include/cairn/backend.h). cairn::core's link interface keeps
// this file in every program linking the engine (a static library's names
// `cairn_native_backend_anchor`, a shared one's turns --as-needed off), and
// its registration runs before main.
#include <cstdio>
#include <cstdlib>

#include "cairn/backend.h"
#include "cairn/native.h"

extern "C" {
// Referenced by the linker option of cairn::core (src/CMakeLists.txt).
int cairn_native_backend_anchor = 0;
}

namespace cairn {
namespace {

Result<std::unique_ptr<Store>> OpenNativeFromUrl(std::string_view url, const OpenOptions& o) {
  CAIRN_ASSIGN_OR_RETURN(std::string dir, FileUrlPath(url));
  NativeOptions options;
  options.create_if_missing = o.create_if_missing;
  options.read_only = o.read_only;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store, NativeStore::Open(dir, options));
  return std::unique_ptr<Store>(std::move(store));
}

[[maybe_unused]] const bool kRegistered = [] {
  Status s = RegisterBackend("file", OpenNativeFromUrl);
  if (!s.ok()) {
    std::fprintf(stderr, "cairn: registering the native backend failed: %s\n",
                 s.ToString().c_str());
    std::abort();
  }
  return true;
}();

}  // namespace
}  // namespace cairn
