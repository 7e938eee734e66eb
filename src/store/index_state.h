#pragma once
// IndexState: the in-memory half of the stream index, one object so that
// the code that builds it (recovery, a read-only process catching up with
// its writer, a scavenge) and the code that reads and flushes it name the
// same thing. Its owner guards it with one shared mutex (StoreImpl's
// index_mu_): shared while a lookup copies entries or run pointers,
// exclusive to change anything here. Nothing here locks or does I/O.
//
// What it holds (docs/format/index.md):
//   active      the memtable the sequencer adds each committed batch to;
//   frozen      memtables cut at a batch boundary, oldest first, waiting
//               for the flusher to write them as run files;
//   runs        immutable run files of each kind (stream, ids, tags),
//               oldest first, as the MANIFEST lists them.
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "src/index/index_run.h"
#include "src/index/memtable.h"

namespace cairn {

using RunList = std::vector<std::shared_ptr<const index::IndexRun>>;

// The run files of the three kinds, as loaded from one MANIFEST.
struct RunSet {
  RunList stream;
  RunList ids;
  RunList tags;

  RunList& Of(index::RunKind kind) {
    switch (kind) {
      case index::RunKind::kIds:
        return ids;
      case index::RunKind::kTags:
        return tags;
      case index::RunKind::kStream:
        break;
    }
    return stream;
  }
  void Clear() {
    stream.clear();
    ids.clear();
    tags.clear();
  }
};

// A memtable frozen at a batch boundary, waiting to be written as a run.
struct FrozenMemtable {
  std::shared_ptr<const index::Memtable> table;
  uint64_t end_position = 0;      // positions < this are in it or older runs
  uint64_t position_entries = 0;  // PositionIndex size at the freeze
  uint64_t resume_address = 0;    // log address after the last record
  uint64_t holes = 0;             // holes its batches left (restores)
};

struct IndexState {
  std::shared_ptr<index::Memtable> active = std::make_shared<index::Memtable>();
  std::deque<FrozenMemtable> frozen;
  RunSet runs;
  // False in a read-only process whose writer has not built the tag index
  // yet: tag reads scan $all instead.
  bool tags_ready = true;
  // Memtable entries, and streams they create, of the batch whose fsync is
  // running (or failed): Stats leaves them out.
  uint64_t unpublished_entries = 0;
  uint64_t unpublished_streams = 0;
  uint64_t active_holes = 0;  // holes of active's batches (restores)

  // Replaces the runs with those of a newer MANIFEST whose runs cover
  // everything the memtables held (a read-only process adopting its
  // writer's checkpoint or scavenge): the memtable starts empty.
  void Replace(RunSet loaded, bool tags_built) {
    runs = std::move(loaded);
    tags_ready = tags_built;
    active = std::make_shared<index::Memtable>();
    active_holes = 0;
  }
};

}  // namespace cairn
