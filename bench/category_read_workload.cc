// `category-read` (system=cairn): one category of a store with 100 of them,
// read through the category index (Store::ReadCategory) and, for the same
// answer, by a filtered scan of $all (ReadAllOptions::filter.categories).
// The index read should cost in proportion to the events it returns (1 % of
// the store), the scan in proportion to the store: `ratio_vs_scan` is the
// time of the first over the time of the second. `category-read-mixed`
// writes the same streams with one AppendMulti per 100 streams, so each
// record holds events of every category.
//
// Proportionality is checked inside the run: a rare category ("r00", every
// 1000th stream, 0.1 % of the store, spread over the whole log like "c42") is
// read through the index too. If the cost follows the events returned and not
// the size of $all, its time per returned event equals c42's
// (`rare_vs_c42_per_event` ~1) although it returns 10x fewer events from the
// same log.

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/workload.h"
#include "cairn/native.h"

namespace cairn::bench {
namespace {

constexpr uint64_t kCategories = 100;      // "c00" .. "c99"
constexpr uint64_t kEventsPerAppend = 10;  // one stream per Append call
constexpr uint64_t kReadCategory = 42;     // the category read: "c42"
constexpr uint64_t kRareEvery = 1000;      // stream j with j % 1000 == 999 is "r00-..."
constexpr const char* kRareCategory = "r00";

std::string CategoryName(uint64_t c) {
  char name[8];
  std::snprintf(name, sizeof name, "c%02u", static_cast<unsigned>(c));
  return name;
}

// The category of the j-th stream written: c<j % 100>, except every 1000th
// (which would be c99) belongs to the rare category.
std::string CategoryOfStream(uint64_t j) {
  if (j % kRareEvery == kRareEvery - 1) return kRareCategory;
  return CategoryName(j % kCategories);
}

// What a read returned: count, payload bytes and an order-sensitive hash of
// the positions, so two reads can be checked to give the same answer.
struct ReadResult {
  uint64_t events = 0;
  uint64_t bytes = 0;
  uint64_t hash = 14695981039346656037ull;  // FNV-1a offset basis
  uint64_t last = 0;
  bool ordered = true;

  void Add(const EventView& e) {
    const uint64_t p = e.position.value();
    if (events > 0 && p <= last) ordered = false;
    last = p;
    ++events;
    bytes += e.data.size() + e.metadata.size() + e.type.size() + e.stream.size();
    hash = (hash ^ p) * 1099511628211ull;
  }
};

// Reads forwards in pages of kReadPageEvents returned events, one latency
// sample per call, through `read(options, visit)`.
template <typename ReadFn>
Status ReadPaged(ReadFn read, Histogram* latency, ReadResult* out) {
  std::optional<Position> from;
  for (;;) {
    ReadAllOptions options;
    options.from = from;
    options.max_count = kReadPageEvents;
    uint64_t got = 0;
    const int64_t t0 = NowNanos();
    Status s = read(options, [&](const EventView& e) {
      out->Add(e);
      ++got;
      return true;
    });
    if (latency != nullptr) latency->Record(NowNanos() - t0);
    CAIRN_RETURN_IF_ERROR(s);
    if (got < kReadPageEvents) return Status::OK();
    from = Position(out->last + 1);
  }
}

// Setup, not timed, without fsync: stream j (the j-th written) is
// "c<j % 100>-<j / 100>" (or "r00-<j / 100>" for every 1000th) and gets
// kEventsPerAppend events, so every category's events are spread evenly
// over the whole log. One stream per
// Append call (records of one category), or with `mixed` one AppendMulti of
// kCategories streams (every record holds 10 events of each category).
// Close persists the index.
struct Written {
  uint64_t read_category = 0;  // events of kReadCategory
  uint64_t rare = 0;           // events of kRareCategory
};

Result<Written> WriteCategories(const std::string& dir, uint64_t events, bool mixed) {
  NativeOptions options;
  options.durability = Durability::kNoSyncUnsafe;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store, NativeStore::Open(dir, options));
  const std::vector<EventData> pool = MakeEventPool(kBatchEvents);
  std::vector<StreamAppend> appends;
  Written written;
  uint64_t done = 0;
  for (uint64_t j = 0; done < events; ++j) {
    const uint64_t k = std::min(kEventsPerAppend, events - done);
    const uint64_t c = j % kCategories;
    StreamAppend a;
    a.stream = CategoryOfStream(j);
    a.stream += '-';
    a.stream += std::to_string(j / kCategories);
    const size_t first = (j * kEventsPerAppend) % pool.size();
    a.events.assign(pool.begin() + static_cast<std::ptrdiff_t>(first),
                    pool.begin() + static_cast<std::ptrdiff_t>(first + k));
    appends.push_back(std::move(a));
    if (j % kRareEvery == kRareEvery - 1) {
      written.rare += k;
    } else if (c == kReadCategory) {
      written.read_category += k;
    }
    done += k;
    if (!mixed || c == kCategories - 1 || done == events) {
      auto r = store->AppendMulti(appends);
      if (!r) return r.error();
      appends.clear();
    }
  }
  CAIRN_RETURN_IF_ERROR(store->Close());
  return written;
}

Result<Measurement> CategoryRead(const WorkloadContext& ctx, bool mixed) {
  const std::string dir = ctx.scratch + "/store";
  const std::string category = CategoryName(kReadCategory);
  CAIRN_ASSIGN_OR_RETURN(const Written written, WriteCategories(dir, ctx.events, mixed));
  const uint64_t expected = written.read_category;

  Measurement m;
  m.workload = ctx.name;
  m.system = "cairn";
  m.durable = ctx.durable;
  ResetPeakRss();
  NativeOptions options;
  options.durability = ctx.durable ? Durability::kFsync : Durability::kNoSyncUnsafe;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<NativeStore> store, NativeStore::Open(dir, options));
  auto by_index = [&](const ReadAllOptions& o, const EventVisitor& visit) {
    return store->ReadCategory(category, o, visit);
  };
  auto by_rare_index = [&](const ReadAllOptions& o, const EventVisitor& visit) {
    return store->ReadCategory(kRareCategory, o, visit);
  };
  auto by_scan = [&](ReadAllOptions o, const EventVisitor& visit) {
    o.filter.categories = {category};
    return store->ReadAll(o, visit);
  };
  {
    // Warm-up, untimed: both reads once, so both run from the page cache.
    ReadResult ignored_index, ignored_rare, ignored_scan;
    CAIRN_RETURN_IF_ERROR(ReadPaged(by_index, nullptr, &ignored_index));
    CAIRN_RETURN_IF_ERROR(ReadPaged(by_rare_index, nullptr, &ignored_rare));
    CAIRN_RETURN_IF_ERROR(ReadPaged(by_scan, nullptr, &ignored_scan));
  }
  ReadResult index;
  int64_t t0 = NowNanos();
  CAIRN_RETURN_IF_ERROR(ReadPaged(by_index, &m.latency, &index));
  const double index_s = static_cast<double>(NowNanos() - t0) / 1e9;
  Histogram scan_latency;
  ReadResult scan;
  t0 = NowNanos();
  CAIRN_RETURN_IF_ERROR(ReadPaged(by_scan, &scan_latency, &scan));
  const double scan_s = static_cast<double>(NowNanos() - t0) / 1e9;
  ReadResult rare;
  t0 = NowNanos();
  CAIRN_RETURN_IF_ERROR(ReadPaged(by_rare_index, nullptr, &rare));
  const double rare_s = static_cast<double>(NowNanos() - t0) / 1e9;
  m.SampleRss();
  CAIRN_RETURN_IF_ERROR(store->Close());

