#pragma once
// Projections: read models in SQLite, kept up to date from the event store,
// each event applied exactly once.
//
// The application implements a Projection (create its tables, apply one
// event with SQL, clear its tables); a ProjectionRunner follows the source
// (all of $all, or one category, optionally narrowed by an EventFilter) on a
// background thread and applies the events a batch at a time. Each batch's
// read-model changes and the projection's new checkpoint are committed in ONE
// SQLite transaction of the same database file, so after a crash (kill -9,
// power loss) or a Stop at any point every event has been applied exactly
// once: the checkpoint says precisely which events the committed read model
// contains, and the runner resumes after it.
//
//   class Balances : public toolkit::Projection {
//     std::string name() const override { return "balances"; }
//     Status Setup(toolkit::Sql& sql) override {
//       return sql.Exec("CREATE TABLE IF NOT EXISTS balances("
//                       "account TEXT PRIMARY KEY, balance INTEGER NOT NULL)");
//     }
//     Status Reset(toolkit::Sql& sql) override {
//       return sql.Exec("DROP TABLE IF EXISTS balances");
//     }
//     Status Apply(toolkit::Sql& sql, const RecordedEvent& e) override {
//       return sql.Exec("INSERT INTO balances VALUES(?, ?) ON CONFLICT(account) "
//                       "DO UPDATE SET balance = balance + excluded.balance",
//                       {e.stream, Amount(e)});
//     }
//   };
//   ProjectionOptions o{.database_path = "/var/app/read.db", .category = "account"};
//   CAIRN_ASSIGN_OR_RETURN(auto runner, ProjectionRunner::Start(store, &balances, o));
//   ... append, then runner->WaitFor(appended.position, 1s) before reading.
//
// The database is opened in WAL mode with synchronous=FULL: a commit is on
// disk before the runner moves on (the read model is as durable as a store
// opened with Durability::kFsync), and readers in other connections or
// processes (Sql::Open) see consistent snapshots without blocking the runner.
// The runner keeps its checkpoints in the table
//   cairn_projection_checkpoints(name TEXT PRIMARY KEY, position INTEGER)
// holding the last $all position it has considered (inclusive; no row: none),
// and events skipped under ErrorPolicy::kSkip in
//   cairn_projection_skipped(name, position, stream, type, code, message).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cairn/status.h"
#include "cairn/store.h"
#include "cairn/subscription.h"
#include "cairn/types.h"

namespace cairn::toolkit {

// One SQL value: NULL, INTEGER, REAL or TEXT. A std::string binds as TEXT
// (BLOB columns are read back as std::string too). Integer arguments narrower
// than int64_t pick int64_t; a uint64_t must be cast by the caller.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;
using SqlRow = std::vector<SqlValue>;

struct SqlOptions {
  // Open without write access (a UI reading a read model). Default false.
  bool read_only = false;
  // Create the file when missing (ignored when read_only). Default true.
  bool create_if_missing = true;
  // How long a statement waits for another connection's lock before failing
  // with kLocked. Default 5 s.
  std::chrono::milliseconds busy_timeout{5000};
};

// A connection to one SQLite database file, the handle projections write
// their read model through. Statements are prepared once and cached by their
// text, so passing the same SQL with different parameters is cheap.
// Errors name the statement and SQLite's message; codes: kInvalidArgument
// (bad SQL, wrong parameter count, constraint violation, or a transaction
// statement issued inside a projection handler), kLocked (another connection
// held a lock past busy_timeout), kReadOnly, kNoSpace, kCorruption, kIOError
// (the disk failed), kResourceExhausted (SQLite out of memory).
// Thread safety: a Sql is used by one thread at a time; use one Sql per
// thread (connections to the same file may be used concurrently).
class Sql {
 public:
  virtual ~Sql() = default;

  // Opens `path` in WAL mode with synchronous=FULL (unless read_only).
  // kNotFound when missing and not created, kIOError when it cannot be
  // opened, kCorruption when it is not a SQLite database.
  static Result<std::unique_ptr<Sql>> Open(const std::string& path, const SqlOptions& options = {});

  // Runs `sql`. With `params`, `sql` must be exactly one statement whose
  // `?` placeholders take them in order; without, it may hold several
  // statements separated by ';', run in order (the first error stops them;
  // earlier ones stay done unless a surrounding transaction is rolled back).
  // Rows a statement returns are discarded.
  virtual Status Exec(std::string_view sql, const std::vector<SqlValue>& params = {}) = 0;

  // Runs one statement and returns all its rows, each with one value per
  // result column.
  virtual Result<std::vector<SqlRow>> Query(std::string_view sql,
                                            const std::vector<SqlValue>& params = {}) = 0;

