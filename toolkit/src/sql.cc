// toolkit::Sql over SQLite (include/cairn/toolkit/projection.h, sql.h).
// Statements are cached by their text (bounded LRU) because a projection
// handler runs the same few statements for every event.
#include "toolkit/src/sql.h"

#include <cerrno>
#include <cstring>

namespace cairn::toolkit {
namespace {

constexpr size_t kCacheStatements = 128;

// Statement text for messages: long statements are cut.
std::string Shown(std::string_view sql) {
  constexpr size_t kMax = 160;
  if (sql.size() <= kMax) return std::string(sql);
  return std::string(sql.substr(0, kMax)) + "...";
}

bool Blank(const char* p, const char* end) {
  for (; p < end; ++p) {
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ';') return false;
  }
  return true;
}

ErrorCode CodeOf(int rc) {
  switch (rc & 0xff) {
    case SQLITE_ERROR:
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_AUTH:
    case SQLITE_TOOBIG:
    case SQLITE_MISUSE:
      return ErrorCode::kInvalidArgument;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorCode::kLocked;
    case SQLITE_READONLY:
      return ErrorCode::kReadOnly;
    case SQLITE_FULL:
      return ErrorCode::kNoSpace;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return ErrorCode::kCorruption;
    case SQLITE_NOMEM:
      return ErrorCode::kResourceExhausted;
    default:  // SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_PROTOCOL, ...
      return ErrorCode::kIOError;
  }
}

}  // namespace

Result<std::unique_ptr<Sql>> Sql::Open(const std::string& path, const SqlOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(auto sql, SqliteSql::OpenSqlite(path, options));
  return std::unique_ptr<Sql>(std::move(sql));
}

Result<std::unique_ptr<SqliteSql>> SqliteSql::OpenSqlite(const std::string& path,
                                                         const SqlOptions& options) {
  if (path.empty()) return Status::InvalidArgument("sql: empty database path");
  int flags = options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (!options.read_only && options.create_if_missing) flags |= SQLITE_OPEN_CREATE;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    const int err = db != nullptr ? sqlite3_system_errno(db) : 0;
    std::string msg = "sqlite: cannot open '" + path +
                      "': " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    if (err != 0) msg += std::string(" (") + std::strerror(err) + ")";
    sqlite3_close_v2(db);
    if ((rc & 0xff) == SQLITE_CANTOPEN && err == ENOENT) {
      return Status::NotFound(std::move(msg));
    }
    return Status(CodeOf(rc), std::move(msg));
  }
  sqlite3_extended_result_codes(db, 1);
  std::unique_ptr<SqliteSql> sql(new SqliteSql(db, path));
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
  sqlite3_set_authorizer(db, &SqliteSql::Authorize, sql.get());
  if (!options.read_only) {
    // WAL: readers keep a snapshot while the runner commits. FULL: the WAL
    // is fsynced at every commit, so a committed batch survives power loss.
    CAIRN_ASSIGN_OR_RETURN(auto mode, sql->Query("PRAGMA journal_mode=WAL"));
    const std::string* m =
        mode.size() == 1 && mode[0].size() == 1 ? std::get_if<std::string>(&mode[0][0]) : nullptr;
    if (m == nullptr || (*m != "wal" && *m != "memory")) {
      return Status::IOError("sqlite: '" + path + "' could not be switched to WAL mode");
    }
    CAIRN_RETURN_IF_ERROR(sql->Exec("PRAGMA synchronous=FULL"));
  }
  // The first statement reads the schema: a file that is not a database
  // fails here (kCorruption) rather than in the first handler.
  CAIRN_RETURN_IF_ERROR(sql->Query("SELECT count(*) FROM sqlite_schema").status());
  return sql;
}

SqliteSql::~SqliteSql() {
  cache_.clear();
  lru_.clear();  // finalizes every cached statement before the close
  sqlite3_close_v2(db_);
}

int SqliteSql::Authorize(void* self, int action, const char*, const char*, const char*,
                         const char*) {
  const bool guarded = static_cast<SqliteSql*>(self)->guard_;
  if (guarded && (action == SQLITE_TRANSACTION || action == SQLITE_SAVEPOINT)) {
    return SQLITE_DENY;
  }
  return SQLITE_OK;
}

bool SqliteSql::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

int64_t SqliteSql::changes() const { return sqlite3_changes64(db_); }

Status SqliteSql::Error(int rc, std::string_view sql) const {
  std::string msg = sqlite3_errmsg(db_);
  if ((rc & 0xff) == SQLITE_AUTH && guard_) {
    msg =
        "transaction statements are not allowed in a projection handler (the runner owns "
        "the transaction)";
  }
  return Status(CodeOf(rc), "sqlite '" + path_ + "': " + msg + " in '" + Shown(sql) + "'");
}

