#pragma once
// HEAD: a small hint file telling read-only processes how far the durable
// log reaches and which scavenge the log files are from (docs/format/
// index.md). Written with a plain pwrite after each group commit and each
// scavenge, never fsynced: it shares the page cache with readers, and
// recovery rewrites it. Checksums let readers reject a torn read.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/base/coding.h"
#include "src/base/crc32c.h"

namespace cairn {

struct Head {
  uint64_t end_address = 0;    // log address one past the last durable record
  uint64_t next_position = 0;  // positions below this are durable
  // The manifest's log generation (+1 per scavenge that rewrote segments);
  // absent in the 20-byte HEAD of older writers.
  std::optional<uint64_t> log_generation;
};

inline std::string EncodeHead(const Head& h) {
  std::string out;
  PutFixed64(&out, h.end_address);
  PutFixed64(&out, h.next_position);
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  PutFixed64(&out, h.log_generation.value_or(0));
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

inline std::optional<Head> DecodeHead(std::string_view d) {
  if (d.size() < 20) return std::nullopt;
  if (crc32c::Unmask(DecodeFixed32(d.data() + 16)) != crc32c::Value(d.data(), 16)) {
    return std::nullopt;
  }
  Head h{DecodeFixed64(d.data()), DecodeFixed64(d.data() + 8), std::nullopt};
  if (d.size() >= 32) {
    if (crc32c::Unmask(DecodeFixed32(d.data() + 28)) != crc32c::Value(d.data(), 28)) {
      return std::nullopt;  // torn: the caller reads again
    }
    h.log_generation = DecodeFixed64(d.data() + 20);
  }
  return h;
}

}  // namespace cairn
