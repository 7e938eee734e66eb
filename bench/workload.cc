#include "bench/workload.h"

#include <cstdio>
#include <string>

#include "cairn/env.h"

namespace cairn::bench {

std::string StreamName(uint64_t n) { return "account-" + std::to_string(n); }

EventData MakeEvent(uint64_t i) {
  char head[128];
  const int n = std::snprintf(head, sizeof(head),
                              R"({"account":"acc-%06llu","amount":%llu,"currency":"EUR","note":")",
                              static_cast<unsigned long long>(i % 1'000'000),
                              static_cast<unsigned long long>((i * 7919) % 1'000'000 + 1));
  std::string data(head, static_cast<size_t>(n));
  // Pad the note so every event carries exactly kEventDataBytes of JSON.
  static constexpr std::string_view kFiller = "deposit at branch via transfer ";
  const size_t tail = 2;  // closing quote and brace
  for (size_t k = 0; data.size() + tail < kEventDataBytes; ++k) {
    data.push_back(kFiller[(k + i) % kFiller.size()]);
  }
  data += "\"}";

  EventData e;
  e.type = "MoneyDeposited";
  e.content_type = ContentType::kJson;
  e.data = std::move(data);
  char meta[96];
  const int m =
      std::snprintf(meta, sizeof(meta), R"({"correlation_id":"c-%08llu","source":"cairn-bench"})",
                    static_cast<unsigned long long>(i));
  e.metadata.assign(meta, static_cast<size_t>(m));
  return e;
}

std::vector<EventData> MakeEventPool(uint64_t count) {
  std::vector<EventData> pool;
  pool.reserve(count);
  for (uint64_t i = 0; i < count; ++i) pool.push_back(MakeEvent(i));
  return pool;
}

uint64_t PayloadBytes(const EventData& e, std::string_view stream) {
  return e.data.size() + e.metadata.size() + e.type.size() + stream.size();
}

int64_t NowNanos() { return Env::Default()->MonotonicNanos(); }

}  // namespace cairn::bench
