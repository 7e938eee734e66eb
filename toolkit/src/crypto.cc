// Crypto-shredding (include/cairn/toolkit/crypto.h): the SQLite key vault and
// the XChaCha20-Poly1305 cipher of personal data (docs/format/personal-data.md).
//
// Locks: SqliteKeyVault::mu_ and PersonalDataCipher::mu_ are never held
// together (the cipher releases its lock before calling the vault).
#include "cairn/toolkit/crypto.h"

#include <sodium.h>
#include <sqlite3.h>

#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

namespace cairn::toolkit {
namespace {

constexpr std::string_view kTokenPrefix = "cairn:v1:";
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;  // 24
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;       // 16
constexpr int kBase64Variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == sizeof(SubjectKey));

// PRAGMA application_id of a key vault ("CRKV") and the schema version.
constexpr int32_t kVaultApplicationId = 0x43524B56;
constexpr int kVaultVersion = 1;
constexpr int kBusyTimeoutMs = 5000;

// libsodium is initialised once per process.
Status SodiumReady() {
  static const int rc = sodium_init();  // 0: done now, 1: done before
  if (rc < 0) return Status(ErrorCode::kFailedPrecondition, "libsodium failed to initialise");
  return Status::OK();
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid
// (overlong forms, surrogates and code points past U+10FFFF are invalid).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  const uint8_t c = b(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

std::string Quoted(std::string_view subject) {
  return "data subject '" + std::string(subject) + "'";
}

}  // namespace

Status ValidateSubject(std::string_view subject) {
  if (subject.empty()) return Status::InvalidArgument("data subject is empty");
  if (subject.size() > kMaxSubjectBytes) {
    return Status::InvalidArgument("data subject has " + std::to_string(subject.size()) +
                                   " bytes, more than " + std::to_string(kMaxSubjectBytes));
  }
  for (size_t i = 0; i < subject.size();) {
    const size_t n = Utf8SequenceLength(subject, i);
    if (n == 0) {
      return Status::InvalidArgument("data subject is not valid UTF-8 (byte " + std::to_string(i) +
                                     ")");
    }
    i += n;
  }
  return Status::OK();
}

std::string ErasedSubjectMessage(std::string_view subject) {
  return Quoted(subject) + " was erased";
}

// ---------------------------------------------------------------------------
// SqliteKeyVault

struct SqliteKeyVault::Db {
  sqlite3* handle = nullptr;
  ~Db() { sqlite3_close_v2(handle); }
};

namespace {

// A prepared statement, finalized when it goes out of scope.
class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt** out() { return &stmt_; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Maps an SQLite result code to a Status naming the vault and the operation.
Status SqliteError(sqlite3* db, int rc, const std::string& path, std::string_view op) {
  ErrorCode code = ErrorCode::kIOError;
  switch (rc & 0xFF) {
    case SQLITE_FULL:
      code = ErrorCode::kNoSpace;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = ErrorCode::kCorruption;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = ErrorCode::kLocked;
      break;
    case SQLITE_READONLY:
      code = ErrorCode::kReadOnly;
      break;
    default:
      break;
  }
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Status(code, "key vault '" + path + "': " + std::string(op) + ": " + detail);
}

Status Exec(sqlite3* db, const std::string& path, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, path, sql);
  return Status::OK();
}

Status Prepare(sqlite3* db, const std::string& path, std::string_view sql, Stmt* stmt) {
  const int rc =
      sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), stmt->out(), nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, path, sql);
  return Status::OK();
}

// Runs a statement that yields one row of one column (a PRAGMA) as text.
Result<std::string> QueryText(sqlite3* db, const std::string& path, std::string_view sql) {
  Stmt stmt;
  CAIRN_RETURN_IF_ERROR(Prepare(db, path, sql, &stmt));
  const int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) {
    return SqliteError(db, rc == SQLITE_DONE ? SQLITE_ERROR : rc, path, sql);
  }
  const unsigned char* text = sqlite3_column_text(stmt.get(), 0);
  return std::string(text != nullptr ? reinterpret_cast<const char*>(text) : "");
}

