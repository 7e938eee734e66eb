#pragma once
// SalvageLog: what is still readable in the log of a store, read without
// opening the store (no index, no lock, nothing written): every commit
// record whose checksum holds, in log order, past any damage. For a store
// that refuses to open (damage in the middle of its log, a damaged index)
// it is how `cairn verify` lists every damaged place and how `cairn export
// --salvage` saves every readable event (docs/operations.md).
//
// Thread safety: a free function; safe beside a running writer (it reads
// what the files hold when it reads them).

#include <cstdint>
#include <string>
#include <vector>

#include "cairn/env.h"
#include "cairn/native.h"
#include "cairn/status.h"

namespace cairn {

// One damaged place: `bytes` bytes from `offset` of `file` hold no whole
// record (up to the next one, or the end of the file).
struct SalvageDamage {
  std::string file;
  uint64_t offset = 0;
  uint64_t bytes = 0;
  std::string what;
  // At the end of the last segment, past HEAD's durable end, with nothing
  // whole after it: the unfinished write of a crash (never acknowledged;
  // opening the store cuts it), not damage to stored events.
  bool torn_tail = false;
};

struct SalvageReport {
  uint64_t segments = 0;
  uint64_t records = 0;  // whole records read
  uint64_t events = 0;   // events visited
  std::vector<SalvageDamage> damage;
  // Damage other than a torn tail: acknowledged events may be lost.
  bool damaged() const;
};

// Visits every event of every whole record of the log of the store in
// `dir`, in $all order; `visit` returns false to stop early. A damaged
// record is never visited, nor are its events returned as data. Errors
// only when the log cannot be read at all: kNotFound (no log/ segments),
// kIOError. `env`: nullptr means Env::Default().
Result<SalvageReport> SalvageLog(const std::string& dir, const EventVisitor& visit,
                                 Env* env = nullptr);

}  // namespace cairn
