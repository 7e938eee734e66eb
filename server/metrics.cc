#include "server/metrics.h"

#include <chrono>
#include <cstdio>

namespace cairn::server {
namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "OTHER";
  }
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void Line(std::string* out, const std::string& name, const std::string& labels, double value) {
  out->append(name);
  if (!labels.empty()) out->append("{").append(labels).append("}");
  out->append(" ").append(Number(value)).append("\n");
}

void Header(std::string* out, const char* name, const char* type, const char* help) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// Counts one call: from its start to the status it sends.
class CallCounter : public grpc::experimental::Interceptor {
 public:
  // Lives as long as its call: counts it as active meanwhile.
  CallCounter(Metrics* metrics, std::string method)
      : metrics_(metrics), method_(std::move(method)), start_(std::chrono::steady_clock::now()) {
    metrics_->CallBegan();
  }
  ~CallCounter() override { metrics_->CallGone(); }
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      metrics_->CallEnded(method_, methods->GetSendStatus().error_code(), seconds);
    }
    methods->Proceed();
  }

 private:
  Metrics* const metrics_;
  const std::string method_;
  const std::chrono::steady_clock::time_point start_;
};

class CallCounterFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallCounterFactory(Metrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallCounter(metrics_, info->method());
  }

 private:
  Metrics* const metrics_;
};

}  // namespace

void Metrics::Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  counts[i].fetch_add(1);
  sum_ns.fetch_add(static_cast<uint64_t>(seconds * 1e9));
}

void Metrics::Histogram::Write(std::string* out, const std::string& name,
                               const std::string& labels) const {
  const std::string sep = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBuckets.size(); ++i) {
    cumulative += counts[i].load();
    const std::string le = i < kBuckets.size() ? Number(kBuckets[i]) : "+Inf";
    Line(out, name + "_bucket", sep + "le=\"" + le + "\"", static_cast<double>(cumulative));
  }
  Line(out, name + "_sum", labels, static_cast<double>(sum_ns.load()) / 1e9);
  Line(out, name + "_count", labels, static_cast<double>(cumulative));
}

void Metrics::AppendDone(bool ok, uint64_t events, uint64_t bytes, double seconds) {
  if (!ok) {
    appends_failed_.fetch_add(1);
    return;
  }
  appends_ok_.fetch_add(1);
  events_written_.fetch_add(events);
  bytes_written_.fetch_add(bytes);
  append_latency_.Observe(seconds);
}

void Metrics::CallEnded(const std::string& method, grpc::StatusCode code, double seconds) {
  std::lock_guard l(mu_);
  ++calls_[{method, CodeName(code)}];
  auto& h = call_latency_[method];
  if (!h) h = std::make_unique<Histogram>();
  h->Observe(seconds);
}

std::string Metrics::Prometheus(Store* store) const {
  std::string out;
  Header(&out, "cairn_appends_total", "counter", "Appends answered, by result.");
  Line(&out, "cairn_appends_total", "result=\"ok\"", static_cast<double>(appends_ok_.load()));
  Line(&out, "cairn_appends_total", "result=\"error\"",
       static_cast<double>(appends_failed_.load()));
  Header(&out, "cairn_events_written_total", "counter", "Events written by appends.");
  Line(&out, "cairn_events_written_total", "", static_cast<double>(events_written_.load()));
  Header(&out, "cairn_bytes_written_total", "counter",
         "Event bytes (data, metadata, type) written by appends.");
  Line(&out, "cairn_bytes_written_total", "", static_cast<double>(bytes_written_.load()));
  Header(&out, "cairn_append_duration_seconds", "histogram",
         "From an append's submission to the store until it is durable.");
  append_latency_.Write(&out, "cairn_append_duration_seconds", "");
  Header(&out, "cairn_events_read_total", "counter", "Events sent by bounded reads.");
  Line(&out, "cairn_events_read_total", "", static_cast<double>(events_read_.load()));
  Header(&out, "cairn_events_delivered_total", "counter", "Events sent by subscriptions.");
  Line(&out, "cairn_events_delivered_total", "", static_cast<double>(events_delivered_.load()));
  Header(&out, "cairn_subscriptions_active", "gauge", "Subscriptions open now.");
  Line(&out, "cairn_subscriptions_active", "", static_cast<double>(subscriptions_active_.load()));
  Header(&out, "cairn_subscriptions_total", "counter", "Subscriptions started.");
  Line(&out, "cairn_subscriptions_total", "", static_cast<double>(subscriptions_total_.load()));
  {
    std::lock_guard l(mu_);
    Header(&out, "cairn_calls_total", "counter", "gRPC calls ended, by method and status code.");
    for (const auto& [key, n] : calls_) {
      Line(&out, "cairn_calls_total", "method=\"" + key.first + "\",code=\"" + key.second + "\"",
           static_cast<double>(n));
    }
    Header(&out, "cairn_call_duration_seconds", "histogram",
           "gRPC calls from start to status, by method (subscriptions: their whole life).");
    for (const auto& [method, h] : call_latency_) {
      h->Write(&out, "cairn_call_duration_seconds", "method=\"" + method + "\"");
    }
  }
  Header(&out, "cairn_store_head_position", "gauge",
         "The store's head: the position after its last event.");
  auto head = store->HeadPosition();
  Line(&out, "cairn_store_head_position", "", head ? static_cast<double>(head->value()) : 0);
  Header(&out, "cairn_store_events", "gauge", "Events stored in $all.");
  auto count = store->Count(CountOf::All());
  Line(&out, "cairn_store_events", "", count ? static_cast<double>(*count) : 0);
  return out;
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
Metrics::Interceptors() {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> v;
  v.push_back(std::make_unique<CallCounterFactory>(this));
  return v;
}

}  // namespace cairn::server
