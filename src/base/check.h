#pragma once
// CAIRN_CHECK: an internal invariant that must hold (always on, also in
// release builds). A broken invariant aborts with a message; it is never
// used for bad input, which gets a Status.

#include <cstdio>
#include <cstdlib>

namespace cairn {

[[noreturn]] inline void CheckFailed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "cairn: invariant failed at %s:%d: %s\n", file, line, cond);
  std::abort();
}

}  // namespace cairn

#define CAIRN_CHECK(cond)                                         \
  do {                                                            \
    if (!(cond)) ::cairn::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)