  // Rows changed by the last INSERT, UPDATE or DELETE.
  virtual int64_t changes() const = 0;
};

// A read model, implemented by the application. The runner calls its methods
// from one thread at a time (its background thread, or the thread calling
// Start / Rebuild), always inside a transaction the runner owns: handlers
// must not BEGIN, COMMIT, ROLLBACK or use SAVEPOINTs (such statements fail
// with kInvalidArgument). A projection must outlive its runner.
class Projection {
 public:
  virtual ~Projection() = default;
  // The checkpoint key: unique among the projections of one database file,
  // and stable (renaming it replays every event into the renamed projection).
  virtual std::string name() const = 0;
  // Creates the projection's tables and indexes. Idempotent (CREATE ... IF
  // NOT EXISTS): called by every Start and after every Reset.
  virtual Status Setup(Sql& sql) = 0;
  // Drops or empties everything the projection wrote, for a rebuild.
  virtual Status Reset(Sql& sql) = 0;
  // Applies one event of the source. A non-OK status rolls back the batch
  // (ErrorPolicy::kStop) or the event alone (kSkip). Exactly-once covers
  // what the handler writes through `sql` only: a rolled-back batch is
  // applied again later, so effects outside the database repeat.
  virtual Status Apply(Sql& sql, const RecordedEvent& event) = 0;
};

enum class ErrorPolicy : uint8_t {
  // A failing Apply stops the runner: its batch is rolled back, status()
  // holds the error, no later event is applied. Default.
  kStop,
  // A failing Apply undoes that event's changes only, records the event in
  // cairn_projection_skipped and goes on. Errors of the database itself
  // (kIOError, kNoSpace, kCorruption, kLocked, kReadOnly,
  // kResourceExhausted) still stop it.
  kSkip,
};

struct ProjectionOptions {
  // The SQLite file holding the read model and the checkpoint; created when
  // missing. Required.
  std::string database_path;
  // The source: events of this category (streams "<category>-..."), through
  // the store's category index; empty (the default) means all of $all.
  std::string category;
  // Further narrows the events applied (any target). Default: none.
  EventFilter filter;
  // Most events applied in one transaction. Default 500. Smaller batches
  // commit (fsync) more often; larger ones hold the write lock longer.
  uint64_t batch_size = 500;
  ErrorPolicy on_error = ErrorPolicy::kStop;
  // A filtered $all source stores its checkpoint after scanning this many
  // events that do not pass, so a restart need not scan them again.
  // Default 1024; 0 stores it only with batches and on Stop.
  uint64_t checkpoint_interval = 1024;
  // While idle, how often the runner notices appends that are not part of
  // its source (WaitFor on such a position returns within about this much).
  // Default 50 ms.
  std::chrono::milliseconds idle_poll{50};
};

// Follows one source into one projection on a background thread.
// Thread safety: every method may be called from any thread, concurrently,
// except from inside the projection's own methods (Stop, Rebuild and the
// destructor join the runner's thread); Stop and Rebuild are serialized.
class ProjectionRunner {
 public:
  // Stops (as Stop) and releases the database.
  virtual ~ProjectionRunner() = default;

  // Opens the database, runs projection->Setup, reads the checkpoint and
  // starts following the source after it. `store` and `projection` must
  // outlive the runner (and every Subscription ends before the runner is
  // destroyed, so destroy the runner before closing the store). Errors:
  // kInvalidArgument (no path, zero batch_size, empty name, bad category or
  // filter), the database's errors (see Sql), Setup's error.
  static Result<std::unique_ptr<ProjectionRunner>> Start(Store* store, Projection* projection,
                                                         ProjectionOptions options);

  // OK while running and after a Stop; the error that stopped the runner
  // otherwise. A handler error keeps its code and its message is prefixed
  // with "projection '<name>' failed at position <p> (stream '<s>', type
  // '<t>'): ". Store errors (kIOError, kCorruption, kClosed once
  // the store is closed) and database errors are reported likewise, naming
  // the projection.
  virtual Status status() const = 0;

  // The last $all position whose effects are committed: every event of the
  // source at or before it has been applied exactly once and nothing after
  // it has. nullopt before the first event (and after a Rebuild until one).
  virtual std::optional<Position> checkpoint() const = 0;

  // Blocks until checkpoint() >= p, i.e. the read model reflects every
  // event up to and including position p (read your own writes: wait for
  // the position an Append returned). Errors: kDeadlineExceeded when
  // `timeout` passes first, kCancelled when the runner is stopped (Stop or
  // destruction) first, status() when it fails first.
  virtual Status WaitFor(Position p, std::chrono::milliseconds timeout) = 0;

  // Stops the runner, then in ONE transaction runs projection->Reset,
  // projection->Setup, deletes the checkpoint and the skipped-event records;
  // then replays the source from its start. Also restarts a runner stopped
  // by an error (clearing status()). On failure nothing is changed in the
  // database and the runner stays stopped with the error in status().
  // kFailedPrecondition after Stop.
  virtual Status Rebuild() = 0;

  // Asks the thread to stop and waits for it: the batch being applied is
  // committed first, and the checkpoint is stored. Returns status() (OK, or
  // the error that had stopped the runner). Idempotent; the runner cannot
  // be started again (start a new one on the same database). Call it (or
  // destroy the runner) before closing the store.
  virtual Status Stop() = 0;
};

}  // namespace cairn::toolkit
