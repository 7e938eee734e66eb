#pragma once
// Manifest: the index checkpoint (docs/format/index.md). Names the run files
// in use and how far the persisted index reaches; replaced atomically
// (temp file, fsync, rename, fsync dir), so a crash leaves the old or the
// new one, never a mix. Pure encode/decode; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"

namespace cairn::index {

struct Manifest {
  uint64_t generation = 0;        // +1 at each checkpoint
  uint64_t indexed_through = 0;   // positions < this are in runs and positions.idx
  uint64_t position_entries = 0;  // valid entries of positions.idx
  uint64_t resume_address = 0;    // log address of the first unindexed record
  uint64_t next_run_id = 0;
  std::vector<uint64_t> runs;      // stream-index run ids, oldest first
  std::vector<uint64_t> id_runs;   // event-id run ids, oldest first
  std::vector<uint64_t> tag_runs;  // category/type run ids, oldest first
  // False for a version 1 manifest: the tag index must be built from the log.
  bool tags_built = true;
  // +1 at every scavenge that rewrote segments: a read-only process whose
  // segment maps predate it must reopen.
  uint64_t log_generation = 0;
  // Positions below indexed_through holding no event: removed by scavenges
  // or skipped by restores (CountAll = head position - holes).
  uint64_t holes = 0;
};

enum class RunKind : uint8_t { kStream, kIds, kTags };

std::string EncodeManifest(const Manifest& m);
// kCorruption naming `file` on a bad magic, version, size or checksum.
Result<Manifest> DecodeManifest(std::string_view bytes, const std::string& file);
// "NNNNNNNN.run" (stream index), ".ids" (event ids) or ".tag" (categories
// and types).
std::string RunFileName(uint64_t id, RunKind kind = RunKind::kStream);
// The manifest's list of runs of `kind`.
std::vector<uint64_t>& RunIds(Manifest& m, RunKind kind);
const std::vector<uint64_t>& RunIds(const Manifest& m, RunKind kind);

}  // namespace cairn::index
