#pragma once
// CRC32C (Castagnoli), the checksum on every record Cairn writes.
// Uses the SSE4.2 crc32 instruction when the CPU has it (three interleaved
// lanes on long inputs), else a table.
// Stored checksums are masked (see Mask) so that a CRC over bytes that
// themselves contain CRCs does not degenerate. Thread-safe, pure functions.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cairn::crc32c {

// Extends `crc` (the CRC of earlier bytes) with `data`.
uint32_t Extend(uint32_t crc, const char* data, size_t n);
inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

namespace internal {
// The table-driven path Extend takes without SSE4.2 (exposed for tests,
// which compare it with the hardware path).
uint32_t ExtendPortable(uint32_t crc, const char* data, size_t n);
}  // namespace internal

constexpr uint32_t kMaskDelta = 0xa282ead8u;
// Rotates and offsets a CRC before it is stored.
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return ((rot >> 17) | (rot << 15));
}

}  // namespace cairn::crc32c
