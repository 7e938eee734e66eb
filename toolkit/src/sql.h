#pragma once
// SqliteSql: the SQLite connection behind toolkit::Sql (projection.h), with
// the two extras the projection runner needs: a guard that refuses
// transaction statements while a projection handler runs, and the state of
// the connection's transaction. Internal to the toolkit.
// Thread safety: as Sql, one thread at a time.
#include <sqlite3.h>

#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cairn/toolkit/projection.h"

namespace cairn::toolkit {

class SqliteSql final : public Sql {
 public:
  static Result<std::unique_ptr<SqliteSql>> OpenSqlite(const std::string& path,
                                                       const SqlOptions& options);
  ~SqliteSql() override;

  Status Exec(std::string_view sql, const std::vector<SqlValue>& params = {}) override;
  Result<std::vector<SqlRow>> Query(std::string_view sql,
                                    const std::vector<SqlValue>& params = {}) override;
  int64_t changes() const override;

  // While set, BEGIN / COMMIT / ROLLBACK / SAVEPOINT / RELEASE fail to
  // prepare (kInvalidArgument): handlers run inside the runner's transaction.
  // The guard is checked when a statement is prepared, so the runner's own
  // transaction statements go through Control, never through the cache.
  void set_handler_guard(bool on) { guard_ = on; }
  // Runs one transaction statement (BEGIN, COMMIT, ROLLBACK, SAVEPOINT ...)
  // without caching it. Only with the guard off.
  Status Control(std::string_view sql);
  // True inside an explicit transaction (SQLite may end one by itself after
  // an I/O error or a full disk).
  bool in_transaction() const;

 private:
  struct StmtDeleter {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

  SqliteSql(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  static int Authorize(void* self, int action, const char*, const char*, const char*, const char*);
  // The error of SQLite result `rc` for statement `sql`.
  Status Error(int rc, std::string_view sql) const;
  // A prepared statement for `sql` (one statement), from the cache.
  Result<sqlite3_stmt*> Prepare(std::string_view sql);
  Status Bind(sqlite3_stmt* stmt, std::string_view sql, const std::vector<SqlValue>& params);
  // Steps `stmt` to the end, appending rows to `rows` when non-null.
  Status Run(sqlite3_stmt* stmt, std::string_view sql, std::vector<SqlRow>* rows);

  sqlite3* const db_;
  const std::string path_;
  bool guard_ = false;
  // Statement cache, least recently used at the front; bounded.
  std::list<std::pair<std::string, Stmt>> lru_;
  std::unordered_map<std::string_view, std::list<std::pair<std::string, Stmt>>::iterator> cache_;
};

}  // namespace cairn::toolkit