Result<int64_t> QueryInt(sqlite3* db, const std::string& path, std::string_view sql) {
  Stmt stmt;
  CAIRN_RETURN_IF_ERROR(Prepare(db, path, sql, &stmt));
  const int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) {
    return SqliteError(db, rc == SQLITE_DONE ? SQLITE_ERROR : rc, path, sql);
  }
  return sqlite3_column_int64(stmt.get(), 0);
}

// Creates the schema of a new vault or checks that of an existing one.
// Runs in a write transaction so two processes creating one vault agree.
Status InitSchema(sqlite3* db, const std::string& path) {
  CAIRN_RETURN_IF_ERROR(Exec(db, path, "BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(const int64_t app_id, QueryInt(db, path, "PRAGMA application_id"));
    CAIRN_ASSIGN_OR_RETURN(const int64_t version, QueryInt(db, path, "PRAGMA user_version"));
    if (app_id == 0 && version == 0) {
      CAIRN_ASSIGN_OR_RETURN(const int64_t objects,
                             QueryInt(db, path, "SELECT count(*) FROM sqlite_schema"));
      if (objects != 0) {
        return Status::InvalidArgument("'" + path + "' is an SQLite database but not a key vault");
      }
      CAIRN_RETURN_IF_ERROR(Exec(db, path,
                                 "CREATE TABLE keys("
                                 "subject TEXT PRIMARY KEY NOT NULL, key BLOB, "
                                 "created_ns INTEGER, erased_ns INTEGER)"));
      CAIRN_RETURN_IF_ERROR(Exec(
          db, path, ("PRAGMA application_id = " + std::to_string(kVaultApplicationId)).c_str()));
      return Exec(db, path, ("PRAGMA user_version = " + std::to_string(kVaultVersion)).c_str());
    }
    if (app_id != kVaultApplicationId) {
      return Status::InvalidArgument("'" + path + "' is an SQLite database but not a key vault");
    }
    if (version > kVaultVersion) {
      return Status(ErrorCode::kFailedPrecondition,
                    "key vault '" + path + "' has version " + std::to_string(version) +
                        ", newer than this build reads (" + std::to_string(kVaultVersion) + ")");
    }
    return Status::OK();
  };
  Status s = body();
  if (!s.ok()) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  }
  return Exec(db, path, "COMMIT");
}

}  // namespace

SqliteKeyVault::SqliteKeyVault(std::string path, Env* env, std::unique_ptr<Db> db)
    : path_(std::move(path)), env_(env), db_(std::move(db)) {}

SqliteKeyVault::~SqliteKeyVault() = default;

Result<std::unique_ptr<SqliteKeyVault>> SqliteKeyVault::Open(const std::string& path,
                                                             const SqliteKeyVaultOptions& options) {
  CAIRN_RETURN_IF_ERROR(SodiumReady());
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  auto db = std::make_unique<Db>();
  // NOMUTEX: the vault's own mutex serialises every use of the handle.
  const int rc =
      sqlite3_open_v2(path.c_str(), &db->handle,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db->handle, rc, path, "open");
  sqlite3* h = db->handle;
  sqlite3_extended_result_codes(h, 1);
  if (!existed) {
    // Journals SQLite creates later take the database file's mode.
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
        std::filesystem::perm_options::replace, ec);
    if (ec) return Status::IOError("key vault '" + path + "': chmod 0600: " + ec.message());
  }
  sqlite3_busy_timeout(h, kBusyTimeoutMs);
  CAIRN_ASSIGN_OR_RETURN(const int64_t secure, QueryInt(h, path, "PRAGMA secure_delete = ON"));
  CAIRN_ASSIGN_OR_RETURN(const std::string journal,
                         QueryText(h, path, "PRAGMA journal_mode = DELETE"));
  if (secure != 1 || journal != "delete") {
    return Status(
        ErrorCode::kFailedPrecondition,
        "key vault '" + path + "': SQLite refused secure_delete=ON or journal_mode=DELETE");
  }
  CAIRN_RETURN_IF_ERROR(Exec(h, path, "PRAGMA synchronous = FULL"));
  CAIRN_RETURN_IF_ERROR(InitSchema(h, path));
  Env* env = options.env != nullptr ? options.env : Env::Default();
  return std::unique_ptr<SqliteKeyVault>(new SqliteKeyVault(path, env, std::move(db)));
}