  auto check = [&](const char* how, const std::string& name, const ReadResult& r,
                   uint64_t want) -> Status {
    if (r.events == want && r.ordered) return Status::OK();
    std::string what = "bench check failed in ";
    what += ctx.name;
    what += ": the ";
    what += how;
    what += " read of '";
    what += name;
    what += "' returned ";
    what += std::to_string(r.events);
    what += " events";
    what += r.ordered ? "" : " out of order";
    what += "; ";
    what += std::to_string(want);
    what += " were written";
    return Status(ErrorCode::kCorruption, what);
  };
  CAIRN_RETURN_IF_ERROR(check("index", category, index, expected));
  CAIRN_RETURN_IF_ERROR(check("scan", category, scan, expected));
  CAIRN_RETURN_IF_ERROR(check("index", kRareCategory, rare, written.rare));
  if (index.hash != scan.hash) {
    return Status(ErrorCode::kCorruption, "bench check failed in " + ctx.name +
                                              ": the index and scan reads returned "
                                              "different positions");
  }
  m.events = index.events;
  m.seconds = index_s;
  m.payload_bytes = index.bytes;
  const double ratio = scan_s > 0 ? index_s / scan_s : 0;
  m.Add("store_events", std::to_string(ctx.events));
  m.Add("categories", std::to_string(kCategories));
  m.Add("scan_events_per_s", FormatFixed(static_cast<double>(scan.events) / scan_s, 0));
  m.Add("scanned_events_per_s", FormatFixed(static_cast<double>(ctx.events) / scan_s, 0));
  m.Add("index_ms", FormatFixed(index_s * 1e3, 1));
  m.Add("scan_ms", FormatFixed(scan_s * 1e3, 1));
  m.Add("ratio_vs_scan", FormatFixed(ratio, 4));
  // Cost per returned event, c42 (1 %) and r00 (0.1 %) of the same log.
  const double per_event_ns =
      index.events > 0 ? index_s * 1e9 / static_cast<double>(index.events) : 0;
  const double rare_per_event_ns =
      rare.events > 0 ? rare_s * 1e9 / static_cast<double>(rare.events) : 0;
  m.Add("per_event_ns", FormatFixed(per_event_ns, 0));
  m.Add("rare_events", std::to_string(rare.events));
  m.Add("rare_ms", FormatFixed(rare_s * 1e3, 2));
  m.Add("rare_per_event_ns", FormatFixed(rare_per_event_ns, 0));
  m.Add("rare_vs_c42_per_event",
        FormatFixed(per_event_ns > 0 ? rare_per_event_ns / per_event_ns : 0, 2));
  m.Add("scan_per_event_ns",
        FormatFixed(ctx.events > 0 ? scan_s * 1e9 / static_cast<double>(ctx.events) : 0, 0));
  m.Add("scan_p50_us", FormatFixed(scan_latency.Percentile(0.5) / 1e3, 1));
  m.Add("scan_p99_us", FormatFixed(scan_latency.Percentile(0.99) / 1e3, 1));
  m.Add("page", std::to_string(kReadPageEvents));
  m.Add("events_per_stream", std::to_string(kEventsPerAppend));
  m.Add("streams_per_record", mixed ? std::to_string(kCategories) : "1");
  m.Add("setup", "nosync");
  return m;
}

}  // namespace

Result<Measurement> CairnCategoryRead(const WorkloadContext& ctx) {
  return CategoryRead(ctx, /*mixed=*/false);
}

Result<Measurement> CairnCategoryReadMixed(const WorkloadContext& ctx) {
  return CategoryRead(ctx, /*mixed=*/true);
}

}  // namespace cairn::bench
