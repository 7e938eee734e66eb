#pragma once
// Security: who a call is (Basic authentication against users kept in the
// store) and what it may do (stream ACLs). docs/server.md, "Security".
//
// Users live in system streams, as KurrentDB keeps them: "$user-<login>"
// holds a user's states (type "$User", JSON: loginName, fullName, groups,
// disabled, hash — an Argon2id string from libsodium), the last one
// current, or "$UserDeleted"; "$users" lists every login ever created
// (type "$UserCreated", data: the login). A store without "$users" gets the
// default users on the server's first start: `admin` (group $admins) and
// `ops` (group $ops), password "changeit" unless the options say
// otherwise. Those are the first events of a fresh server's $all.
//
// Authorization: members of $admins may do everything. Otherwise a stream
// operation is checked against the stream's ACL, "$acl" in its metadata
// ("$r", "$w", "$d", "$mr", "$mw": a user or group name, or a list of
// them; "$all" means every authenticated user), or when the stream has
// none the default of "$settings" ("$userStreamAcl" or
// "$systemStreamAcl"), or when that has none the built-in default: every
// authenticated user for user streams, $admins for '$' streams. Anonymous
// callers (no credentials) have no stream access at all (PERMISSION_DENIED)
// unless the server runs with --insecure, where every call may do
// everything. A "$$<stream>" metadata stream is checked with <stream>'s
// "$mr" / "$mw".
//
// Thread safety: every method may be called from any thread.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cairn/store.h"

namespace cairn::server {

struct Principal {
  std::string name;  // "" for anonymous; "$system" in insecure mode
  std::vector<std::string> groups;
  bool authenticated = false;
  bool system = false;  // insecure mode: every right

  bool InGroup(std::string_view group) const;
  bool admin() const { return system || InGroup("$admins"); }
  bool ops() const { return admin() || InGroup("$ops"); }
};

enum class StreamAccess { kRead, kWrite, kDelete, kMetaRead, kMetaWrite };

struct UserDetails {
  std::string login;
  std::string full_name;
  std::vector<std::string> groups;
  bool disabled = false;
  int64_t updated_ns = 0;  // when its last state was written
};

struct SecurityOptions {
  bool insecure = false;
  std::string default_admin_password = "changeit";
  std::string default_ops_password = "changeit";
  // Argon2id cost (libsodium's crypto_pwhash_*): interactive by default.
  uint64_t hash_ops = 0;   // 0: crypto_pwhash_OPSLIMIT_INTERACTIVE
  size_t hash_memory = 0;  // 0: crypto_pwhash_MEMLIMIT_INTERACTIVE
};

class Security {
 public:
  // Loads the users, creating the default ones in a store that has none
  // (not in insecure mode, which needs none).
  static Result<std::unique_ptr<Security>> Open(Store* store, const SecurityOptions& options);

  // The caller of `ctx`: from `authorization: Basic base64(user:password)`;
  // anonymous without one (or with one that does not decode);
  // kUnauthenticated for an unknown user, a wrong password or a disabled
  // user. Insecure mode: always the system principal.
  Result<Principal> Authenticate(const grpc::ServerContextBase& ctx);

  // OK, or kPermissionDenied naming the right the caller lacks on `stream`.
  Status Authorize(const Principal& who, StreamAccess access, std::string_view stream);

  // The Users service. Every one needs $admins, but ChangePassword (the
  // user itself, knowing its current password) and Details of oneself.
  // kNotFound for a missing user; kFailedPrecondition for a conflict (a
  // login that exists); kInvalidArgument for an empty login or password.
  Status CreateUser(const Principal& who, const std::string& login, const std::string& full_name,
                    const std::vector<std::string>& groups, const std::string& password);
  Status UpdateUser(const Principal& who, const std::string& login, const std::string& full_name,
                    const std::vector<std::string>& groups, const std::string& password);
  Status DeleteUser(const Principal& who, const std::string& login);
  Status SetDisabled(const Principal& who, const std::string& login, bool disabled);
  Status ChangePassword(const Principal& who, const std::string& login,
                        const std::string& current_password, const std::string& new_password);
  Status ResetPassword(const Principal& who, const std::string& login,
                       const std::string& new_password);
  // One user, or every user when `login` is empty.
  Result<std::vector<UserDetails>> Details(const Principal& who, const std::string& login);

  // Authenticate, then Authorize `access` on `stream`: what a stream call
  // checks first. Sets *who when given.
  Status Check(const grpc::ServerContextBase& ctx, StreamAccess access, std::string_view stream,
               Principal* who = nullptr);

  bool insecure() const { return options_.insecure; }

 private:
  struct User {
    UserDetails details;
    std::string hash;       // Argon2id string
    uint64_t revision = 0;  // of its last event in "$user-<login>"
  };
  Security(Store* store, SecurityOptions options) : store_(store), options_(std::move(options)) {}
  Status Load();
  Status CreateDefaults();
  Result<std::string> Hash(const std::string& password) const;
  // Writes `user`'s new state (or its deletion) to "$user-<login>".
  Status WriteUser(const User& user, bool deleted, std::optional<uint64_t> expected_revision);
  Status RequireAdmin(const Principal& who, const char* what) const;
  // Reads `login`'s current state, applies `change`, writes the result (or
  // the user's deletion) and reloads the users.
  Status Change(const std::string& login, bool deleted, const std::function<Status(User*)>& change);
  // The roles `acl_key` of the ACL that applies to `stream`.
  Result<std::vector<std::string>> RolesFor(std::string_view stream, const char* acl_key);

  Store* const store_;
  const SecurityOptions options_;
  std::mutex mu_;  // guards the fields below
  std::unordered_map<std::string, User> users_;
  // Verified credentials: key (a keyed hash of "user:password") -> login.
  // Cleared whenever a user changes.
  std::unordered_map<std::string, std::string> verified_;
};

}  // namespace cairn::server
