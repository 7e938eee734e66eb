#include "server/security.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>

#include "cairn/admin.h"

namespace cairn::server {
namespace {

using nlohmann::json;

constexpr char kUsersStream[] = "$users";
constexpr char kUserCreated[] = "$UserCreated";
constexpr char kUserType[] = "$User";
constexpr char kUserDeleted[] = "$UserDeleted";
constexpr char kSettingsStream[] = "$settings";

std::string UserStream(const std::string& login) { return "$user-" + login; }

Status PermissionDenied(std::string message) {
  return Status(ErrorCode::kPermissionDenied, std::move(message));
}

EventData JsonEvent(const char* type, const json& data) {
  EventData e;
  e.type = type;
  e.data = data.dump();
  return e;
}

// Roles of one ACL entry: a string or a list of strings.
std::optional<std::vector<std::string>> RolesOf(const json& acl, const char* key) {
  if (!acl.is_object() || !acl.contains(key)) return std::nullopt;
  const json& v = acl[key];
  std::vector<std::string> roles;
  if (v.is_string()) {
    roles.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (const json& r : v) {
      if (r.is_string()) roles.push_back(r.get<std::string>());
    }
  } else {
    return std::nullopt;
  }
  return roles;
}

const char* AclKey(StreamAccess access) {
  switch (access) {
    case StreamAccess::kRead:
      return "$r";
    case StreamAccess::kWrite:
      return "$w";
    case StreamAccess::kDelete:
      return "$d";
    case StreamAccess::kMetaRead:
      return "$mr";
    case StreamAccess::kMetaWrite:
      return "$mw";
  }
  return "$r";
}

// `authorization: Basic base64(user:password)` -> (user, password).
std::optional<std::pair<std::string, std::string>> BasicCredentials(
    const grpc::ServerContextBase& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return std::nullopt;
  const std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view kBasic = "Basic ";
  if (!value.starts_with(kBasic)) return std::nullopt;
  const std::string_view b64 = value.substr(kBasic.size());
  std::string decoded(b64.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                        b64.data(), b64.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  decoded.resize(len);
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded.substr(0, colon), decoded.substr(colon + 1));
}

}  // namespace

bool Principal::InGroup(std::string_view group) const {
  return std::find(groups.begin(), groups.end(), group) != groups.end();
}

Result<std::unique_ptr<Security>> Security::Open(Store* store, const SecurityOptions& options) {
  if (sodium_init() < 0) return Status(ErrorCode::kIOError, "libsodium could not initialise");
  std::unique_ptr<Security> s(new Security(store, options));
  if (options.insecure) return s;
  CAIRN_RETURN_IF_ERROR(s->Load());
  return s;
}

Status Security::Load() {
  std::vector<std::string> logins;
  Status s = store_->ReadStream(kUsersStream, ReadStreamOptions{}, [&](const EventView& e) {
    if (e.type == kUserCreated) {
      std::string login(e.data);
      if (std::find(logins.begin(), logins.end(), login) == logins.end()) logins.push_back(login);
    }
    return true;
  });
  if (s.code() == ErrorCode::kNotFound) return CreateDefaults();
  CAIRN_RETURN_IF_ERROR(s);
  std::unordered_map<std::string, User> users;
  for (const std::string& login : logins) {
    ReadStreamOptions last;
    last.direction = Direction::kBackwards;
    last.max_count = 1;
    std::optional<User> user;
    Status r = store_->ReadStream(UserStream(login), last, [&](const EventView& e) {
      if (e.type != kUserType) return false;  // deleted
      json j = json::parse(e.data, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object()) return false;
      User u;
      u.details.login = j.value("loginName", login);
      u.details.full_name = j.value("fullName", "");
      u.details.groups = j.value("groups", std::vector<std::string>{});
      u.details.disabled = j.value("disabled", false);
      u.details.updated_ns = e.created_ns;
      u.hash = j.value("hash", "");
      u.revision = e.revision.value();
      user = std::move(u);
      return false;
    });
    if (!r.ok() && r.code() != ErrorCode::kNotFound) return r;
    if (user) users[login] = std::move(*user);
  }
  std::lock_guard l(mu_);
  users_ = std::move(users);
  verified_.clear();  // a changed password or group must be checked again
  return Status::OK();
}

Status Security::CreateDefaults() {
  const std::pair<const char*, const std::string*> defaults[] = {
      {"admin", &options_.default_admin_password},
      {"ops", &options_.default_ops_password},
  };
  for (const auto& [login, password] : defaults) {
    User u;
    u.details.login = login;
    u.details.full_name =
        std::string(login) == "admin" ? "KurrentDB Administrator" : "KurrentDB Operations";
    u.details.groups = {std::string(login) == "admin" ? "$admins" : "$ops"};
    CAIRN_ASSIGN_OR_RETURN(u.hash, Hash(*password));
    CAIRN_RETURN_IF_ERROR(WriteUser(u, /*deleted=*/false, std::nullopt));
  }
  return Load();
}

Result<std::string> Security::Hash(const std::string& password) const {
  char out[crypto_pwhash_STRBYTES];
  const uint64_t ops = options_.hash_ops ? options_.hash_ops : crypto_pwhash_OPSLIMIT_INTERACTIVE;
  const size_t mem =
      options_.hash_memory ? options_.hash_memory : crypto_pwhash_MEMLIMIT_INTERACTIVE;
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status(ErrorCode::kResourceExhausted, "hashing a password ran out of memory");
  }
  return std::string(out);
}