namespace {

// One subject's row: whether it exists, its key if any, whether erased.
struct Row {
  bool found = false;
  std::optional<SubjectKey> key;
  bool erased = false;
};

Result<Row> ReadRow(sqlite3* db, const std::string& path, std::string_view subject) {
  Stmt stmt;
  CAIRN_RETURN_IF_ERROR(
      Prepare(db, path, "SELECT key, erased_ns IS NOT NULL FROM keys WHERE subject = ?", &stmt));
  sqlite3_bind_text(stmt.get(), 1, subject.data(), static_cast<int>(subject.size()), SQLITE_STATIC);
  const int rc = sqlite3_step(stmt.get());
  Row row;
  if (rc == SQLITE_DONE) return row;
  if (rc != SQLITE_ROW) return SqliteError(db, rc, path, "read key");
  row.found = true;
  row.erased = sqlite3_column_int(stmt.get(), 1) != 0;
  if (sqlite3_column_type(stmt.get(), 0) != SQLITE_NULL) {
    const void* blob = sqlite3_column_blob(stmt.get(), 0);
    const int n = sqlite3_column_bytes(stmt.get(), 0);
    if (n != static_cast<int>(sizeof(SubjectKey)) || blob == nullptr) {
      return Status::Corruption("key vault '" + path + "': key of " + Quoted(subject) + " has " +
                                std::to_string(n) + " bytes, expected 32");
    }
    SubjectKey key;
    std::memcpy(key.data(), blob, key.size());
    row.key = key;
  }
  if (row.erased && row.key) {
    return Status::Corruption("key vault '" + path + "': " + Quoted(subject) +
                              " is erased but still has a key");
  }
  return row;
}

}  // namespace

Result<std::optional<SubjectKey>> SqliteKeyVault::Get(std::string_view subject) {
  CAIRN_RETURN_IF_ERROR(ValidateSubject(subject));
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(Row row, ReadRow(db_->handle, path_, subject));
  return row.key;
}

Result<bool> SqliteKeyVault::IsErased(std::string_view subject) {
  CAIRN_RETURN_IF_ERROR(ValidateSubject(subject));
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(Row row, ReadRow(db_->handle, path_, subject));
  return row.erased;
}

Result<SubjectKey> SqliteKeyVault::GetOrCreate(std::string_view subject) {
  CAIRN_RETURN_IF_ERROR(ValidateSubject(subject));
  std::lock_guard lock(mu_);
  sqlite3* db = db_->handle;
  {
    // Usually the key exists: a read, no write lock on the file.
    CAIRN_ASSIGN_OR_RETURN(Row row, ReadRow(db, path_, subject));
    if (row.erased) return Status(ErrorCode::kSubjectErased, ErasedSubjectMessage(subject));
    if (row.key) return *row.key;
  }
  // Create under the file's write lock; another process may have won.
  CAIRN_RETURN_IF_ERROR(Exec(db, path_, "BEGIN IMMEDIATE"));
  auto body = [&]() -> Result<SubjectKey> {
    CAIRN_ASSIGN_OR_RETURN(Row row, ReadRow(db, path_, subject));
    if (row.erased) return Status(ErrorCode::kSubjectErased, ErasedSubjectMessage(subject));
    if (row.key) return *row.key;
    SubjectKey key;
    randombytes_buf(key.data(), key.size());
    Stmt stmt;
    CAIRN_RETURN_IF_ERROR(Prepare(db, path_,
                                  "INSERT OR REPLACE INTO keys(subject, key, created_ns, erased_ns)"
                                  " VALUES(?, ?, ?, NULL)",
                                  &stmt));
    sqlite3_bind_text(stmt.get(), 1, subject.data(), static_cast<int>(subject.size()),
                      SQLITE_STATIC);
    sqlite3_bind_blob(stmt.get(), 2, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_int64(stmt.get(), 3, env_->NowNanos());
    const int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_DONE) return SqliteError(db, rc, path_, "create key");
    return key;
  };
  Result<SubjectKey> key = body();
  if (!key.has_value()) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return key;
  }
  // COMMIT fsyncs journal and database (synchronous=FULL): durable on OK.
  if (Status s = Exec(db, path_, "COMMIT"); !s.ok()) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sodium_memzero(key->data(), key->size());
    return s;
  }
  return key;
}

