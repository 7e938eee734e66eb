#pragma once
// The v1 Operations service: StartScavenge (an online scavenge on a thread
// of its own; InProgress with the running one's id when one runs),
// StopScavenge (stops it before its commit point: nothing changed;
// NOT_FOUND exception=scavenge-not-found for another id), Shutdown (as
// SIGTERM). Each needs $ops or $admins. The other methods are KurrentDB's
// cluster and index operations, not served.

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "cairn/store.h"
#include "operations.grpc.pb.h"
#include "server/json_log.h"
#include "server/security.h"

namespace cairn::server {

class OperationsService final
    : public ::event_store::client::operations::Operations::CallbackService {
 public:
  // `shutdown` is called (once) after a Shutdown call has been answered.
  OperationsService(Store* store, Security* security, JsonLog* log, std::function<void()> shutdown)
      : store_(store), security_(security), log_(log), shutdown_(std::move(shutdown)) {}
  ~OperationsService() override { StopAndJoin(); }

  grpc::ServerUnaryReactor* StartScavenge(
      grpc::CallbackServerContext* ctx,
      const ::event_store::client::operations::StartScavengeReq* req,
      ::event_store::client::operations::ScavengeResp* resp) override;
  grpc::ServerUnaryReactor* StopScavenge(
      grpc::CallbackServerContext* ctx,
      const ::event_store::client::operations::StopScavengeReq* req,
      ::event_store::client::operations::ScavengeResp* resp) override;
  grpc::ServerUnaryReactor* Shutdown(grpc::CallbackServerContext* ctx,
                                     const ::event_store::client::Empty* req,
                                     ::event_store::client::Empty* resp) override;

  // Stops a running scavenge and waits for its thread (the server stopping).
  void StopAndJoin();

 private:
  Store* const store_;
  Security* const security_;
  JsonLog* const log_;
  const std::function<void()> shutdown_;
  std::mutex mu_;           // guards the fields below
  std::string running_id_;  // "" when no scavenge runs
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace cairn::server
