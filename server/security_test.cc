// A secure server (TLS with the --dev certificate, Basic authentication,
// ACLs) over a real store and loopback, driven by gRPC's C++ client: who
// may do what, and the exact status and trailers of each refusal.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "operations.grpc.pb.h"
#include "server/dev_cert.h"
#include "server/server.h"
#include "src/base/testing.h"
#include "streams.grpc.pb.h"
#include "users.grpc.pb.h"

namespace cairn::server {
namespace {

namespace ws = ::event_store::client::streams;
namespace wu = ::event_store::client::users;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Basic(const std::string& user, const std::string& password) {
  const std::string plain = user + ":" + password;
  std::string out(sodium_base64_ENCODED_LEN(plain.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(plain.data()),
                    plain.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return "Basic " + out;
}

struct Outcome {
  grpc::Status status;
  std::map<std::string, std::string> trailers;
  std::vector<ws::ReadResp> messages;
};

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenStore(dir_.Sub("db"));
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
    auto cert = EnsureDevCertificate(dir_.Sub("db"));
    ASSERT_TRUE(cert) << cert.error().ToString();
    ServerOptions o;
    o.port = 0;
    o.http_port = -1;
    o.cert_file = cert->cert_file;
    o.key_file = cert->key_file;
    o.ca_file = cert->ca_file;
    o.password_hash_ops = 1;  // libsodium's minimum: the tests check behaviour, not cost
    o.password_hash_memory = 8192;
    log_file_ = std::tmpfile();
    log_ = std::make_unique<JsonLog>(log_file_);
    auto server = Server::Start(store_.get(), o, log_.get());
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Slurp(cert->ca_file);
    // 127.0.0.1 with the certificate's name "localhost": no DNS lookup
    // (gRPC's c-ares resolver leaks 10 bytes per process, which ASan's
    // leak check reports).
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    channel_ = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server_->port()),
                                         grpc::SslCredentials(ssl), args);
    streams_ = ws::Streams::NewStub(channel_);
    users_ = wu::Users::NewStub(channel_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::milliseconds(100));
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
    }
    if (log_file_) std::fclose(log_file_);
  }

  static void As(grpc::ClientContext* ctx, const std::string& user, const std::string& password) {
    if (!user.empty()) ctx->AddMetadata("authorization", Basic(user, password));
  }
  static std::map<std::string, std::string> Trailers(const grpc::ClientContext& ctx) {
    std::map<std::string, std::string> t;
    for (const auto& [k, v] : ctx.GetServerTrailingMetadata()) {
      t[std::string(k.data(), k.size())] = std::string(v.data(), v.size());
    }
    return t;
  }

  Outcome Append(const std::string& user, const std::string& password, const std::string& stream,
                 const std::string& type = "E", const std::string& data = "{}") {
    grpc::ClientContext ctx;
    As(&ctx, user, password);
    ws::AppendResp resp;
    auto writer = streams_->Append(&ctx, &resp);
    ws::AppendReq req;
    req.mutable_options()->mutable_stream_identifier()->set_stream_name(stream);
    req.mutable_options()->mutable_any();
    writer->Write(req);
    ws::AppendReq ev;
    auto* m = ev.mutable_proposed_message();
    m->mutable_id()->set_string(Uuid::Random().ToString());
    (*m->mutable_metadata())["type"] = type;
    (*m->mutable_metadata())["content-type"] = "application/json";
    m->set_data(data);
    writer->Write(ev);
    writer->WritesDone();
    Outcome o;
    o.status = writer->Finish();
    if (o.status.ok() && !resp.has_success())
      o.status = grpc::Status(grpc::StatusCode::ABORTED, "");
    o.trailers = Trailers(ctx);
    return o;
  }

  Outcome Read(const std::string& user, const std::string& password, const std::string& stream) {
    grpc::ClientContext ctx;
    As(&ctx, user, password);
    ws::ReadReq req;
    auto* o = req.mutable_options();
    if (stream == "$all") {
      o->mutable_all()->mutable_start();
    } else {
      o->mutable_stream()->mutable_stream_identifier()->set_stream_name(stream);
      o->mutable_stream()->mutable_start();
    }
    o->set_count(100);
    o->mutable_no_filter();
    o->mutable_uuid_option()->mutable_string();
    auto reader = streams_->Read(&ctx, req);
    Outcome out;
    ws::ReadResp m;
    while (reader->Read(&m)) out.messages.push_back(m);
    out.status = reader->Finish();
    out.trailers = Trailers(ctx);
    return out;
  }

  grpc::Status CreateUser(const std::string& as, const std::string& as_password,
                          const std::string& login, const std::string& password,
                          std::vector<std::string> groups = {},
                          std::map<std::string, std::string>* trailers = nullptr) {
    grpc::ClientContext ctx;
    As(&ctx, as, as_password);
    wu::CreateReq req;
    req.mutable_options()->set_login_name(login);
    req.mutable_options()->set_password(password);
    req.mutable_options()->set_full_name(login + " test");
    for (auto& g : groups) req.mutable_options()->add_groups(g);
    wu::CreateResp resp;
    grpc::Status s = users_->Create(&ctx, req, &resp);
    if (trailers) *trailers = Trailers(ctx);
    return s;
  }

  static void ExpectDenied(const Outcome& o, const std::string& what) {
    EXPECT_EQ(o.status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << what;
    auto it = o.trailers.find("exception");
    ASSERT_NE(it, o.trailers.end()) << what;
    EXPECT_EQ(it->second, "access-denied") << what;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::FILE* log_file_ = nullptr;
  std::unique_ptr<JsonLog> log_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ws::Streams::Stub> streams_;
  std::unique_ptr<wu::Users::Stub> users_;
};

TEST_F(SecurityTest, AFreshStoreBeginsWithTheDefaultUsers) {
  auto all = Read("admin", "changeit", "$all");
  ASSERT_TRUE(all.status.ok()) << all.status.error_message();
  std::vector<std::string> got;
  for (const auto& m : all.messages) {
    got.push_back(m.event().event().stream_identifier().stream_name() + "/" +
                  m.event().event().metadata().at("type"));
  }
  const std::vector<std::string> want = {"$user-admin/$User", "$users/$UserCreated",
                                         "$user-ops/$User", "$users/$UserCreated"};
  EXPECT_EQ(got, want);
  // The stored user holds an Argon2id hash, never the password.
  const std::string data = all.messages[0].event().event().data();
  EXPECT_NE(data.find("\"hash\":\"$argon2id$"), std::string::npos) << data;
  EXPECT_EQ(data.find("changeit"), std::string::npos);
}

TEST_F(SecurityTest, WrongCredentialsAreUnauthenticatedAndAnonymousIsDenied) {
  auto wrong = Append("admin", "wrong", "orders-1");
  EXPECT_EQ(wrong.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(wrong.trailers.count("exception"), 0u);
  auto unknown = Read("nobody", "x", "orders-1");
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ExpectDenied(Append("", "", "orders-1"), "anonymous append");
  ExpectDenied(Read("", "", "orders-1"), "anonymous read");
  auto read = Read("admin", "changeit", "orders-1");
  ASSERT_EQ(read.messages.size(), 1u);  // nothing was written by the refused calls
  EXPECT_TRUE(read.messages[0].has_stream_not_found());
}

// Each kind of user x each operation x the ACLs that apply.
TEST_F(SecurityTest, TheAccessMatrix) {
  ASSERT_TRUE(CreateUser("admin", "changeit", "alice", "a-pass").ok());
  ASSERT_TRUE(CreateUser("admin", "changeit", "bob", "b-pass").ok());
  // A stream only alice may read and write, set through its metadata.
  ASSERT_TRUE(Append("admin", "changeit", "$$secret", "$metadata",
                     R"({"$acl":{"$r":"alice","$w":["alice"],"$d":"$admins"}})")
                  .status.ok());
  struct Row {
    std::string user, password;
    bool plain_rw;   // a stream without ACL (default: every authenticated user)
    bool secret_rw;  // "secret"
    bool system_w;   // "$settings" (default: $admins)
    bool all_read;   // $all (a system stream: $admins)
  };
  const Row rows[] = {
      {"admin", "changeit", true, true, true, true},
      {"ops", "changeit", true, false, false, false},
      {"alice", "a-pass", true, true, false, false},
      {"bob", "b-pass", true, false, false, false},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.user);
    const std::string plain = "plain-" + r.user;
    auto w = Append(r.user, r.password, plain);
    EXPECT_EQ(w.status.ok(), r.plain_rw) << w.status.error_message();
    auto rd = Read(r.user, r.password, plain);
    EXPECT_EQ(rd.status.ok(), r.plain_rw);
    auto sw = Append(r.user, r.password, "secret");
    auto sr = Read(r.user, r.password, "secret");
    if (r.secret_rw) {
      EXPECT_TRUE(sw.status.ok()) << sw.status.error_message();
      EXPECT_TRUE(sr.status.ok());
    } else {
      ExpectDenied(sw, "write secret");
      ExpectDenied(sr, "read secret");
    }
    auto settings = Append(r.user, r.password, "$settings", "$settings", "{}");
    if (r.system_w) {
      EXPECT_TRUE(settings.status.ok()) << settings.status.error_message();
    } else {
      ExpectDenied(settings, "write $settings");
    }
    auto all = Read(r.user, r.password, "$all");
    if (r.all_read) {
      EXPECT_TRUE(all.status.ok());
    } else {
      ExpectDenied(all, "read $all");
    }
  }
  // Alice may not delete her stream ("$d": $admins), the admin may.
  grpc::ClientContext ctx;
  As(&ctx, "alice", "a-pass");
  ws::DeleteReq del;
  del.mutable_options()->mutable_stream_identifier()->set_stream_name("secret");
  del.mutable_options()->mutable_any();
  ws::DeleteResp dresp;
  grpc::Status d = streams_->Delete(&ctx, del, &dresp);
  EXPECT_EQ(d.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Trailers(ctx)["exception"], "access-denied");
}

TEST_F(SecurityTest, UsersAreManagedByAdminsWithKurrentDbsErrors) {
  std::map<std::string, std::string> t;
  ASSERT_TRUE(CreateUser("admin", "changeit", "carol", "c1").ok());
  grpc::Status s = CreateUser("admin", "changeit", "carol", "c1", {}, &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(t["exception"], "user-conflict");
  EXPECT_EQ(t["login-name"], "carol");
  s = CreateUser("carol", "c1", "dave", "d1", {}, &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(t["exception"], "access-denied");

  {  // carol changes her own password; the old one stops working
    grpc::ClientContext ctx;
    As(&ctx, "carol", "c1");
    wu::ChangePasswordReq req;
    req.mutable_options()->set_login_name("carol");
    req.mutable_options()->set_current_password("c1");
    req.mutable_options()->set_new_password("c2");
    wu::ChangePasswordResp resp;
    ASSERT_TRUE(users_->ChangePassword(&ctx, req, &resp).ok());
  }
  EXPECT_EQ(Append("carol", "c1", "c-1").status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Append("carol", "c2", "c-1").status.ok());

  {  // disabled: her credentials stop working
    grpc::ClientContext ctx;
    As(&ctx, "admin", "changeit");
    wu::DisableReq req;
    req.mutable_options()->set_login_name("carol");
    wu::DisableResp resp;
    ASSERT_TRUE(users_->Disable(&ctx, req, &resp).ok());
  }
  EXPECT_EQ(Append("carol", "c2", "c-1").status.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  {  // details of everyone, sorted by login
    grpc::ClientContext ctx;
    As(&ctx, "admin", "changeit");
    wu::DetailsReq req;
    auto reader = users_->Details(&ctx, req);
    wu::DetailsResp r;
    std::vector<std::string> logins;
    bool carol_disabled = false;
    while (reader->Read(&r)) {
      logins.push_back(r.user_details().login_name());
      if (r.user_details().login_name() == "carol") carol_disabled = r.user_details().disabled();
    }
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_EQ(logins, (std::vector<std::string>{"admin", "carol", "ops"}));
    EXPECT_TRUE(carol_disabled);
  }
  {  // deleting a user that does not exist
    grpc::ClientContext ctx;
    As(&ctx, "admin", "changeit");
    wu::DeleteReq req;
    req.mutable_options()->set_login_name("zed");
    wu::DeleteResp resp;
    s = users_->Delete(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    t = Trailers(ctx);
    EXPECT_EQ(t["exception"], "user-not-found");
    EXPECT_EQ(t["login-name"], "zed");
  }
}

TEST_F(SecurityTest, OperationsNeedOpsOrAdmins) {
  ASSERT_TRUE(CreateUser("admin", "changeit", "frank", "f1").ok());
  auto ops = ::event_store::client::operations::Operations::NewStub(channel_);
  for (const auto& [user, password, allowed] :
       {std::tuple<std::string, std::string, bool>{"frank", "f1", false},
        {"ops", "changeit", true}}) {
    grpc::ClientContext ctx;
    As(&ctx, user, password);
    ::event_store::client::operations::StopScavengeReq req;
    req.mutable_options()->set_scavenge_id("none");
    ::event_store::client::operations::ScavengeResp resp;
    grpc::Status s = ops->StopScavenge(&ctx, req, &resp);
    // Allowed: the id is unknown (NOT_FOUND); refused: PERMISSION_DENIED.
    EXPECT_EQ(s.error_code(),
              allowed ? grpc::StatusCode::NOT_FOUND : grpc::StatusCode::PERMISSION_DENIED)
        << user;
    EXPECT_EQ(Trailers(ctx)["exception"], allowed ? "scavenge-not-found" : "access-denied");
  }
}

TEST_F(SecurityTest, UsersSurviveARestartOfTheServer) {
  ASSERT_TRUE(CreateUser("admin", "changeit", "erin", "e1", {"$admins"}).ok());
  TearDown();
  server_.reset();
  store_.reset();
  SetUp();  // the same directory: users are read back from their streams
  EXPECT_TRUE(Read("erin", "e1", "$all").status.ok());  // an admin through her group
  // The defaults are written once: $all holds them once.
  auto all = Read("admin", "changeit", "$all");
  int created = 0;
  for (const auto& m : all.messages) {
    if (m.event().event().metadata().at("type") == "$UserCreated") ++created;
  }
  EXPECT_EQ(created, 3);
}

}  // namespace
}  // namespace cairn::server