Status SqliteKeyVault::Erase(std::string_view subject) {
  CAIRN_RETURN_IF_ERROR(ValidateSubject(subject));
  std::lock_guard lock(mu_);
  sqlite3* db = db_->handle;
  // One autocommit statement: durable at return (synchronous=FULL); the old
  // cell is zeroed in its page (secure_delete) and the journal that held the
  // old page is deleted at commit.
  Stmt stmt;
  CAIRN_RETURN_IF_ERROR(
      Prepare(db, path_,
              "INSERT INTO keys(subject, key, created_ns, erased_ns) VALUES(?, NULL, NULL, ?) "
              "ON CONFLICT(subject) DO UPDATE SET key = NULL, erased_ns = excluded.erased_ns "
              "WHERE erased_ns IS NULL OR key IS NOT NULL",
              &stmt));
  sqlite3_bind_text(stmt.get(), 1, subject.data(), static_cast<int>(subject.size()), SQLITE_STATIC);
  sqlite3_bind_int64(stmt.get(), 2, env_->NowNanos());
  const int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_DONE) return SqliteError(db, rc, path_, "erase key");
  return Status::OK();
}

// ---------------------------------------------------------------------------
// PersonalDataCipher

PersonalDataCipher::PersonalDataCipher(KeyVault* vault, PersonalDataCipherOptions options)
    : vault_(vault), options_(options) {}

PersonalDataCipher::~PersonalDataCipher() {
  for (auto& [subject, key] : lru_) sodium_memzero(key.data(), key.size());
}

Result<std::optional<SubjectKey>> PersonalDataCipher::KeyOf(std::string_view subject, bool create) {
  uint64_t epoch;
  {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(subject); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return std::optional<SubjectKey>(it->second->second);
    }
    epoch = forget_epoch_;
  }
  std::optional<SubjectKey> key;
  if (create) {
    CAIRN_ASSIGN_OR_RETURN(key, vault_->GetOrCreate(subject));
  } else {
    CAIRN_ASSIGN_OR_RETURN(key, vault_->Get(subject));
  }
  if (key) CacheInsert(std::string(subject), *key, epoch);
  return key;
}

void PersonalDataCipher::CacheInsert(const std::string& subject, const SubjectKey& key,
                                     uint64_t epoch) {
  if (options_.key_cache_entries == 0) return;
  std::lock_guard lock(mu_);
  // A Forget since the key was fetched may have erased it: do not cache.
  if (epoch != forget_epoch_ || index_.contains(subject)) return;
  lru_.emplace_front(subject, key);
  index_.emplace(lru_.front().first, lru_.begin());
  while (lru_.size() > options_.key_cache_entries) {
    auto& last = lru_.back();
    index_.erase(last.first);
    sodium_memzero(last.second.data(), last.second.size());
    lru_.pop_back();
  }
}

void PersonalDataCipher::CacheDrop(const std::string& subject) {
  std::lock_guard lock(mu_);
  ++forget_epoch_;
  auto it = index_.find(subject);
  if (it == index_.end()) return;
  auto node = it->second;
  index_.erase(it);
  sodium_memzero(node->second.data(), node->second.size());
  lru_.erase(node);
}

