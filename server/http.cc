#include "server/http.h"

#include <httplib.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

namespace cairn::server {
namespace {

std::string NowRfc3339() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

HttpEndpoints::HttpEndpoints(Store* store, Metrics* metrics, HttpInfo info)
    : store_(store), metrics_(metrics), info_(std::move(info)) {}

HttpEndpoints::~HttpEndpoints() { Stop(); }

Status HttpEndpoints::Start(const std::string& host, int port) {
  http_ = std::make_unique<httplib::Server>();
  http_->Get("/health/live",
             [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  http_->Get("/info", [this](const httplib::Request&, httplib::Response& res) {
    nlohmann::json j = {{"dbVersion", info_.version},
                        {"protocolVersion", info_.protocol_version},
                        {"state", "leader"},
                        {"authentication", {{"type", info_.insecure ? "insecure" : "basic"}}}};
    res.set_content(j.dump(), "application/json");
  });
  http_->Get("/gossip", [this](const httplib::Request&, httplib::Response& res) {
    nlohmann::json member = {{"instanceId", info_.instance_id},
                             {"timeStamp", NowRfc3339()},
                             {"state", "Leader"},
                             {"isAlive", true},
                             {"httpEndPointIp", info_.host},
                             {"httpEndPointPort", info_.grpc_port}};
    nlohmann::json j = {{"members", nlohmann::json::array({member})},
                        {"serverIp", info_.host},
                        {"serverPort", info_.grpc_port}};
    res.set_content(j.dump(), "application/json");
  });
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_->Prometheus(store_), "text/plain; version=0.0.4");
  });
  if (port == 0) {
    port_ = http_->bind_to_any_port(host);
  } else {
    port_ = http_->bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) {
    http_.reset();
    return Status(ErrorCode::kUnavailable,
                  "cannot listen for HTTP on " + host + ":" + std::to_string(port));
  }
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  return Status::OK();
}

void HttpEndpoints::Stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cairn::server
