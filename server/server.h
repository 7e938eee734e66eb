#pragma once
// Server: `cairn serve`'s gRPC server, KurrentDB's v1 protocol over any
// cairn::Store (docs/server.md; wire facts in docs/format/kurrentdb-v1.md).
// It uses the public API only: the store may be the native engine or any
// backend OpenStore opens.
//
// Services are gRPC callback services: no thread per call, so idle
// connections and calls cost no CPU. A call's work that needs the store
// runs on gRPC's callback threads (reads of the page cache, appends handed
// to Store::AppendAsync, whose completion finishes the call).
//
// Thread safety: Start, port, connection_string and Shutdown may be called
// from any thread; Shutdown from several at once is safe (the first wins).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cairn/status.h"
#include "cairn/store.h"
#include "server/json_log.h"

namespace cairn::server {

struct ServerOptions {
  std::string host = "127.0.0.1";  // the address to listen on
  int port = 2113;                 // 0: the OS picks one (see Server::port)
  // The HTTP side (/health/live, /info, /gossip, /metrics): its own port;
  // 0: the OS picks one (Server::http_port); -1: none.
  int http_port = 2114;
  // KurrentDB's meaning: no TLS, no authentication, no authorization.
  bool insecure = false;
  // TLS (required unless insecure): PEM files of the server's certificate
  // chain and key; `ca_file` is the CA clients should trust (printed in the
  // connection string), optional.
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  // Largest request message accepted (bytes). Larger ones fail with
  // RESOURCE_EXHAUSTED from gRPC itself; the connection goes on.
  int max_receive_bytes = 17 * 1024 * 1024;
  // A subscription's queue of messages not yet written to its client;
  // beyond either bound the subscriber has fallen behind (fell_behind,
  // then history again once it has read what is queued).
  size_t subscription_queue_messages = 1024;
  size_t subscription_queue_bytes = 4 * 1024 * 1024;
  // The passwords of the default users, written on a store's first start
  // (ignored once the store has users).
  std::string default_admin_password = "changeit";
  std::string default_ops_password = "changeit";
  // What Operations.Shutdown does once answered (cairn-serve: the same as
  // SIGTERM). Empty: Shutdown calls are answered and do nothing more.
  std::function<void()> on_shutdown_request;
  // Argon2id cost of password hashes (0: libsodium's interactive limits).
  uint64_t password_hash_ops = 0;
  size_t password_hash_memory = 0;
};

class Server {
 public:
  // Starts serving `store` (which must outlive the server): loads its
  // users, writing the default ones into a store that has none (unless
  // insecure). kInvalidArgument for bad options (neither TLS files nor
  // insecure; unreadable files); kUnavailable when the address cannot be
  // bound; the store's errors.
  static Result<std::unique_ptr<Server>> Start(Store* store, const ServerOptions& options,
                                               JsonLog* log);
  virtual ~Server() = default;

  // The port listened on (the OS's choice when options.port was 0).
  virtual int port() const = 0;
  // The HTTP port (the OS's choice when options.http_port was 0); -1: none.
  virtual int http_port() const = 0;
  // What a client connects with: "kurrentdb://HOST:PORT?tls=false", or with
  // TLS "...?tls=true[&tlsCAFile=PATH]".
  virtual std::string connection_string() const = 0;
  // Stops accepting calls; calls in flight get up to `grace` to finish
  // (appends complete), then are cancelled (subscriptions end). Returns
  // when every call is done. Idempotent.
  virtual void Shutdown(std::chrono::milliseconds grace) = 0;
};

}  // namespace cairn::server