Result<sqlite3_stmt*> SqliteSql::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    lru_.splice(lru_.end(), lru_, it->second);  // most recently used
    return it->second->second.get();
  }
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, &tail);
  Stmt stmt(raw);
  if (rc != SQLITE_OK) return Error(rc, sql);
  if (stmt == nullptr)
    return Status::InvalidArgument("sqlite: no statement in '" + Shown(sql) + "'");
  if (!Blank(tail, sql.data() + sql.size())) {
    return Status::InvalidArgument("sqlite: more than one statement in '" + Shown(sql) +
                                   "' (only allowed in Exec without parameters)");
  }
  if (lru_.size() >= kCacheStatements) {
    cache_.erase(lru_.front().first);
    lru_.pop_front();
  }
  lru_.emplace_back(std::string(sql), std::move(stmt));
  auto node = std::prev(lru_.end());
  cache_.emplace(node->first, node);
  return node->second.get();
}

Status SqliteSql::Bind(sqlite3_stmt* stmt, std::string_view sql,
                       const std::vector<SqlValue>& params) {
  const int want = sqlite3_bind_parameter_count(stmt);
  if (want != static_cast<int>(params.size())) {
    return Status::InvalidArgument("sqlite: '" + Shown(sql) + "' takes " + std::to_string(want) +
                                   " parameters, got " + std::to_string(params.size()));
  }
  for (int i = 0; i < want; ++i) {
    const SqlValue& v = params[i];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(v)) {
      rc = sqlite3_bind_null(stmt, i + 1);
    } else if (const int64_t* n = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, i + 1, *n);
    } else if (const double* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(stmt, i + 1, *d);
    } else {
      const std::string& s = std::get<std::string>(v);
      rc = sqlite3_bind_text64(stmt, i + 1, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    }
    if (rc != SQLITE_OK) return Error(rc, sql);
  }
  return Status::OK();
}

Status SqliteSql::Run(sqlite3_stmt* stmt, std::string_view sql, std::vector<SqlRow>* rows) {
  for (;;) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      Status s = Error(rc, sql);
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
      return s;
    }
    if (rows == nullptr) continue;
    SqlRow& row = rows->emplace_back();
    const int n = sqlite3_column_count(stmt);
    row.reserve(n);
    for (int c = 0; c < n; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER:
          row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_FLOAT:
          row.emplace_back(sqlite3_column_double(stmt, c));
          break;
        case SQLITE_NULL:
          row.emplace_back(std::monostate());
          break;
        default: {  // TEXT, BLOB
          const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, c));
          row.emplace_back(std::string(p == nullptr ? "" : p,
                                       static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
        }
      }
    }
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return Status::OK();
}

Status SqliteSql::Exec(std::string_view sql, const std::vector<SqlValue>& params) {
  if (!params.empty() || cache_.contains(sql)) {
    CAIRN_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    CAIRN_RETURN_IF_ERROR(Bind(stmt, sql, params));
    return Run(stmt, sql, nullptr);
  }
  // Without parameters: every statement of the text, in order. A single
  // statement goes through the cache like any other.
  const char* p = sql.data();
  const char* end = sql.data() + sql.size();
  bool first = true;
  while (!Blank(p, end)) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v2(db_, p, static_cast<int>(end - p), &raw, &tail);
    Stmt stmt(raw);
    if (rc != SQLITE_OK) return Error(rc, std::string_view(p, end - p));
    if (stmt == nullptr) break;  // only comments left
    const std::string_view one(p, tail - p);
    if (first && Blank(tail, end)) {
      // One statement: cache it.
      stmt.reset();
      CAIRN_ASSIGN_OR_RETURN(sqlite3_stmt * cached, Prepare(sql));
      return Run(cached, sql, nullptr);
    }
    CAIRN_RETURN_IF_ERROR(Run(stmt.get(), one, nullptr));
    first = false;
    p = tail;
  }
  return Status::OK();
}

Status SqliteSql::Control(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  Stmt stmt(raw);
  if (rc != SQLITE_OK) return Error(rc, sql);
  return Run(stmt.get(), sql, nullptr);
}

Result<std::vector<SqlRow>> SqliteSql::Query(std::string_view sql,
                                             const std::vector<SqlValue>& params) {
  CAIRN_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
  CAIRN_RETURN_IF_ERROR(Bind(stmt, sql, params));
  std::vector<SqlRow> rows;
  CAIRN_RETURN_IF_ERROR(Run(stmt, sql, &rows));
  return rows;
}

}  // namespace cairn::toolkit
