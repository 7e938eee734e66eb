// SQLite peer (system=sqlite): the same workloads as the engine's, against the
// table a careful user would build for an event store in SQLite:
//   events(position INTEGER PRIMARY KEY, stream TEXT, revision INTEGER,
//          id BLOB, type TEXT, data BLOB, metadata BLOB, created INTEGER,
//          UNIQUE(stream, revision))
// in WAL mode with synchronous=FULL when durable, OFF when not. An append is
// one BEGIN IMMEDIATE transaction: read the stream's max revision, insert the
// events after it, commit.

#include <sqlite3.h>

#include <algorithm>
#include <latch>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bench/workload.h"
#include "cairn/env.h"

namespace cairn::bench {
namespace {

std::string DbPath(const WorkloadContext& ctx) { return ctx.scratch + "/events.db"; }

Status SqliteError(sqlite3* db, std::string_view what) {
  return Status::IOError("sqlite: " + std::string(what) + ": " +
                         (db ? sqlite3_errmsg(db) : "out of memory"));
}

// One connection with its prepared statements. Used by one thread at a time.
class Db {
 public:
  ~Db() {
    for (sqlite3_stmt* s :
         {begin_, commit_, rollback_, max_rev_, insert_, read_stream_, read_all_}) {
      sqlite3_finalize(s);
    }
    sqlite3_close(db_);
  }

