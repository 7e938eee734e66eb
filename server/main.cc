// `cairn-serve` (run as `cairn serve`): serves a store over KurrentDB's v1
// gRPC protocol (docs/server.md). Logs JSON lines on stderr; SIGTERM or
// SIGINT stops it: no new calls, calls in flight get a grace period, the
// store is closed, exit 0.
//
// Exit status: 0 stopped by a signal, 1 the store or server failed,
// 2 usage (bad or missing options).

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cairn/store.h"
#include "cairn/version.h"
#include "server/dev_cert.h"
#include "server/json_log.h"
#include "server/server.h"

namespace cairn::server {
namespace {

constexpr auto kGrace = std::chrono::seconds(5);

int Main(int argc, char** argv) {
  CLI::App app("cairn serve: a KurrentDB-compatible gRPC server over a Cairn store", "cairn serve");
  std::string db;
  ServerOptions options;
  bool dev = false;
  app.add_option("--db", db, "Store directory (created if missing), or a store URL")
      ->type_name("DIR")
      ->required();
  app.add_option("--host", options.host, "Address to listen on (default 127.0.0.1)");
  app.add_option("--port", options.port, "Port (default 2113; 0: any free port)")
      ->check(CLI::Range(0, 65535));
  auto* http_port =
      app.add_option("--http-port", options.http_port,
                     "Port of the HTTP side: /health/live, /info, /gossip, /metrics (default "
                     "2114, or any free port with --port 0; 0: any free port; -1: none)")
          ->check(CLI::Range(-1, 65535));
  app.add_flag("--insecure", options.insecure,
               "No TLS, no authentication, no authorization (KurrentDB's --insecure)");
  app.add_option("--cert", options.cert_file, "TLS certificate chain (PEM)")->type_name("FILE");
  app.add_option("--key", options.key_file, "TLS private key (PEM)")->type_name("FILE");
  app.add_option("--ca", options.ca_file, "CA certificate clients should trust (PEM)")
      ->type_name("FILE");
  app.add_flag("--dev", dev,
               "Development mode: TLS with a development CA and certificate made in "
               "DIR/dev-certs (localhost, 127.0.0.1)");
  app.add_option("--default-admin-password", options.default_admin_password,
                 "Password of the admin user created on a store's first start (default "
                 "changeit; also CAIRN_DEFAULT_ADMIN_PASSWORD)")
      ->envname("CAIRN_DEFAULT_ADMIN_PASSWORD");
  app.add_option("--default-ops-password", options.default_ops_password,
                 "Password of the ops user created on a store's first start (default "
                 "changeit; also CAIRN_DEFAULT_OPS_PASSWORD)")
      ->envname("CAIRN_DEFAULT_OPS_PASSWORD");
  app.set_version_flag("--version", std::string("cairn serve ") + CAIRN_VERSION_STRING);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  // Tests and scripts that let the OS pick the gRPC port get any free HTTP
  // port too, so that several servers can run at once.
  if (options.port == 0 && http_port->count() == 0) options.http_port = 0;
  JsonLog log;
  if (dev && (options.insecure || !options.cert_file.empty() || !options.key_file.empty())) {
    log.Error("usage", {{"error", "invalid_argument"},
                        {"message",
                         "--dev makes its own certificate: it goes with neither --insecure nor "
                         "--cert/--key"}});
    return 2;
  }
  if (!dev && !options.insecure && (options.cert_file.empty() || options.key_file.empty())) {
    log.Error("usage",
              {{"error", "invalid_argument"},
               {"message",
                "secure by default: give a certificate and key (--cert F --key F [--ca F]), "
                "or --insecure to serve without TLS, authentication and authorization"}});
    return 2;
  }
  // Signals are taken by sigwait below: blocked before any thread starts,
  // so every thread inherits the mask.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto store = OpenStore(db);
  if (!store) {
    log.Error("store_error", {{"error", ErrorCodeName(store.error().code())},
                              {"message", store.error().message()},
                              {"db", db}});
    return 1;
  }
  if (dev) {
    auto cert = EnsureDevCertificate(db);
    if (!cert) {
      log.Error("server_error", {{"error", ErrorCodeName(cert.error().code())},
                                 {"message", cert.error().message()}});
      (void)(*store)->Close();
      return 1;
    }
    options.cert_file = cert->cert_file;
    options.key_file = cert->key_file;
    options.ca_file = cert->ca_file;
    log.Warn("dev", {{"message", "development certificate: never use --dev in production"},
                     {"ca_file", cert->ca_file},
                     {"created", cert->created}});
  }
  // Operations.Shutdown: the same path as SIGTERM.
  options.on_shutdown_request = [] { ::kill(::getpid(), SIGTERM); };
  auto server = Server::Start(store->get(), options, &log);
  if (!server) {
    log.Error("server_error", {{"error", ErrorCodeName(server.error().code())},
                               {"message", server.error().message()}});
    (void)(*store)->Close();
    return server.error().code() == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  if (options.insecure) {
    log.Warn("insecure",
             {{"message", "serving without TLS, authentication or authorization (--insecure)"}});
  }
  log.Info("listening", {{"address", options.host + ":" + std::to_string((*server)->port())},
                         {"port", (*server)->port()},
                         {"http_port", (*server)->http_port()},
                         {"connection_string", (*server)->connection_string()},
                         {"version", CAIRN_VERSION_STRING},
                         {"db", db}});
  int sig = 0;
  sigwait(&stop, &sig);
  log.Info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                        {"grace_ms", std::chrono::milliseconds(kGrace).count()}});
  (*server)->Shutdown(kGrace);
  Status closed = (*store)->Close();
  if (!closed.ok()) {
    log.Error("store_error",
              {{"error", ErrorCodeName(closed.code())}, {"message", closed.message()}});
    return 1;
  }
  log.Info("stopped");
  return 0;
}

}  // namespace
}  // namespace cairn::server

int main(int argc, char** argv) { return cairn::server::Main(argc, argv); }