Status Security::WriteUser(const User& user, bool deleted,
                           std::optional<uint64_t> expected_revision) {
  StoreAdmin* admin = AdminOf(store_);
  if (admin == nullptr) {
    return Status(ErrorCode::kUnimplemented, "this store cannot keep users (no system streams)");
  }
  json j = {{"loginName", user.details.login},
            {"fullName", user.details.full_name},
            {"groups", user.details.groups},
            {"disabled", user.details.disabled},
            {"hash", user.hash}};
  EventData e = deleted ? JsonEvent(kUserDeleted, json{{"loginName", user.details.login}})
                        : JsonEvent(kUserType, j);
  const ExpectedRevision expected =
      expected_revision ? ExpectedRevision::Exact(StreamRevision(*expected_revision))
                        : ExpectedRevision::NoStream();
  auto r = admin->AppendSystem(UserStream(user.details.login), expected, {&e, 1});
  if (!r) return r.error();
  if (!expected_revision) {
    EventData created;
    created.type = kUserCreated;
    created.content_type = ContentType::kBinary;
    created.data = user.details.login;
    auto c = admin->AppendSystem(kUsersStream, ExpectedRevision::Any(), {&created, 1});
    if (!c) return c.error();
  }
  return Status::OK();
}

Result<Principal> Security::Authenticate(const grpc::ServerContextBase& ctx) {
  Principal p;
  if (options_.insecure) {
    p.name = "$system";
    p.authenticated = true;
    p.system = true;
    return p;
  }
  auto creds = BasicCredentials(ctx);
  if (!creds) return p;  // anonymous
  const auto& [login, password] = *creds;
  std::string key(crypto_generichash_BYTES, '\0');
  const std::string material = login + '\0' + password;
  crypto_generichash(reinterpret_cast<unsigned char*>(key.data()), key.size(),
                     reinterpret_cast<const unsigned char*>(material.data()), material.size(),
                     nullptr, 0);
  std::string hash;
  {
    std::lock_guard l(mu_);
    auto it = users_.find(login);
    if (it == users_.end() || it->second.details.disabled) {
      return Status(ErrorCode::kUnauthenticated, "bad credentials");
    }
    p.name = login;
    p.groups = it->second.details.groups;
    p.authenticated = true;
    auto v = verified_.find(key);
    if (v != verified_.end() && v->second == login) return p;
    hash = it->second.hash;
  }
  // Argon2id is slow on purpose: verified outside the lock, then cached.
  if (crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) != 0) {
    return Status(ErrorCode::kUnauthenticated, "bad credentials");
  }
  std::lock_guard l(mu_);
  auto it = users_.find(login);
  if (it == users_.end() || it->second.hash != hash) {
    return Status(ErrorCode::kUnauthenticated, "bad credentials");
  }
  verified_[key] = login;
  return p;
}

