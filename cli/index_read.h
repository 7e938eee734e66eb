#pragma once
// How `cairn read-all` reads: a scan of $all with the filter, or one category
// or one event type through the engine's category/type index
// (Store::ReadCategory / ReadEventType), whose cost grows with the events
// returned instead of with the size of $all.
//
// read-all promises $all's output, and the two differ: index reads apply
// stream retention ("$maxCount", "$maxAge", "$tb") and hide the events of
// soft-deleted and tombstoned streams, while $all shows every stored event.
// So the index is used only when a check says they agree for that read:
//   category C  (exactly one --category, no --stream-prefix/--stream-regex):
//     no "$metadata" event of the category's metadata streams ("$$C-...")
//     sets a retention key, and no stream of C is soft-deleted or
//     tombstoned (Store::ListStreams with prefix "C-"); a system category
//     ("$...") is never hidden and needs no check.
//   event type T (exactly one --type, when the category rule does not
//     apply): no "$metadata" event of the store sets a retention key and no
//     stream is soft-deleted or tombstoned; "$metadata" needs no check;
//     "$streamDeleted" always scans $all (index reads never show tombstones).
// The check reads the metadata events and lists the streams in scope, stops
// at the first disagreement, and gives up (the read scans) past one item
// per 16 events of $all, so it never costs more than a small part of the
// scan it would replace: large scopes in small stores always scan.
//
// Known limits, both from the public API (cli/README.md): a stream that
// was tombstoned without ever holding an event is not listed by
// ListStreams, so the category check cannot see it, and such a tombstone
// is missing from an index read of its category; and beside a running
// writer the check and the read see different snapshots, so a delete or
// retention write committed between them hides events the scan would show.
//
// Thread safety: call from one thread; `store` must outlive the call.

#include <string>

#include "cairn/status.h"
#include "cairn/store.h"
#include "cairn/subscription.h"

namespace cairn::cli {

struct ReadAllPlan {
  enum class Source { kAll, kCategory, kEventType };
  Source source = Source::kAll;
  std::string name;    // the category or event type read through the index
  EventFilter filter;  // what remains to apply (ReadAllOptions::filter)
};

// The plan of a read-all with `filter`. Errors are those of the reads the
// check makes (kCorruption, kIOError, ...).
Result<ReadAllPlan> PlanReadAll(Store& store, const EventFilter& filter);

// Runs `plan` with `options` (whose filter is replaced by plan.filter).
Status RunReadAll(Store& store, const ReadAllPlan& plan, ReadAllOptions options,
                  const EventVisitor& visit);

}  // namespace cairn::cli