  static Result<std::unique_ptr<Db>> Open(const std::string& path, bool durable) {
    auto db = std::unique_ptr<Db>(new Db());
    // The connection is never used by two threads at once (the concurrent
    // workload serializes on its own mutex), so SQLite's mutex is not needed.
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db->db_, flags, nullptr) != SQLITE_OK) {
      return SqliteError(db->db_, "open " + path);
    }
    CAIRN_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
    CAIRN_RETURN_IF_ERROR(db->Exec(durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF"));
    CAIRN_RETURN_IF_ERROR(
        db->Exec("CREATE TABLE IF NOT EXISTS events("
                 "position INTEGER PRIMARY KEY, stream TEXT NOT NULL, revision INTEGER NOT NULL, "
                 "id BLOB NOT NULL, type TEXT NOT NULL, data BLOB, metadata BLOB, "
                 "created INTEGER NOT NULL, UNIQUE(stream, revision))"));
    CAIRN_RETURN_IF_ERROR(db->Prepare("BEGIN IMMEDIATE", &db->begin_));
    CAIRN_RETURN_IF_ERROR(db->Prepare("COMMIT", &db->commit_));
    CAIRN_RETURN_IF_ERROR(db->Prepare("ROLLBACK", &db->rollback_));
    CAIRN_RETURN_IF_ERROR(
        db->Prepare("SELECT max(revision) FROM events WHERE stream = ?1", &db->max_rev_));
    CAIRN_RETURN_IF_ERROR(
        db->Prepare("INSERT INTO events(stream, revision, id, type, data, metadata, created) "
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    &db->insert_));
    CAIRN_RETURN_IF_ERROR(db->Prepare(
        "SELECT position, stream, revision, id, type, data, metadata, created FROM events "
        "WHERE stream = ?1 AND revision >= ?2 ORDER BY revision LIMIT ?3",
        &db->read_stream_));
    CAIRN_RETURN_IF_ERROR(db->Prepare(
        "SELECT position, stream, revision, id, type, data, metadata, created FROM events "
        "WHERE position >= ?1 ORDER BY position LIMIT ?2",
        &db->read_all_));
    return db;
  }

  // Appends `events` after the stream's current last revision, atomically.
  Status Append(std::string_view stream, std::span<const EventData> events) {
    if (Step(begin_) != SQLITE_DONE) return SqliteError(db_, "begin");
    Status s = AppendInTransaction(stream, events);
    if (!s.ok()) {
      Step(rollback_);
      return s;
    }
    if (Step(commit_) != SQLITE_DONE) {
      Status err = SqliteError(db_, "commit");
      Step(rollback_);
      return err;
    }
    return Status::OK();
  }

  // Visits rows of one page: the stream's rows from `revision`, or $all's
  // from `position` (1-based rowid), at most `limit`. `*rows` counts the rows
  // seen, `*last` is the last revision/position, `*bytes` sums the payload.
  Status ReadStreamPage(std::string_view stream, uint64_t revision, uint64_t limit, uint64_t* rows,
                        int64_t* last, uint64_t* bytes) {
    sqlite3_bind_text(read_stream_, 1, stream.data(), static_cast<int>(stream.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(read_stream_, 2, static_cast<sqlite3_int64>(revision));
    sqlite3_bind_int64(read_stream_, 3, static_cast<sqlite3_int64>(limit));
    return VisitRows(read_stream_, 2, rows, last, bytes);
  }
  Status ReadAllPage(uint64_t position, uint64_t limit, uint64_t* rows, int64_t* last,
                     uint64_t* bytes) {
    sqlite3_bind_int64(read_all_, 1, static_cast<sqlite3_int64>(position));
    sqlite3_bind_int64(read_all_, 2, static_cast<sqlite3_int64>(limit));
    return VisitRows(read_all_, 0, rows, last, bytes);
  }

 private:
  Db() = default;

  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = std::string("sqlite: ") + sql + ": " + (err ? err : "?");
      sqlite3_free(err);
      return Status::IOError(msg);
    }
    return Status::OK();
  }

  Status Prepare(const char* sql, sqlite3_stmt** stmt) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) != SQLITE_OK) {
      return SqliteError(db_, std::string("prepare ") + sql);
    }
    return Status::OK();
  }

  static int Step(sqlite3_stmt* stmt) {
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc;
  }

  Status AppendInTransaction(std::string_view stream, std::span<const EventData> events) {
    sqlite3_bind_text(max_rev_, 1, stream.data(), static_cast<int>(stream.size()), SQLITE_STATIC);
    int rc = sqlite3_step(max_rev_);
    int64_t next = 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(max_rev_, 0) != SQLITE_NULL) {
      next = sqlite3_column_int64(max_rev_, 0) + 1;
    }
    sqlite3_reset(max_rev_);
    if (rc != SQLITE_ROW) return SqliteError(db_, "read max revision");

    Env* env = Env::Default();
    for (const EventData& e : events) {
      const Uuid id = e.id ? *e.id : Uuid::Random();
      sqlite3_bind_text(insert_, 1, stream.data(), static_cast<int>(stream.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert_, 2, next++);
      sqlite3_bind_blob(insert_, 3, id.bytes().data(), 16, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert_, 4, e.type.data(), static_cast<int>(e.type.size()), SQLITE_STATIC);
      sqlite3_bind_blob(insert_, 5, e.data.data(), static_cast<int>(e.data.size()), SQLITE_STATIC);
      sqlite3_bind_blob(insert_, 6, e.metadata.data(), static_cast<int>(e.metadata.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(insert_, 7, env->NowNanos());
      if (Step(insert_) != SQLITE_DONE) return SqliteError(db_, "insert");
    }
    return Status::OK();
  }

  // Steps `stmt` to the end, touching every column the engine's EventView
  // exposes; `order_col` is the column checked and reported in `*last`.
  Status VisitRows(sqlite3_stmt* stmt, int order_col, uint64_t* rows, int64_t* last,
                   uint64_t* bytes) {
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      *last = sqlite3_column_int64(stmt, order_col);
      // Blob/text pointers first, then sizes, as the SQLite docs advise.
      sqlite3_column_text(stmt, 1);
      sqlite3_column_blob(stmt, 3);
      sqlite3_column_text(stmt, 4);
      sqlite3_column_blob(stmt, 5);
      sqlite3_column_blob(stmt, 6);
      *bytes += static_cast<uint64_t>(sqlite3_column_bytes(stmt, 1)) +
                static_cast<uint64_t>(sqlite3_column_bytes(stmt, 4)) +
                static_cast<uint64_t>(sqlite3_column_bytes(stmt, 5)) +
                static_cast<uint64_t>(sqlite3_column_bytes(stmt, 6));
      sqlite3_column_int64(stmt, 7);
      ++*rows;
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc != SQLITE_DONE) return SqliteError(db_, "read");
    return Status::OK();
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
  sqlite3_stmt* max_rev_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* read_stream_ = nullptr;
  sqlite3_stmt* read_all_ = nullptr;
};

Measurement NewMeasurement(const WorkloadContext& ctx) {
  Measurement m;
  m.workload = ctx.name;
  m.system = "sqlite";
  m.durable = ctx.durable;
  m.events = ctx.events;
  return m;
}

Status CheckFailed(const WorkloadContext& ctx, const std::string& what) {
  return Status(ErrorCode::kCorruption, "bench check failed in " + ctx.name + " (sqlite): " + what);
}

// Appends `n` events in transactions of `batch`, call i to stream i % streams.
Status WriteBatches(Db& db, uint64_t n, uint64_t batch, uint64_t streams,
                    const std::vector<EventData>& pool, Measurement* m) {
  uint64_t done = 0;
  for (uint64_t call = 0; done < n; ++call) {
    const uint64_t k = std::min(batch, n - done);
    const std::string stream = StreamName(call % streams);
    const int64_t t0 = NowNanos();
    CAIRN_RETURN_IF_ERROR(db.Append(
        stream, std::span<const EventData>(pool.data() + (call * batch) % pool.size(), k)));
    if (m != nullptr) {
      m->latency.Record(NowNanos() - t0);
      for (uint64_t i = 0; i < k; ++i) {
        m->payload_bytes += PayloadBytes(pool[(call * batch) % pool.size() + i], stream);
      }
    }
    done += k;
  }
  return Status::OK();
}

Result<Measurement> TimedAppends(const WorkloadContext& ctx, uint64_t batch) {
  const std::vector<EventData> pool = MakeEventPool(kBatchEvents);
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(DbPath(ctx), ctx.durable));
  Measurement m = NewMeasurement(ctx);
  ResetPeakRss();
  const int64_t start = NowNanos();
  CAIRN_RETURN_IF_ERROR(WriteBatches(*db, ctx.events, batch, kStreamCount, pool, &m));
  m.seconds = static_cast<double>(NowNanos() - start) / 1e9;
  m.SampleRss();
  return m;
}

