// `category-read` (system=cairn): one category of a store with 100 of them,
// read through the category index (Store::ReadCategory) and, for the same
// answer, by a filtered scan of $all (ReadAllOptions::filter.categories).
// The index read should cost in proportion to the events it returns (1 % of
// the store), the scan in proportion to the store: `ratio_vs_scan` is the
// time of the first over the time of the second. `category-read-mixed`
// writes the same streams with one AppendMulti per 100 streams, so each
// record holds events of every category.

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/workload.h"
#include "cairn/store.h"

namespace cairn::bench {
namespace {

constexpr uint64_t kCategories = 100;      // "c00" .. "c99"
constexpr uint64_t kEventsPerAppend = 10;  // one stream per Append call
constexpr uint64_t kReadCategory = 42;     // the category read: "c42"

std::string CategoryName(uint64_t c) {
  char name[8];
  std::snprintf(name, sizeof name, "c%02u", static_cast<unsigned>(c));
  return name;
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
// "c<j % 100>-<j / 100>" and gets kEventsPerAppend events, so every
// category's events are spread evenly over the whole log. One stream per
// Append call (records of one category), or with `mixed` one AppendMulti of
// kCategories streams (every record holds 10 events of each category).
// Close persists the index. Returns the events written to kReadCategory.
Result<uint64_t> WriteCategories(const std::string& dir, uint64_t events, bool mixed) {
  StoreOptions options;
  options.durability = Durability::kNoSyncUnsafe;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(dir, options));
  const std::vector<EventData> pool = MakeEventPool(kBatchEvents);
  std::vector<StreamAppend> appends;
  uint64_t expected = 0;
  uint64_t done = 0;
  for (uint64_t j = 0; done < events; ++j) {
    const uint64_t k = std::min(kEventsPerAppend, events - done);
    const uint64_t c = j % kCategories;
    StreamAppend a;
    a.stream = CategoryName(c) + "-" + std::to_string(j / kCategories);
    const size_t first = (j * kEventsPerAppend) % pool.size();
    a.events.assign(pool.begin() + static_cast<std::ptrdiff_t>(first),
                    pool.begin() + static_cast<std::ptrdiff_t>(first + k));
    appends.push_back(std::move(a));
    if (c == kReadCategory) expected += k;
    done += k;
    if (!mixed || c == kCategories - 1 || done == events) {
      auto r = store->AppendMulti(appends);
      if (!r) return r.error();
      appends.clear();
    }
  }
  CAIRN_RETURN_IF_ERROR(store->Close());
  return expected;
}

Result<Measurement> CategoryRead(const WorkloadContext& ctx, bool mixed) {
  const std::string dir = ctx.scratch + "/store";
  const std::string category = CategoryName(kReadCategory);
  CAIRN_ASSIGN_OR_RETURN(const uint64_t expected, WriteCategories(dir, ctx.events, mixed));

  Measurement m;
  m.workload = ctx.name;
  m.system = "cairn";
  m.durable = ctx.durable;
  ResetPeakRss();
  StoreOptions options;
  options.durability = ctx.durable ? Durability::kFsync : Durability::kNoSyncUnsafe;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(dir, options));
  auto by_index = [&](const ReadAllOptions& o, const EventVisitor& visit) {
    return store->ReadCategory(category, o, visit);
  };
  auto by_scan = [&](ReadAllOptions o, const EventVisitor& visit) {
    o.filter.categories = {category};
    return store->ReadAll(o, visit);
  };
  {
    // Warm-up, untimed: both reads once, so both run from the page cache.
    ReadResult ignored_index, ignored_scan;
    CAIRN_RETURN_IF_ERROR(ReadPaged(by_index, nullptr, &ignored_index));
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
  m.SampleRss();
  CAIRN_RETURN_IF_ERROR(store->Close());

  auto check = [&](const char* how, const ReadResult& r) -> Status {
    if (r.events == expected && r.ordered) return Status::OK();
    return Status(ErrorCode::kCorruption, "bench check failed in " + ctx.name + ": the " + how +
                                              " read of '" + category + "' returned " +
                                              std::to_string(r.events) + " events" +
                                              (r.ordered ? "" : " out of order") + "; " +
                                              std::to_string(expected) + " were written");
  };
  CAIRN_RETURN_IF_ERROR(check("index", index));
  CAIRN_RETURN_IF_ERROR(check("scan", scan));
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
