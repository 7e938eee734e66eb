#pragma once
// Streams.BatchAppend (docs/format/kurrentdb-v1.md, "Streams.BatchAppend"):
// one bidirectional call carrying many appends, each named by a
// correlation id and sent as chunks until `is_final`. Each append is
// handed to Store::AppendAsync once complete; its answer (success, or a
// google.rpc.Status with one detail) is written as it completes, not in
// request order. On the client's half-close every append in flight is
// answered, then the call ends OK.
//
// Security: the caller is authenticated once (wrong credentials end the
// call UNAUTHENTICATED); each append's write right is checked when its
// options arrive (a denial is answered in band, AccessDenied).
//
// Stopping the server ends the call (UNAVAILABLE "server is shutting
// down") once the appends in flight are answered: it is registered with
// the subscriptions (SubscriptionRegistry), so an idle call never holds a
// shutdown for its grace period.
//
// Deadlines: the smaller of the request's (absolute or relative) and
// `write_timeout`, counted from the append's first chunk; checked when a
// chunk arrives and before the append is submitted (a deadline already
// passed is a Timeout at once). An append submitted to the store is
// always answered with its own result: a durable append is never
// reported as timed out.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstddef>

#include "cairn/store.h"
#include "server/metrics.h"
#include "server/security.h"
#include "server/subscribe.h"
#include "streams.pb.h"

namespace cairn::server {

struct BatchAppendLimits {
  size_t max_append_bytes = 16 * 1024 * 1024;  // per append, over its chunks
  std::chrono::milliseconds write_timeout{2000};
};

grpc::ServerBidiReactor<::event_store::client::streams::BatchAppendReq,
                        ::event_store::client::streams::BatchAppendResp>*
NewBatchAppend(Store* store, Security* security, Metrics* metrics, SubscriptionRegistry* registry,
               grpc::CallbackServerContext* ctx, BatchAppendLimits limits);

}  // namespace cairn::server