Result<std::vector<std::string>> Security::RolesFor(std::string_view stream, const char* acl_key) {
  // System streams may have no metadata of their own in this store ($all
  // never does): then the defaults apply.
  auto meta = store_->GetStreamMetadata(stream);
  if (!meta && meta.error().code() == ErrorCode::kInvalidArgument && !stream.empty() &&
      stream[0] == '$') {
    meta = Status::NotFound("no metadata");
  }
  if (meta) {
    json custom = json::parse(meta->metadata.custom, nullptr, false);
    if (custom.is_object() && custom.contains("$acl")) {
      if (auto roles = RolesOf(custom["$acl"], acl_key)) return *roles;
    }
  } else if (meta.error().code() != ErrorCode::kNotFound) {
    return meta.error();
  }
  const bool system = !stream.empty() && stream[0] == '$';
  // Defaults from the last event of $settings.
  ReadStreamOptions last;
  last.direction = Direction::kBackwards;
  last.max_count = 1;
  std::optional<std::vector<std::string>> roles;
  Status s = store_->ReadStream(kSettingsStream, last, [&](const EventView& e) {
    json j = json::parse(e.data, nullptr, false);
    if (j.is_object()) {
      const char* key = system ? "$systemStreamAcl" : "$userStreamAcl";
      if (j.contains(key)) roles = RolesOf(j[key], acl_key);
    }
    return false;
  });
  if (!s.ok() && s.code() != ErrorCode::kNotFound) return s;
  if (roles) return *roles;
  return std::vector<std::string>{system ? "$admins" : "$all"};
}

Status Security::Authorize(const Principal& who, StreamAccess access, std::string_view stream) {
  if (who.admin()) return Status::OK();
  if (!who.authenticated) {
    return PermissionDenied("access denied: anonymous callers have no access to streams");
  }
  std::string_view target = stream;
  if (stream.starts_with("$$")) {
    target = stream.substr(2);
    if (access == StreamAccess::kRead) access = StreamAccess::kMetaRead;
    if (access == StreamAccess::kWrite) access = StreamAccess::kMetaWrite;
  }
  const char* key = AclKey(access);
  CAIRN_ASSIGN_OR_RETURN(auto roles, RolesFor(target, key));
  for (const std::string& role : roles) {
    if (role == "$all" || role == who.name || who.InGroup(role)) return Status::OK();
  }
  return PermissionDenied("access denied: user '" + who.name + "' lacks " + key + " on stream '" +
                          std::string(stream) + "'");
}

Status Security::Check(const grpc::ServerContextBase& ctx, StreamAccess access,
                       std::string_view stream, Principal* who) {
  CAIRN_ASSIGN_OR_RETURN(Principal p, Authenticate(ctx));
  CAIRN_RETURN_IF_ERROR(Authorize(p, access, stream));
  if (who) *who = std::move(p);
  return Status::OK();
}

Status Security::RequireAdmin(const Principal& who, const char* what) const {
  if (who.admin()) return Status::OK();
  return PermissionDenied(std::string("access denied: ") + what + " needs $admins");
}

Status Security::CreateUser(const Principal& who, const std::string& login,
                            const std::string& full_name, const std::vector<std::string>& groups,
                            const std::string& password) {
  CAIRN_RETURN_IF_ERROR(RequireAdmin(who, "creating a user"));
  if (login.empty()) return Status::InvalidArgument("login_name is empty");
  if (password.empty()) return Status::InvalidArgument("password is empty");
  {
    std::lock_guard l(mu_);
    if (users_.count(login)) {
      return Status(ErrorCode::kFailedPrecondition, "user '" + login + "' exists");
    }
  }
  User u;
  u.details = {login, full_name, groups, false, 0};
  CAIRN_ASSIGN_OR_RETURN(u.hash, Hash(password));
  // A login deleted before goes on in its old stream, listed again.
  std::optional<uint64_t> expected;
  auto info = store_->GetStreamInfo(UserStream(login));
  if (info) expected = info->last_revision.value();
  Status s = WriteUser(u, false, expected);
  if (s.code() == ErrorCode::kWrongExpectedRevision) {
    return Status(ErrorCode::kFailedPrecondition, "user '" + login + "' exists");
  }
  CAIRN_RETURN_IF_ERROR(s);
  if (expected) {
    EventData created;
    created.type = kUserCreated;
    created.content_type = ContentType::kBinary;
    created.data = login;
    auto c = AdminOf(store_)->AppendSystem(kUsersStream, ExpectedRevision::Any(), {&created, 1});
    if (!c) return c.error();
  }
  return Load();
}