// Pages through rows 0..expect-1 (of one stream, or of $all when `stream` is
// empty) in pages of `page` rows, checking the order, one latency sample per
// page.
Status ReadPaged(const WorkloadContext& ctx, Db& db, const std::string& stream, uint64_t expect,
                 uint64_t page, Histogram* latency, uint64_t* bytes) {
  // Revisions start at 0; SQLite rowids (positions) start at 1.
  const int64_t base = stream.empty() ? 1 : 0;
  uint64_t done = 0;
  while (done < expect) {
    uint64_t rows = 0;
    int64_t last = -1;
    const uint64_t from = done + static_cast<uint64_t>(base);
    const int64_t t0 = NowNanos();
    Status s = stream.empty() ? db.ReadAllPage(from, page, &rows, &last, bytes)
                              : db.ReadStreamPage(stream, from, page, &rows, &last, bytes);
    latency->Record(NowNanos() - t0);
    CAIRN_RETURN_IF_ERROR(s);
    if (rows == 0 || last != static_cast<int64_t>(from + rows - 1)) {
      return CheckFailed(ctx, "page from " + std::to_string(from) + " returned " +
                                  std::to_string(rows) + " rows ending at " + std::to_string(last));
    }
    done += rows;
  }
  return Status::OK();
}

// Writes ctx.events in transactions of kBatchEvents over `streams` streams
// (synchronous=OFF when `setup_durable` is false), reopens the database, reads
// it once untimed and once timed, in pages of `page` rows.
Result<Measurement> TimedRead(const WorkloadContext& ctx, const std::string& stream,
                              uint64_t streams, uint64_t page, bool setup_durable) {
  {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(DbPath(ctx), setup_durable));
    CAIRN_RETURN_IF_ERROR(
        WriteBatches(*db, ctx.events, kBatchEvents, streams, MakeEventPool(kBatchEvents), nullptr));
  }
  Measurement m = NewMeasurement(ctx);
  ResetPeakRss();
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(DbPath(ctx), ctx.durable));
  {
    Histogram warmup;
    uint64_t ignored = 0;
    CAIRN_RETURN_IF_ERROR(ReadPaged(ctx, *db, stream, ctx.events, page, &warmup, &ignored));
  }
  const int64_t start = NowNanos();
  CAIRN_RETURN_IF_ERROR(
      ReadPaged(ctx, *db, stream, ctx.events, page, &m.latency, &m.payload_bytes));
  m.seconds = static_cast<double>(NowNanos() - start) / 1e9;
  m.SampleRss();
  return m;
}

}  // namespace

