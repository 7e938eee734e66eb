#pragma once
// Metrics: what `cairn serve` counts, exposed at GET /metrics in the
// Prometheus text format (version 0.0.4). Counters only grow; gauges are
// read when scraped. Every call's outcome is counted by a gRPC server
// interceptor (Interceptors()), so no service can forget one.
//
// Thread safety: every method may be called from any thread (atomics and
// one mutex for the per-method table).

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cairn/store.h"

namespace cairn::server {

class Metrics {
 public:
  // One append (Append or a BatchAppend entry) finished.
  void AppendDone(bool ok, uint64_t events, uint64_t bytes, double seconds);
  // Events a bounded read sent.
  void EventsRead(uint64_t events) { events_read_.fetch_add(events); }
  // Events a subscription sent.
  void EventsDelivered(uint64_t events) { events_delivered_.fetch_add(events); }
  void SubscriptionStarted() {
    subscriptions_total_.fetch_add(1);
    subscriptions_active_.fetch_add(1);
  }
  void SubscriptionEnded() { subscriptions_active_.fetch_sub(1); }
  // Calls begun and not yet ended (what a stop waits for).
  int64_t active_calls() const { return active_calls_.load(); }
  void CallBegan() { active_calls_.fetch_add(1); }
  void CallGone() { active_calls_.fetch_sub(1); }
  // A call ended: `method` is "/package.Service/Method".
  void CallEnded(const std::string& method, grpc::StatusCode code, double seconds);

  // The exposition text; `store` gives the gauges of the store.
  std::string Prometheus(Store* store) const;

  // The interceptor factories that count every call's outcome.
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
  Interceptors();

 private:
  // Upper bounds (seconds) of the latency histograms' buckets, then +Inf.
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.5,    1.0};
  struct Histogram {
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> counts{};
    std::atomic<uint64_t> sum_ns{0};
    void Observe(double seconds);
    void Write(std::string* out, const std::string& name, const std::string& labels) const;
  };

  std::atomic<uint64_t> appends_ok_{0}, appends_failed_{0};
  std::atomic<uint64_t> events_written_{0}, bytes_written_{0};
  std::atomic<uint64_t> events_read_{0}, events_delivered_{0};
  std::atomic<uint64_t> subscriptions_total_{0};
  std::atomic<int64_t> subscriptions_active_{0};
  std::atomic<int64_t> active_calls_{0};
  Histogram append_latency_;
  mutable std::mutex mu_;
  // (method, status code name) -> calls; method -> latency.
  std::map<std::pair<std::string, std::string>, uint64_t> calls_;
  std::map<std::string, std::unique_ptr<Histogram>> call_latency_;
};

}  // namespace cairn::server
