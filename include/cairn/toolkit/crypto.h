#pragma once
// Crypto-shredding: personal data inside events is sealed under a key of its
// data subject (a person, a customer id); the keys live in a KeyVault kept
// apart from the event store. Forgetting a subject erases its key: every
// event sealed for it stays in the (immutable) log, but its personal fields
// can never be opened again. Token format: docs/format/personal-data.md.
//
//   CAIRN_ASSIGN_OR_RETURN(auto vault, toolkit::SqliteKeyVault::Open("keys.db"));
//   toolkit::PersonalDataCipher cipher(vault.get());
//   CAIRN_ASSIGN_OR_RETURN(std::string email, cipher.Seal("user-42", "a@b.c"));
//   // ... store `email` (a JSON-safe string) in an event ...
//   CAIRN_ASSIGN_OR_RETURN(auto opened, cipher.Open("user-42", email));
//   if (!opened) { /* forgotten: render as redacted */ }
//
// Thread safety: everything here is safe to call concurrently from any
// thread (KeyVault implementations must be too).
#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cairn/env.h"
#include "cairn/status.h"

namespace cairn::toolkit {

// A data subject's 256-bit key.
using SubjectKey = std::array<uint8_t, 32>;

// Longest data subject, in bytes.
inline constexpr size_t kMaxSubjectBytes = 256;

// OK when `subject` is a valid data subject: non-empty, at most
// kMaxSubjectBytes bytes, valid UTF-8. Otherwise kInvalidArgument naming the
// problem ("data subject is empty", "data subject has 300 bytes, more than
// 256", "data subject is not valid UTF-8 (byte 3)").
[[nodiscard]] Status ValidateSubject(std::string_view subject);

// The message of the kSubjectErased an erased subject gets from
// GetOrCreate (and so from PersonalDataCipher::Seal):
// "data subject '<subject>' was erased".
std::string ErasedSubjectMessage(std::string_view subject);

// Where the per-subject keys live. A subject's life: no key -> key (created
// by GetOrCreate) -> erased (Erase). Erased is final: an erased subject never
// gets a key again, so nothing new can be sealed for a forgotten person.
// Every method first validates the subject (ValidateSubject) and fails with
// its kInvalidArgument.
// Thread safety: implementations must be safe to call concurrently.
class KeyVault {
 public:
  virtual ~KeyVault() = default;

  // The subject's key; nullopt when it has none (never created, or erased).
  virtual Result<std::optional<SubjectKey>> Get(std::string_view subject) = 0;
  // The subject's key, creating a random one first if it has none. A created
  // key is durable before it is returned (so nothing is ever sealed under a
  // key a crash could lose). kSubjectErased with ErasedSubjectMessage()
  // for an erased subject.
  virtual Result<SubjectKey> GetOrCreate(std::string_view subject) = 0;
  // Whether the subject was erased.
  virtual Result<bool> IsErased(std::string_view subject) = 0;
  // Erases the subject: its key material is deleted durably and the subject
  // is recorded as erased. Idempotent; OK also when it never had a key. On
  // failure the subject may or may not be erased: retry.
  [[nodiscard]] virtual Status Erase(std::string_view subject) = 0;
};

struct SqliteKeyVaultOptions {
  // Clock of the created/erased timestamps. nullptr: Env::Default(). File
  // I/O is SQLite's own (its VFS), not the Env's. Must outlive the vault.
  Env* env = nullptr;
};

// The default KeyVault: one SQLite database file holding a table
// keys(subject TEXT PRIMARY KEY, key BLOB NULL, created_ns, erased_ns); an
// erased subject keeps its row with key NULL.
// Durability: rollback journal (journal_mode=DELETE) and synchronous=FULL,
// so every create and erase is fsynced before it returns. Erasure really
// removes the key bytes from the files: secure_delete=ON overwrites the freed
// bytes in the database page, and the journal (which briefly holds the old
// page) is deleted at commit. Bytes the file system itself freed (deleted
// journals, SSD remapping) are beyond what a file format can scrub: put the
// vault on an encrypted volume when that matters.
// The file is created with mode 0600. Several processes may open the same
// file (SQLite's file locks; a busy writer is waited for up to 5 s, then
// kLocked).
// Thread safety: safe to call concurrently; calls are serialised by a mutex.
class SqliteKeyVault : public KeyVault {
 public:
  // Opens the vault at `path`, creating the file and its table if missing.
  // kInvalidArgument when the file is another SQLite database (not a key
  // vault), kCorruption when it is not SQLite at all or damaged,
  // kFailedPrecondition when it was written by a newer version, kIOError (or
  // kNoSpace) when the file cannot be opened or created.
  static Result<std::unique_ptr<SqliteKeyVault>> Open(const std::string& path,
                                                      const SqliteKeyVaultOptions& options = {});
  ~SqliteKeyVault() override;
  SqliteKeyVault(const SqliteKeyVault&) = delete;
  SqliteKeyVault& operator=(const SqliteKeyVault&) = delete;

