#include "src/base/crc32c.h"

// The hardware path uses x86's crc32 instruction in functions compiled for
// SSE 4.2 (target attributes), chosen at run time: the engine itself is
// built for the baseline CPU, and other architectures use the table.
#if defined(__x86_64__)
#define CAIRN_CRC32C_X86 1
#include <nmmintrin.h>
#endif

#include <array>
#include <cstring>

namespace cairn::crc32c {
namespace {

constexpr uint32_t kPoly = 0x82f63b78u;  // reflected Castagnoli polynomial

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

#if CAIRN_CRC32C_X86
// Hardware path. The crc32 instruction has a latency of three cycles and a
// throughput of one per cycle, so one dependent chain uses a third of the
// unit. Long inputs are cut into three lanes of equal length whose CRCs are
// computed in one interleaved loop and then joined: the register after
// A||B is shift(register after A, |B|) XOR (register of B started from 0),
// where shift(x, n) is x fed with n zero bytes, a linear map that a table
// of 4 x 256 entries applies per lane length (built once, below).
constexpr size_t kLongLane = 8192;
constexpr size_t kShortLane = 256;

struct ShiftTable {
  uint32_t t[4][256];
  uint32_t Apply(uint32_t x) const {
    return t[0][x & 0xff] ^ t[1][(x >> 8) & 0xff] ^ t[2][(x >> 16) & 0xff] ^ t[3][x >> 24];
  }
};

__attribute__((target("sse4.2"))) uint64_t Run(uint64_t c, const char* p, size_t n) {
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c = _mm_crc32_u64(c, w);
  }
  for (; n > 0; ++p, --n) c = _mm_crc32_u8(static_cast<uint32_t>(c), static_cast<uint8_t>(*p));
  return c;
}

// The raw register x fed with n zero bytes (one-time table building only).
__attribute__((target("sse4.2"))) uint32_t ShiftSlow(uint32_t x, size_t n) {
  uint64_t c = x;
  for (size_t i = 0; i < n; i += 8) c = _mm_crc32_u64(c, 0);
  return static_cast<uint32_t>(c);
}

ShiftTable MakeShift(size_t n) {
  ShiftTable s;
  for (int k = 0; k < 4; ++k) {
    for (uint32_t b = 0; b < 256; ++b) s.t[k][b] = ShiftSlow(b << (8 * k), n);
  }
  return s;
}

// Three lanes of `lane` bytes each, while at least that much is left.
template <size_t kLane>
__attribute__((target("sse4.2"))) uint64_t Lanes(uint64_t c, const char*& p, size_t& n,
                                                 const ShiftTable& shift) {
  while (n >= 3 * kLane) {
    uint64_t c1 = 0, c2 = 0;
    for (size_t i = 0; i < kLane; i += 8) {
      uint64_t w0, w1, w2;
      std::memcpy(&w0, p + i, 8);
      std::memcpy(&w1, p + kLane + i, 8);
      std::memcpy(&w2, p + 2 * kLane + i, 8);
      c = _mm_crc32_u64(c, w0);
      c1 = _mm_crc32_u64(c1, w1);
      c2 = _mm_crc32_u64(c2, w2);
    }
    c = shift.Apply(static_cast<uint32_t>(c)) ^ c1;
    c = shift.Apply(static_cast<uint32_t>(c)) ^ c2;
    p += 3 * kLane;
    n -= 3 * kLane;
  }
  return c;
}

uint32_t ExtendHardware(uint32_t crc, const char* data, size_t n) {
  static const ShiftTable long_shift = MakeShift(kLongLane);
  static const ShiftTable short_shift = MakeShift(kShortLane);
  uint64_t c = ~crc & 0xffffffffu;
  const char* p = data;
  c = Lanes<kLongLane>(c, p, n, long_shift);
  c = Lanes<kShortLane>(c, p, n, short_shift);
  return ~static_cast<uint32_t>(Run(c, p, n));
}

bool HasHardware() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#else
bool HasHardware() { return false; }
uint32_t ExtendHardware(uint32_t crc, const char*, size_t) { return crc; }  // never called
#endif

}  // namespace

namespace internal {
uint32_t ExtendPortable(uint32_t crc, const char* data, size_t n) {
  uint32_t c = ~crc;
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) c = kTable[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}
}  // namespace internal

uint32_t Extend(uint32_t crc, const char* data, size_t n) {
  return HasHardware() ? ExtendHardware(crc, data, n) : internal::ExtendPortable(crc, data, n);
}

}  // namespace cairn::crc32c
