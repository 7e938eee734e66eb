#include "server/operations_service.h"

#include "cairn/admin.h"
#include "server/convert.h"

namespace cairn::server {
namespace {

namespace wo = ::event_store::client::operations;

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const grpc::Status& s) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(s);
  return reactor;
}

Status RequireOps(Security* security, const grpc::ServerContextBase& ctx) {
  CAIRN_ASSIGN_OR_RETURN(Principal who, security->Authenticate(ctx));
  if (!who.ops()) {
    return Status(ErrorCode::kPermissionDenied, "access denied: operations need $ops or $admins");
  }
  return Status::OK();
}

}  // namespace

grpc::ServerUnaryReactor* OperationsService::StartScavenge(grpc::CallbackServerContext* ctx,
                                                           const wo::StartScavengeReq*,
                                                           wo::ScavengeResp* resp) {
  if (Status s = RequireOps(security_, *ctx); !s.ok()) return Done(ctx, ErrorToGrpc(s, {}, ctx));
  StoreAdmin* admin = AdminOf(store_);
  if (admin == nullptr) {
    return Done(ctx, grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "this store has no scavenge"));
  }
  std::lock_guard l(mu_);
  if (!running_id_.empty()) {
    resp->set_scavenge_id(running_id_);
    resp->set_scavenge_result(wo::ScavengeResp::InProgress);
    return Done(ctx, grpc::Status::OK);
  }
  if (thread_.joinable()) thread_.join();  // the last one, finished
  running_id_ = Uuid::Random().ToString();
  stop_.store(false);
  const std::string id = running_id_;
  thread_ = std::thread([this, admin, id] {
    ScavengeOptions o;
    o.stop = &stop_;
    log_->Info("scavenge_started", {{"scavenge_id", id}});
    auto r = admin->Scavenge(o);
    if (r) {
      log_->Info("scavenge_done", {{"scavenge_id", id},
                                   {"events_removed", r->events_removed},
                                   {"log_bytes_before", r->log_bytes_before},
                                   {"log_bytes_after", r->log_bytes_after}});
    } else {
      log_->Warn("scavenge_ended", {{"scavenge_id", id},
                                    {"error", ErrorCodeName(r.error().code())},
                                    {"message", r.error().message()}});
    }
    std::lock_guard done(mu_);
    running_id_.clear();
  });
  resp->set_scavenge_id(id);
  resp->set_scavenge_result(wo::ScavengeResp::Started);
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* OperationsService::StopScavenge(grpc::CallbackServerContext* ctx,
                                                          const wo::StopScavengeReq* req,
                                                          wo::ScavengeResp* resp) {
  if (Status s = RequireOps(security_, *ctx); !s.ok()) return Done(ctx, ErrorToGrpc(s, {}, ctx));
  const std::string& id = req->options().scavenge_id();
  std::lock_guard l(mu_);
  if (running_id_.empty() || id != running_id_) {
    ctx->AddTrailingMetadata("exception", "scavenge-not-found");
    ctx->AddTrailingMetadata("scavenge-id", TrailerValue(id));
    return Done(ctx, grpc::Status(grpc::StatusCode::NOT_FOUND,
                                  "no running scavenge has the id '" + id + "'"));
  }
  stop_.store(true);
  resp->set_scavenge_id(id);
  resp->set_scavenge_result(wo::ScavengeResp::Stopped);
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* OperationsService::Shutdown(grpc::CallbackServerContext* ctx,
                                                      const ::event_store::client::Empty*,
                                                      ::event_store::client::Empty*) {
  if (Status s = RequireOps(security_, *ctx); !s.ok()) return Done(ctx, ErrorToGrpc(s, {}, ctx));
  log_->Info("shutdown_requested", {});
  auto* reactor = Done(ctx, grpc::Status::OK);
  if (shutdown_) shutdown_();
  return reactor;
}

void OperationsService::StopAndJoin() {
  std::thread t;
  {
    std::lock_guard l(mu_);
    stop_.store(true);
    t = std::move(thread_);
  }
  if (t.joinable()) t.join();
}

}  // namespace cairn::server