  Result<std::optional<SubjectKey>> Get(std::string_view subject) override;
  Result<SubjectKey> GetOrCreate(std::string_view subject) override;
  Result<bool> IsErased(std::string_view subject) override;
  [[nodiscard]] Status Erase(std::string_view subject) override;

  const std::string& path() const { return path_; }

 private:
  struct Db;  // the SQLite handle (toolkit/src/crypto.cc)
  SqliteKeyVault(std::string path, Env* env, std::unique_ptr<Db> db);

  const std::string path_;
  Env* const env_;
  std::mutex mu_;
  std::unique_ptr<Db> db_;  // guarded by mu_
};

struct PersonalDataCipherOptions {
  // How many subjects' keys are kept in memory (least recently used are
  // dropped first). 0 disables the cache: every call asks the vault.
  size_t key_cache_entries = 1024;
};

// Seals and opens personal data with the keys of a KeyVault.
// Seal: XChaCha20-Poly1305 (IETF) under the subject's key, a fresh random
// 192-bit nonce per call, the subject bound as associated data; the result is
// a token "cairn:v1:" + base64url(nonce || ciphertext || tag), without
// padding, safe inside a JSON string (docs/format/personal-data.md).
// Keys are cached; Forget() through this cipher drops the subject's key from
// the cache before it returns. A subject erased some other way (another
// cipher, another process) stays openable here until its key leaves this
// cache: erase through one cipher per vault, or set key_cache_entries = 0.
// Thread safety: safe to call concurrently; the cache has its own mutex,
// never held while the vault is called.
class PersonalDataCipher {
 public:
  // `vault` must outlive the cipher.
  explicit PersonalDataCipher(KeyVault* vault, PersonalDataCipherOptions options = {});
  ~PersonalDataCipher();
  PersonalDataCipher(const PersonalDataCipher&) = delete;
  PersonalDataCipher& operator=(const PersonalDataCipher&) = delete;

  // Seals `plaintext` for `subject`, creating its key if needed. Two seals of
  // the same plaintext differ (fresh nonce). kInvalidArgument for an invalid
  // subject, kSubjectErased ("data subject '<s>' was erased") for a
  // forgotten one, or the vault's error.
  Result<std::string> Seal(std::string_view subject, std::string_view plaintext);
  // Opens a token sealed for `subject`. nullopt when the subject has no key
  // (forgotten, or never had one): the data is gone. kCorruption naming the
  // subject when the token is malformed, was sealed for another subject, or
  // fails authentication: garbage is never returned as data.
  // kInvalidArgument for an invalid subject, or the vault's error.
  Result<std::optional<std::string>> Open(std::string_view subject, std::string_view token);
  // Forgets `subject`: erases its key in the vault (KeyVault::Erase) and
  // drops it from the cache. Idempotent. After OK, Open of any token sealed
  // for it returns nullopt and Seal fails with kSubjectErased.
  [[nodiscard]] Status Forget(std::string_view subject);

 private:
  // The subject's key from the cache, or from the vault (`create`:
  // GetOrCreate, else Get), then cached.
  Result<std::optional<SubjectKey>> KeyOf(std::string_view subject, bool create);
  void CacheInsert(const std::string& subject, const SubjectKey& key, uint64_t epoch);
  void CacheDrop(const std::string& subject);

  KeyVault* const vault_;
  const PersonalDataCipherOptions options_;
  std::mutex mu_;
  // Most recently used first. Guarded by mu_.
  std::list<std::pair<std::string, SubjectKey>> lru_;
  // subject -> its node in lru_. Guarded by mu_.
  std::unordered_map<std::string_view, std::list<std::pair<std::string, SubjectKey>>::iterator>
      index_;
  // +1 at every Forget; a key fetched from the vault before a Forget is not
  // cached after it. Guarded by mu_.
  uint64_t forget_epoch_ = 0;
};

}  // namespace cairn::toolkit
