#pragma once
// HttpEndpoints: the server's HTTP/1.1 side, on a port of its own (one
// port for both, as KurrentDB does, is not done: gRPC C++ takes a handed
// over socket only in plaintext, AddInsecureChannelFromFd):
//   GET /health/live  204 while the server runs
//   GET /info         JSON: version, state, authentication
//   GET /gossip       JSON: this node (KurrentDB's member fields)
//   GET /metrics      Prometheus text (Metrics)
// Anything else is 404. No authentication (KurrentDB serves these
// anonymously too); plain HTTP, so bind it where only operators reach.
//
// Thread safety: Start and Stop from one thread; requests are answered on
// the library's own threads.

#include <memory>
#include <string>
#include <thread>

#include "cairn/store.h"
#include "server/metrics.h"

namespace httplib {
class Server;
}

namespace cairn::server {

struct HttpInfo {
  std::string version;           // Cairn's
  std::string protocol_version;  // what ServerFeatures advertises
  bool insecure = false;
  std::string instance_id;
  std::string host;  // what clients dial
  int grpc_port = 0;
};

class HttpEndpoints {
 public:
  HttpEndpoints(Store* store, Metrics* metrics, HttpInfo info);
  ~HttpEndpoints();  // Stop

  // Binds host:port (0: any free port) and serves on a thread.
  // kUnavailable naming the address when it cannot be bound.
  Status Start(const std::string& host, int port);
  int port() const { return port_; }
  void Stop();

 private:
  Store* const store_;
  Metrics* const metrics_;
  HttpInfo info_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace cairn::server
