#include "server/server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cairn/version.h"
#include "server/cluster_service.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/operations_service.h"
#include "server/streams_service.h"
#include "server/users_service.h"

namespace cairn::server {
namespace {

Result<std::string> ReadPem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::InvalidArgument(std::string("cannot read the ") + what + " '" + path + "'");
  std::ostringstream s;
  s << in.rdbuf();
  if (s.str().find("-----BEGIN") == std::string::npos) {
    return Status::InvalidArgument(std::string("the ") + what + " '" + path +
                                   "' is not a PEM file");
  }
  return s.str();
}

// The address clients should dial: never 0.0.0.0.
std::string DialHost(const ServerOptions& o) { return o.host == "0.0.0.0" ? "127.0.0.1" : o.host; }

StreamsLimits LimitsOf(const ServerOptions& o) {
  StreamsLimits l;
  l.subscription.max_queued_messages = o.subscription_queue_messages;
  l.subscription.max_queued_bytes = o.subscription_queue_bytes;
  return l;
}

class ServerImpl final : public Server {
 public:
  ServerImpl(Store* store, const ServerOptions& options, JsonLog* log,
             std::unique_ptr<Security> security)
      : options_(options),
        security_(std::move(security)),
        streams_(store, security_.get(), &metrics_, log, LimitsOf(options)),
        users_(security_.get()),
        operations_(store, security_.get(), log, options.on_shutdown_request),
        instance_id_(Uuid::Random()),
        gossip_(instance_id_, DialHost(options)),
        store_(store) {}

  ~ServerImpl() override { Shutdown(std::chrono::milliseconds(0)); }

  Status Start() {
    std::shared_ptr<grpc::ServerCredentials> creds;
    if (options_.insecure) {
      creds = grpc::InsecureServerCredentials();
    } else {
      if (options_.cert_file.empty() || options_.key_file.empty()) {
        return Status::InvalidArgument(
            "TLS needs a certificate and a key (--cert F --key F), or run with --insecure");
      }
      grpc::SslServerCredentialsOptions ssl;
      grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
      CAIRN_ASSIGN_OR_RETURN(pair.cert_chain, ReadPem(options_.cert_file, "certificate"));
      CAIRN_ASSIGN_OR_RETURN(pair.private_key, ReadPem(options_.key_file, "key"));
      ssl.pem_key_cert_pairs.push_back(std::move(pair));
      if (!options_.ca_file.empty()) {
        CAIRN_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem(options_.ca_file, "CA certificate"));
      }
      creds = grpc::SslServerCredentials(ssl);
    }
    grpc::ServerBuilder builder;
    const std::string address = options_.host + ":" + std::to_string(options_.port);
    builder.AddListeningPort(address, creds, &port_);
    builder.RegisterService(&streams_);
    builder.RegisterService(&features_);
    builder.RegisterService(&gossip_);
    builder.RegisterService(&users_);
    builder.RegisterService(&operations_);
    builder.SetMaxReceiveMessageSize(options_.max_receive_bytes);
    builder.experimental().SetInterceptorCreators(metrics_.Interceptors());
    // The clients ping every 10 s, also on quiet calls: never count that
    // as abuse (gRPC's default would GOAWAY them after two pings).
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    server_ = builder.BuildAndStart();
    if (!server_ || port_ == 0) {
      return Status(ErrorCode::kUnavailable,
                    "cannot listen on " + address + " (in use, or not an address of this host)");
    }
    gossip_.set_port(port_);
    if (options_.http_port >= 0) {
      HttpInfo info{CAIRN_VERSION_STRING,    kAdvertisedVersion, options_.insecure,
                    instance_id_.ToString(), DialHost(options_), port_};
      http_ = std::make_unique<HttpEndpoints>(store_, &metrics_, std::move(info));
      Status s = http_->Start(options_.host, options_.http_port);
      if (!s.ok()) {
        server_->Shutdown();
        server_->Wait();
        server_.reset();
        http_.reset();
        return s;
      }
    }
    return Status::OK();
  }

  int http_port() const override { return http_ ? http_->port() : -1; }

  int port() const override { return port_; }

  std::string connection_string() const override {
    const std::string host = options_.host == "0.0.0.0" ? "127.0.0.1" : options_.host;
    std::string s = "kurrentdb://" + host + ":" + std::to_string(port_);
    if (options_.insecure) return s + "?tls=false";
    s += "?tls=true";
    if (!options_.ca_file.empty()) s += "&tlsCAFile=" + options_.ca_file;
    return s;
  }

  void Shutdown(std::chrono::milliseconds grace) override {
    std::lock_guard l(shutdown_mu_);
    if (!server_ || stopped_) return;
    stopped_ = true;
    // Long calls end now and new Streams calls are refused; the calls in
    // flight get `grace` to finish. gRPC's own graceful shutdown would also
    // wait for idle connected clients, so it is asked for only once the
    // calls are done (or the grace is over), with no deadline left.
    streams_.EndSubscriptions();
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (metrics_.active_calls() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
    operations_.StopAndJoin();  // a running scavenge stops before the store closes
    if (http_) http_->Stop();
  }

 private:
  const ServerOptions options_;
  Metrics metrics_;  // before the services that count into it
  const std::unique_ptr<Security> security_;
  StreamsService streams_;
  UsersService users_;
  OperationsService operations_;
  ServerFeaturesService features_;
  const Uuid instance_id_;
  GossipService gossip_;
  Store* const store_;
  std::unique_ptr<HttpEndpoints> http_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex shutdown_mu_;
  bool stopped_ = false;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(Store* store, const ServerOptions& options,
                                              JsonLog* log) {
  SecurityOptions so;
  so.insecure = options.insecure;
  so.default_admin_password = options.default_admin_password;
  so.default_ops_password = options.default_ops_password;
  so.hash_ops = options.password_hash_ops;
  so.hash_memory = options.password_hash_memory;
  CAIRN_ASSIGN_OR_RETURN(auto security, Security::Open(store, so));
  auto server = std::make_unique<ServerImpl>(store, options, log, std::move(security));
  CAIRN_RETURN_IF_ERROR(server->Start());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace cairn::server
