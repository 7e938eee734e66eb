#pragma once
// What a Streams.Read request asks for, checked against the valid
// combinations of docs/format/kurrentdb-v1.md ("Streams.Read"): a bounded
// read of a stream or $all, or a subscription to one.

#include <cstdint>
#include <optional>
#include <string>

#include "cairn/status.h"
#include "cairn/store_types.h"
#include "server/convert.h"

namespace cairn::server {

struct ReadPlan {
  bool all = false;  // $all; otherwise `stream`
  std::string stream;
  bool subscription = false;
  Direction direction = Direction::kForwards;
  // Reads: the first revision or position (inclusive); subscriptions: the
  // revision or position to start after. nullopt: the start (forwards
  // reads, subscriptions from `start`), or the end (backwards reads).
  std::optional<uint64_t> from;
  // `end` forwards: a read has nothing to return; a subscription starts
  // at the head.
  bool from_end_forwards = false;
  uint64_t count = 0;  // reads only
  EventFilter filter;
  bool filtered = false;        // a `filter` was given ($all only)
  bool passes_nothing = false;  // a prefix filter with no prefixes
  // Filtered $all subscriptions: a checkpoint every this many considered
  // events (checkpointIntervalMultiplier x window; window 32 unless `max`).
  uint64_t checkpoint_interval = 0;
  bool structured_ids = true;
  bool compatibility = false;  // stream reads: last_stream_position at the end
};

// kInvalidArgument naming what is missing or wrong.
Result<ReadPlan> PlanRead(const wire_streams::ReadReq& req);

}  // namespace cairn::server
