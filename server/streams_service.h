#pragma once
// The v1 Streams service (event_store.client.streams.Streams): Read (stream
// and $all reads), Append, Delete, Tombstone, over the public Store API.
// Semantics and errors: docs/format/kurrentdb-v1.md; what is not yet
// served (subscriptions, BatchAppend, link resolution): docs/server.md.

#include <cstddef>

#include "cairn/store.h"
#include "server/batch_append.h"
#include "server/json_log.h"
#include "server/metrics.h"
#include "server/security.h"
#include "server/subscribe.h"
#include "streams.grpc.pb.h"

namespace cairn::server {

struct StreamsLimits {
  // The running total of one Append's event bytes (data + metadata +
  // type); beyond it: INVALID_ARGUMENT maximum-append-size-exceeded.
  size_t max_append_bytes = 16 * 1024 * 1024;
  // Events and bytes a read gathers before it writes them out.
  size_t read_page_events = 256;
  size_t read_page_bytes = 4 * 1024 * 1024;
  SubscriptionLimits subscription;
  BatchAppendLimits batch;
};

class StreamsService final : public ::event_store::client::streams::Streams::CallbackService {
 public:
  StreamsService(Store* store, Security* security, Metrics* metrics, JsonLog* log,
                 StreamsLimits limits = {})
      : store_(store), security_(security), metrics_(metrics), log_(log), limits_(limits) {}

  grpc::ServerWriteReactor<::event_store::client::streams::ReadResp>* Read(
      grpc::CallbackServerContext* ctx,
      const ::event_store::client::streams::ReadReq* request) override;
  grpc::ServerReadReactor<::event_store::client::streams::AppendReq>* Append(
      grpc::CallbackServerContext* ctx,
      ::event_store::client::streams::AppendResp* response) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx,
                                   const ::event_store::client::streams::DeleteReq* request,
                                   ::event_store::client::streams::DeleteResp* response) override;
  grpc::ServerBidiReactor<::event_store::client::streams::BatchAppendReq,
                          ::event_store::client::streams::BatchAppendResp>*
  BatchAppend(grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* Tombstone(
      grpc::CallbackServerContext* ctx, const ::event_store::client::streams::TombstoneReq* request,
      ::event_store::client::streams::TombstoneResp* response) override;

  // Ends every subscription (UNAVAILABLE "server is shutting down") and
  // refuses new ones: the first step of stopping the server.
  void EndSubscriptions() { registry_.EndAll(); }
  // EndSubscriptions has begun: new Streams calls are refused (UNAVAILABLE).
  bool stopping() { return registry_.stopping(); }

 private:
  Store* const store_;
  Security* const security_;
  Metrics* const metrics_;
  JsonLog* const log_;
  const StreamsLimits limits_;
  SubscriptionRegistry registry_;
};

}  // namespace cairn::server
