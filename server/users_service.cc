#include "server/users_service.h"

#include <deque>
#include <functional>
#include <string>

#include "server/convert.h"

namespace cairn::server {
namespace {

namespace wu = ::event_store::client::users;

// A user operation's error with KurrentDB's trailers.
grpc::Status UserError(const Status& s, const std::string& login, grpc::ServerContextBase* ctx) {
  switch (s.code()) {
    case ErrorCode::kNotFound:
      ctx->AddTrailingMetadata("exception", "user-not-found");
      ctx->AddTrailingMetadata("login-name", TrailerValue(login));
      return grpc::Status(grpc::StatusCode::NOT_FOUND, s.message());
    case ErrorCode::kFailedPrecondition:
      ctx->AddTrailingMetadata("exception", "user-conflict");
      ctx->AddTrailingMetadata("login-name", TrailerValue(login));
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, s.message());
    case ErrorCode::kDeadlineExceeded:
      ctx->AddTrailingMetadata("exception", "user-conflict");
      ctx->AddTrailingMetadata("login-name", TrailerValue(login));
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, s.message());
    default:
      return ErrorToGrpc(s, {}, ctx);
  }
}

// Authenticates, runs `op` and finishes the call with its outcome.
grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* ctx, Security* security,
                              const std::string& login,
                              const std::function<Status(const Principal&)>& op) {
  auto* reactor = ctx->DefaultReactor();
  auto who = security->Authenticate(*ctx);
  Status s = who ? op(*who) : who.error();
  reactor->Finish(s.ok() ? grpc::Status::OK : UserError(s, login, ctx));
  return reactor;
}

std::vector<std::string> Groups(const google::protobuf::RepeatedPtrField<std::string>& g) {
  return {g.begin(), g.end()};
}

// Details: the users, one message each.
class DetailsReactor final : public grpc::ServerWriteReactor<wu::DetailsResp> {
 public:
  DetailsReactor(grpc::CallbackServerContext* ctx, Security* security, const std::string& login) {
    auto who = security->Authenticate(*ctx);
    auto users =
        who ? security->Details(*who, login) : Result<std::vector<UserDetails>>(who.error());
    if (!users) {
      Finish(UserError(users.error(), login, ctx));
      return;
    }
    for (const UserDetails& u : *users) {
      auto* d = queue_.emplace_back().mutable_user_details();
      d->set_login_name(u.login);
      d->set_full_name(u.full_name);
      for (const auto& g : u.groups) d->add_groups(g);
      d->mutable_last_updated()->set_ticks_since_epoch(u.updated_ns / 100);
      d->set_disabled(u.disabled);
    }
    Next();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    queue_.pop_front();
    Next();
  }
  void OnDone() override { delete this; }

 private:
  void Next() {
    if (queue_.empty()) {
      Finish(grpc::Status::OK);
    } else {
      StartWrite(&queue_.front());
    }
  }
  std::deque<wu::DetailsResp> queue_;
};

}  // namespace

grpc::ServerUnaryReactor* UsersService::Create(Ctx* ctx, const wu::CreateReq* req,
                                               wu::CreateResp*) {
  const auto& o = req->options();
  return Run(ctx, security_, o.login_name(), [&](const Principal& who) {
    return security_->CreateUser(who, o.login_name(), o.full_name(), Groups(o.groups()),
                                 o.password());
  });
}

grpc::ServerUnaryReactor* UsersService::Update(Ctx* ctx, const wu::UpdateReq* req,
                                               wu::UpdateResp*) {
  const auto& o = req->options();
  return Run(ctx, security_, o.login_name(), [&](const Principal& who) {
    return security_->UpdateUser(who, o.login_name(), o.full_name(), Groups(o.groups()),
                                 o.password());
  });
}

grpc::ServerUnaryReactor* UsersService::Delete(Ctx* ctx, const wu::DeleteReq* req,
                                               wu::DeleteResp*) {
  const auto& o = req->options();
  return Run(ctx, security_, o.login_name(),
             [&](const Principal& who) { return security_->DeleteUser(who, o.login_name()); });
}

grpc::ServerUnaryReactor* UsersService::Disable(Ctx* ctx, const wu::DisableReq* req,
                                                wu::DisableResp*) {
  const auto& o = req->options();
  return Run(ctx, security_, o.login_name(), [&](const Principal& who) {
    return security_->SetDisabled(who, o.login_name(), true);
  });
}

grpc::ServerUnaryReactor* UsersService::Enable(Ctx* ctx, const wu::EnableReq* req,
                                               wu::EnableResp*) {
  const auto& o = req->options();
  return Run(ctx, security_, o.login_name(), [&](const Principal& who) {
    return security_->SetDisabled(who, o.login_name(), false);
  });
}

grpc::ServerWriteReactor<wu::DetailsResp>* UsersService::Details(Ctx* ctx,
                                                                 const wu::DetailsReq* req) {
  return new DetailsReactor(ctx, security_, req->options().login_name());
}

grpc::ServerUnaryReactor* UsersService::ChangePassword(Ctx* ctx, const wu::ChangePasswordReq* req,
                                                       wu::ChangePasswordResp*) {
  const auto& o = req->options();
  return Run(ctx, security_, o.login_name(), [&](const Principal& who) {
    return security_->ChangePassword(who, o.login_name(), o.current_password(), o.new_password());
  });
}

grpc::ServerUnaryReactor* UsersService::ResetPassword(Ctx* ctx, const wu::ResetPasswordReq* req,
                                                      wu::ResetPasswordResp*) {
  const auto& o = req->options();
  return Run(ctx, security_, o.login_name(), [&](const Principal& who) {
    return security_->ResetPassword(who, o.login_name(), o.new_password());
  });
}

}  // namespace cairn::server
