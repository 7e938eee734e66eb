#pragma once
// The v1 Users service (event_store.client.users.Users) over Security:
// create, update, delete, disable, enable, details (one message per user),
// change and reset password. Errors as KurrentDB sends them: NOT_FOUND
// exception=user-not-found, FAILED_PRECONDITION exception=user-conflict,
// DEADLINE_EXCEEDED exception=user-conflict (a concurrent change: retry),
// each with login-name; PERMISSION_DENIED exception=access-denied.

#include "server/security.h"
#include "users.grpc.pb.h"

namespace cairn::server {

class UsersService final : public ::event_store::client::users::Users::CallbackService {
 public:
  explicit UsersService(Security* security) : security_(security) {}

  using Ctx = grpc::CallbackServerContext;
  grpc::ServerUnaryReactor* Create(Ctx* ctx, const ::event_store::client::users::CreateReq* req,
                                   ::event_store::client::users::CreateResp*) override;
  grpc::ServerUnaryReactor* Update(Ctx* ctx, const ::event_store::client::users::UpdateReq* req,
                                   ::event_store::client::users::UpdateResp*) override;
  grpc::ServerUnaryReactor* Delete(Ctx* ctx, const ::event_store::client::users::DeleteReq* req,
                                   ::event_store::client::users::DeleteResp*) override;
  grpc::ServerUnaryReactor* Disable(Ctx* ctx, const ::event_store::client::users::DisableReq* req,
                                    ::event_store::client::users::DisableResp*) override;
  grpc::ServerUnaryReactor* Enable(Ctx* ctx, const ::event_store::client::users::EnableReq* req,
                                   ::event_store::client::users::EnableResp*) override;
  grpc::ServerWriteReactor<::event_store::client::users::DetailsResp>* Details(
      Ctx* ctx, const ::event_store::client::users::DetailsReq* req) override;
  grpc::ServerUnaryReactor* ChangePassword(
      Ctx* ctx, const ::event_store::client::users::ChangePasswordReq* req,
      ::event_store::client::users::ChangePasswordResp*) override;
  grpc::ServerUnaryReactor* ResetPassword(
      Ctx* ctx, const ::event_store::client::users::ResetPasswordReq* req,
      ::event_store::client::users::ResetPasswordResp*) override;

 private:
  Security* const security_;
};

}  // namespace cairn::server
