#include "cli/index_read.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::cli {
namespace {

constexpr uint64_t kPageStreams = 1000;
constexpr std::string_view kMetadataType = "$metadata";
constexpr std::string_view kTombstoneType = "$streamDeleted";
// The check looks at no more metadata events and streams than one per this
// many events of $all (and at least one page): past that it gives up and
// the read scans, so the check never costs more than a small part of the
// scan it would replace.
constexpr uint64_t kEventsPerCheckedItem = 16;

// Whether metadata `data` can hide events of its stream. Unreadable
// metadata counts as hiding: the check errs towards the $all scan.
bool SetsRetention(std::string_view data) {
  Result<StreamMetadata> metadata = StreamMetadata::Parse(data);
  return !metadata.has_value() || metadata->max_count.has_value() ||
         metadata->max_age_seconds.has_value() ||
         metadata->truncate_before.has_value();
}

// True when no "$metadata" event visited by `read` sets a retention key,
// each event visited spending one of `*budget`; false when one does or the
// budget runs out. Every metadata write counts, even one a later write
// undid: the check stays conservative and keeps no per-stream state.
template <typename ReadFn>
Result<bool> NoRetention(ReadFn read, uint64_t* budget) {
  bool clean = true;
  CAIRN_RETURN_IF_ERROR(read([&](const EventView& event) {
    if (*budget == 0 ||
        (event.type == kMetadataType && SetsRetention(event.data))) {
      clean = false;
    } else {
      --*budget;
    }
    return clean;
  }));
  return clean;
}

// True when every stream named with `prefix` is live (neither soft-deleted
// nor tombstoned), each stream spending one of `*budget`; false when one is
// not or the budget runs out. Called only once no retention is set in
// scope, so ListStreams counts events without reading them.
Result<bool> AllLive(Store& store, std::string prefix, uint64_t* budget) {
  ListStreamsOptions options;
  options.prefix = std::move(prefix);
  for (;;) {
    if (*budget == 0) return false;
    options.limit = std::min(*budget, kPageStreams);
    CAIRN_ASSIGN_OR_RETURN(std::vector<StreamSummary> page,
                           store.ListStreams(options));
    for (const StreamSummary& summary : page) {
      if (summary.state != StreamState::kLive) return false;
    }
    *budget -= page.size();
    if (page.size() < options.limit) return true;
    options.after = page.back().created;
  }
}

uint64_t CheckBudget(Store& store) {
  return std::max(kPageStreams,
                  store.HeadPosition().value() / kEventsPerCheckedItem);
}

bool IsIndexableCategory(std::string_view category) {
  return !category.empty() && category.find('-') == std::string_view::npos;
}

// Whether the index read of category `category` shows what $all shows.
Result<bool> CategoryAgrees(Store& store, const std::string& category) {
  // Streams starting with '$' are system streams: never hidden.
  if (category.starts_with('$')) return true;
  auto read_metadata = [&](const EventVisitor& visit) {
    return store.ReadCategory("$$" + category, ReadAllOptions{}, visit);
  };
  uint64_t budget = CheckBudget(store);
  CAIRN_ASSIGN_OR_RETURN(bool clean, NoRetention(read_metadata, &budget));
  if (!clean) return false;
  return AllLive(store, category + "-", &budget);
}

// Whether the index read of event type `type` shows what $all shows.
Result<bool> TypeAgrees(Store& store, const std::string& type) {
  // Tombstones are hidden from every index read; "$metadata" events live
  // in system streams, which are never hidden.
  if (type == kTombstoneType) return false;
  if (type == kMetadataType) return true;
  auto read_metadata = [&](const EventVisitor& visit) {
    return store.ReadEventType(kMetadataType, ReadAllOptions{}, visit);
  };
  uint64_t budget = CheckBudget(store);
  CAIRN_ASSIGN_OR_RETURN(bool clean, NoRetention(read_metadata, &budget));
  if (!clean) return false;
  return AllLive(store, "", &budget);
}

}  // namespace

Result<ReadAllPlan> PlanReadAll(Store& store, const EventFilter& filter) {
  ReadAllPlan plan;
  plan.filter = filter;
  if (filter.categories.size() == 1 && filter.stream_prefixes.empty() &&
      filter.stream_regex.empty() &&
      IsIndexableCategory(filter.categories.front())) {
    CAIRN_ASSIGN_OR_RETURN(bool agrees,
                           CategoryAgrees(store, filter.categories.front()));
    if (agrees) {
      plan.source = ReadAllPlan::Source::kCategory;
      plan.name = filter.categories.front();
      plan.filter.categories.clear();
    }
    // A category read is the narrower one: no type read is tried after it.
    return plan;
  }
  if (filter.types.size() == 1 && !filter.types.front().empty()) {
    CAIRN_ASSIGN_OR_RETURN(bool agrees,
                           TypeAgrees(store, filter.types.front()));
    if (agrees) {
      plan.source = ReadAllPlan::Source::kEventType;
      plan.name = filter.types.front();
      plan.filter.types.clear();
    }
  }
  return plan;
}

Status RunReadAll(Store& store, const ReadAllPlan& plan, ReadAllOptions options,
                  const EventVisitor& visit) {
  options.filter = plan.filter;
  switch (plan.source) {
    case ReadAllPlan::Source::kCategory:
      return store.ReadCategory(plan.name, options, visit);
    case ReadAllPlan::Source::kEventType:
      return store.ReadEventType(plan.name, options, visit);
    case ReadAllPlan::Source::kAll:
      break;
  }
  return store.ReadAll(options, visit);
}

}  // namespace cairn::cli