Result<std::string> PersonalDataCipher::Seal(std::string_view subject, std::string_view plaintext) {
  CAIRN_RETURN_IF_ERROR(ValidateSubject(subject));
  CAIRN_RETURN_IF_ERROR(SodiumReady());
  CAIRN_ASSIGN_OR_RETURN(std::optional<SubjectKey> key, KeyOf(subject, /*create=*/true));
  const std::string ad = std::string(kTokenPrefix) + std::string(subject);
  std::string raw(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  randombytes_buf(out, kNonceBytes);
  unsigned long long sealed_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out + kNonceBytes, &sealed_len, reinterpret_cast<const unsigned char*>(plaintext.data()),
      plaintext.size(), reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, out,
      key->data());
  sodium_memzero(key->data(), key->size());
  std::string token(kTokenPrefix);
  const size_t b64_len = sodium_base64_ENCODED_LEN(raw.size(), kBase64Variant);
  const size_t prefix = token.size();
  token.resize(prefix + b64_len);
  sodium_bin2base64(token.data() + prefix, b64_len, out, raw.size(), kBase64Variant);
  token.resize(prefix + b64_len - 1);  // drop the NUL terminator
  return token;
}

Result<std::optional<std::string>> PersonalDataCipher::Open(std::string_view subject,
                                                            std::string_view token) {
  CAIRN_RETURN_IF_ERROR(ValidateSubject(subject));
  CAIRN_RETURN_IF_ERROR(SodiumReady());
  const auto corrupt = [&](const std::string& problem) {
    return Status::Corruption(Quoted(subject) + ": " + problem);
  };
  // The token is checked before the key is looked up: malformed is
  // malformed whether or not the subject was forgotten.
  if (!token.starts_with(kTokenPrefix)) {
    if (token.starts_with("cairn:v")) {
      const size_t end = token.find(':', 6);
      const std::string version(token.substr(6, end == std::string_view::npos ? 0 : end - 6));
      if (end != std::string_view::npos && !version.empty() && version.size() <= 8) {
        return corrupt("token version '" + version + "' is not supported (expected 'v1')");
      }
    }
    return corrupt("token does not start with '" + std::string(kTokenPrefix) + "'");
  }
  const std::string_view b64 = token.substr(kTokenPrefix.size());
  std::string raw(b64.size() * 3 / 4 + 1, '\0');
  size_t raw_len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), b64.data(),
                        b64.size(), nullptr, &raw_len, nullptr, kBase64Variant) != 0) {
    return corrupt("token is not unpadded base64url");
  }
  if (raw_len < kNonceBytes + kTagBytes) {
    return corrupt("token is too short (" + std::to_string(raw_len) + " bytes, at least " +
                   std::to_string(kNonceBytes + kTagBytes) + ")");
  }
  CAIRN_ASSIGN_OR_RETURN(std::optional<SubjectKey> key, KeyOf(subject, /*create=*/false));
  if (!key) return std::optional<std::string>();  // forgotten
  const std::string ad = std::string(kTokenPrefix) + std::string(subject);
  const auto* in = reinterpret_cast<const unsigned char*>(raw.data());
  std::string plaintext(raw_len - kNonceBytes - kTagBytes, '\0');
  unsigned long long plain_len = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      reinterpret_cast<unsigned char*>(plaintext.data()), &plain_len, nullptr, in + kNonceBytes,
      raw_len - kNonceBytes, reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), in,
      key->data());
  sodium_memzero(key->data(), key->size());
  if (rc != 0) {
    return corrupt("token fails authentication (damaged, or sealed for another subject or key)");
  }
  return std::optional<std::string>(std::move(plaintext));
}

Status PersonalDataCipher::Forget(std::string_view subject) {
  CAIRN_RETURN_IF_ERROR(ValidateSubject(subject));
  Status s = vault_->Erase(subject);
  // Dropped even when Erase failed: the key may be half erased.
  CacheDrop(std::string(subject));
  return s;
}

}  // namespace cairn::toolkit