Result<Measurement> SqliteAppendBatch(const WorkloadContext& ctx) {
  CAIRN_ASSIGN_OR_RETURN(Measurement m, TimedAppends(ctx, kBatchEvents));
  m.Add("mb_per_s", FormatFixed(m.MegabytesPerSecond(), 0));
  m.Add("batch", std::to_string(kBatchEvents));
  return m;
}

Result<Measurement> SqliteAppendSingle(const WorkloadContext& ctx) { return TimedAppends(ctx, 1); }

// What a real user does in one process: SQLite allows one writer at a time,
// and N connections spinning on busy_timeout sleep in coarse steps, so a
// single connection shared by all writer threads behind a mutex is the
// standard way to make it fast. Each thread appends to its own stream.
Result<Measurement> SqliteAppendConcurrent(const WorkloadContext& ctx) {
  const std::vector<EventData> pool = MakeEventPool(kBatchEvents);
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(DbPath(ctx), ctx.durable));
  Measurement m = NewMeasurement(ctx);
  const int writers = kConcurrentWriters;
  std::mutex mu;  // guards *db: one transaction at a time
  std::vector<Histogram> latencies(writers);
  std::vector<Status> errors(writers);
  std::vector<uint64_t> bytes(writers, 0);
  std::latch ready(writers + 1);
  std::latch go(1);
  std::vector<std::thread> threads;
  ResetPeakRss();
  for (int t = 0; t < writers; ++t) {
    const uint64_t share = ctx.events / writers + (static_cast<uint64_t>(t) < ctx.events % writers);
    threads.emplace_back([&, t, share] {
      const std::string stream = StreamName(static_cast<uint64_t>(t));
      ready.count_down();
      go.wait();
      for (uint64_t i = 0; i < share; ++i) {
        const EventData& e = pool[(i * writers + t) % pool.size()];
        const int64_t t0 = NowNanos();
        Status s;
        {
          std::lock_guard<std::mutex> lock(mu);
          s = db->Append(stream, std::span<const EventData>(&e, 1));
        }
        latencies[t].Record(NowNanos() - t0);
        if (!s.ok()) {
          errors[t] = s;
          return;
        }
        bytes[t] += PayloadBytes(e, stream);
      }
    });
  }
  ready.arrive_and_wait();
  const int64_t start = NowNanos();
  go.count_down();
  for (auto& th : threads) th.join();
  m.seconds = static_cast<double>(NowNanos() - start) / 1e9;
  m.SampleRss();
  for (int t = 0; t < writers; ++t) {
    CAIRN_RETURN_IF_ERROR(errors[t]);
    m.latency.Merge(latencies[t]);
    m.payload_bytes += bytes[t];
  }
  m.Add("writers", std::to_string(writers));
  m.Add("note", "one_connection_shared_behind_a_mutex");
  return m;
}

Result<Measurement> SqliteReadStream(const WorkloadContext& ctx) {
  CAIRN_ASSIGN_OR_RETURN(Measurement m,
                         TimedRead(ctx, StreamName(0), 1, kReadPageEvents, ctx.durable));
  m.Add("mb_per_s", FormatFixed(m.MegabytesPerSecond(), 0));
  m.Add("page", std::to_string(kReadPageEvents));
  return m;
}

Result<Measurement> SqliteReadAll(const WorkloadContext& ctx) {
  CAIRN_ASSIGN_OR_RETURN(Measurement m,
                         TimedRead(ctx, "", kStreamCount, kReadPageEvents, ctx.durable));
  m.Add("gb_per_s", FormatFixed(static_cast<double>(m.payload_bytes) / 1e9 / m.seconds, 2));
  m.Add("page", std::to_string(kReadPageEvents));
  return m;
}

// The peer of a catch-up subscription: a loop of
// `SELECT ... WHERE position >= ? ORDER BY position LIMIT 1024`, the pages a
// subscription reads, over a history written with synchronous=OFF.
Result<Measurement> SqliteCatchUp(const WorkloadContext& ctx) {
  CAIRN_ASSIGN_OR_RETURN(Measurement m,
                         TimedRead(ctx, "", kStreamCount, kCatchUpSampleEvents, false));
  m.Add("mb_per_s", FormatFixed(m.MegabytesPerSecond(), 0));
  m.Add("latency_per", std::to_string(kCatchUpSampleEvents) + "_events");
  m.Add("setup", "nosync");
  return m;
}

}  // namespace cairn::bench