Status Security::Change(const std::string& login, bool deleted,
                        const std::function<Status(User*)>& change) {
  if (login.empty()) return Status::InvalidArgument("login_name is empty");
  User u;
  {
    std::lock_guard l(mu_);
    auto it = users_.find(login);
    if (it == users_.end()) return Status::NotFound("user '" + login + "' does not exist");
    u = it->second;
  }
  CAIRN_RETURN_IF_ERROR(change(&u));
  Status s = WriteUser(u, deleted, u.revision);
  if (s.code() == ErrorCode::kWrongExpectedRevision) {
    return Status(ErrorCode::kDeadlineExceeded,
                  "user '" + login + "' changed meanwhile; try again");
  }
  CAIRN_RETURN_IF_ERROR(s);
  return Load();
}

Status Security::UpdateUser(const Principal& who, const std::string& login,
                            const std::string& full_name, const std::vector<std::string>& groups,
                            const std::string& password) {
  CAIRN_RETURN_IF_ERROR(RequireAdmin(who, "updating a user"));
  std::string hash;
  if (!password.empty()) {
    CAIRN_ASSIGN_OR_RETURN(hash, Hash(password));
  }
  return Change(login, false, [&](User* u) {
    u->details.full_name = full_name;
    u->details.groups = groups;
    if (!hash.empty()) u->hash = hash;
    return Status::OK();
  });
}

Status Security::DeleteUser(const Principal& who, const std::string& login) {
  CAIRN_RETURN_IF_ERROR(RequireAdmin(who, "deleting a user"));
  return Change(login, true, [](User*) { return Status::OK(); });
}

Status Security::SetDisabled(const Principal& who, const std::string& login, bool disabled) {
  CAIRN_RETURN_IF_ERROR(RequireAdmin(who, disabled ? "disabling a user" : "enabling a user"));
  return Change(login, false, [&](User* u) {
    u->details.disabled = disabled;
    return Status::OK();
  });
}

Status Security::ChangePassword(const Principal& who, const std::string& login,
                                const std::string& current_password,
                                const std::string& new_password) {
  if (!who.admin() && who.name != login) {
    return PermissionDenied("access denied: only the user itself changes its password");
  }
  if (new_password.empty()) return Status::InvalidArgument("new_password is empty");
  CAIRN_ASSIGN_OR_RETURN(std::string hash, Hash(new_password));
  return Change(login, false, [&](User* u) {
    if (crypto_pwhash_str_verify(u->hash.c_str(), current_password.data(),
                                 current_password.size()) != 0) {
      return Status(ErrorCode::kUnauthenticated, "current_password is wrong");
    }
    u->hash = hash;
    return Status::OK();
  });
}

Status Security::ResetPassword(const Principal& who, const std::string& login,
                               const std::string& new_password) {
  CAIRN_RETURN_IF_ERROR(RequireAdmin(who, "resetting a password"));
  if (new_password.empty()) return Status::InvalidArgument("new_password is empty");
  CAIRN_ASSIGN_OR_RETURN(std::string hash, Hash(new_password));
  return Change(login, false, [&](User* u) {
    u->hash = hash;
    return Status::OK();
  });
}

Result<std::vector<UserDetails>> Security::Details(const Principal& who, const std::string& login) {
  if (!who.admin() && (login.empty() || who.name != login)) {
    return PermissionDenied("access denied: user details need $admins (or are one's own)");
  }
  std::lock_guard l(mu_);
  std::vector<UserDetails> out;
  if (!login.empty()) {
    auto it = users_.find(login);
    if (it == users_.end()) return Status::NotFound("user '" + login + "' does not exist");
    out.push_back(it->second.details);
    return out;
  }
  for (const auto& [name, u] : users_) out.push_back(u.details);
  std::sort(out.begin(), out.end(),
            [](const UserDetails& a, const UserDetails& b) { return a.login < b.login; });
  return out;
}

}  // namespace cairn::server
