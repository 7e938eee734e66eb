// ProjectionRunner (include/cairn/toolkit/projection.h): a subscription
// followed on one thread, each page of events applied and checkpointed in one
// SQLite transaction.
//
// Exactly-once rests on one rule: the checkpoint row and the read-model
// changes it accounts for are written by the same transaction, and the
// subscription resumes after the committed checkpoint. A page of the
// subscription holds every event of the source up to Subscription::last_position()
// (NextBatch hands over all it buffered), so after a page is applied the
// checkpoint may move to last_position() even when that is past the page's last event.
//
// Lock order: control_mu_ (Stop, Rebuild) before mu_.
#include <condition_variable>
#include <mutex>
#include <thread>

#include "toolkit/src/sql.h"

namespace cairn::toolkit {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kCreateTables =
    "CREATE TABLE IF NOT EXISTS cairn_projection_checkpoints("
    "name TEXT PRIMARY KEY, position INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS cairn_projection_skipped("
    "name TEXT NOT NULL, position INTEGER NOT NULL, stream TEXT NOT NULL, type TEXT NOT NULL, "
    "code TEXT NOT NULL, message TEXT NOT NULL, PRIMARY KEY(name, position))";
constexpr std::string_view kReadCheckpoint =
    "SELECT position FROM cairn_projection_checkpoints WHERE name = ?";
constexpr std::string_view kWriteCheckpoint =
    "INSERT INTO cairn_projection_checkpoints(name, position) VALUES(?, ?) "
    "ON CONFLICT(name) DO UPDATE SET position = excluded.position";

// Errors of the database itself, which skipping an event cannot cure.
bool IsDatabaseError(ErrorCode code) {
  return code == ErrorCode::kIOError || code == ErrorCode::kNoSpace ||
         code == ErrorCode::kCorruption || code == ErrorCode::kLocked ||
         code == ErrorCode::kReadOnly || code == ErrorCode::kResourceExhausted;
}

std::string PositionText(std::optional<uint64_t> p) {
  return p ? std::to_string(*p) : std::string("none");
}

class Runner final : public ProjectionRunner {
 public:
  Runner(Store* store, Projection* projection, ProjectionOptions options,
         std::unique_ptr<SqliteSql> sql)
      : store_(store),
        projection_(projection),
        options_(std::move(options)),
        name_(projection->name()),
        sql_(std::move(sql)) {}

  ~Runner() override { (void)Stop(); }

  // Creates the tables, runs Setup and reads the checkpoint, in one
  // transaction; then subscribes and starts the thread.
  Status Init() {
    CAIRN_RETURN_IF_ERROR(Named(sql_->Control("BEGIN IMMEDIATE")));
    Status s = [&]() -> Status {
      CAIRN_RETURN_IF_ERROR(sql_->Exec(kCreateTables));
      CAIRN_RETURN_IF_ERROR(Guarded([&] { return projection_->Setup(*sql_); }));
      CAIRN_ASSIGN_OR_RETURN(stored_, ReadCheckpointRow());
      return sql_->Control("COMMIT");
    }();
    if (!s.ok()) return Named(Rollback(s));
    {
      std::lock_guard l(mu_);
      processed_ = stored_;
    }
    return Launch();
  }

  Status status() const override {
    std::lock_guard l(mu_);
    return status_;
  }

  std::optional<Position> checkpoint() const override {
    std::lock_guard l(mu_);
    if (!processed_) return std::nullopt;
    return Position(*processed_);
  }

  Status WaitFor(Position p, milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock l(mu_);
    for (;;) {
      if (processed_ && *processed_ >= p.value()) return Status::OK();
      if (!status_.ok()) return status_;
      if (stopped_) {
        return Status(ErrorCode::kCancelled, "projection '" + name_ + "' stopped before position " +
                                                 std::to_string(p.value()) + " (checkpoint " +
                                                 PositionText(processed_) + ")");
      }
      if (cv_.wait_until(l, deadline) == std::cv_status::timeout &&
          !(processed_ && *processed_ >= p.value())) {
        return Status(ErrorCode::kDeadlineExceeded,
                      "projection '" + name_ + "' did not reach position " +
                          std::to_string(p.value()) + " within " + std::to_string(timeout.count()) +
                          " ms (checkpoint " + PositionText(processed_) + ")");
      }
    }
  }

  Status Rebuild() override {
    std::lock_guard control(control_mu_);
    {
      std::lock_guard l(mu_);
      if (stopped_) {
        return Status(ErrorCode::kFailedPrecondition,
                      "projection '" + name_ + "': Rebuild after Stop");
      }
    }
    Halt();
    Status s = Named(ResetAll());
    {
      std::lock_guard l(mu_);
      if (!s.ok()) {
        status_ = s;
        cv_.notify_all();
        return s;
      }
      status_ = Status::OK();
      processed_.reset();
      stop_requested_ = false;
    }
    stored_.reset();
    s = Launch();
    if (!s.ok()) {
      std::lock_guard l(mu_);
      status_ = s;
      cv_.notify_all();
    }
    return s;
  }

  Status Stop() override {
    std::lock_guard control(control_mu_);
    {
      std::lock_guard l(mu_);
      stopped_ = true;
      cv_.notify_all();
    }
    Halt();
    return status();
  }

 private:
  // Asks the thread to stop, waits for it and ends the subscription.
  // control_mu_ held.
  void Halt() {
    {
      std::lock_guard l(mu_);
      stop_requested_ = true;
      if (sub_ != nullptr) sub_->Cancel();
    }
    if (thread_.joinable()) thread_.join();
    {
      std::lock_guard l(mu_);
      sub_ = nullptr;
    }
    owned_sub_.reset();
  }

  // Subscribes after stored_ and starts the thread. The thread is not running.
  Status Launch() {
    SubscribeOptions so = options_.category.empty() ? SubscribeOptions::All()
                                                    : SubscribeOptions::Category(options_.category);
    so.filter = options_.filter;
    so.checkpoint_interval = options_.checkpoint_interval;
    so.page_events = options_.batch_size;
    if (stored_) so.after = Position(*stored_);
    auto sub = store_->Subscribe(so);
    if (!sub) return Named(sub.error());
    owned_sub_ = std::move(*sub);
    {
      std::lock_guard l(mu_);
      sub_ = owned_sub_.get();
    }
    thread_ = std::thread([this] { Run(); });
    return Status::OK();
  }

  void Run() {
    Status s = Follow(owned_sub_.get());
    if (s.ok()) return;
    std::lock_guard l(mu_);
    status_ = Named(s);
    cv_.notify_all();
  }

  bool StopRequested() {
    std::lock_guard l(mu_);
    return stop_requested_;
  }

  void Publish(std::optional<uint64_t> through) {
    if (!through) return;
    std::lock_guard l(mu_);
    if (!processed_ || *through > *processed_) {
      processed_ = through;
      cv_.notify_all();
    }
  }

  // The thread's loop: one page, one transaction.
  Status Follow(Subscription* sub) {
    std::vector<SubscriptionMessage> page;
    for (;;) {
      auto n = sub->NextBatch(&page, options_.idle_poll);
      if (!n) {
        if (n.error().code() == ErrorCode::kCancelled && StopRequested()) break;
        return n.error();
      }
      std::optional<uint64_t> through;
      if (std::optional<Position> p = sub->last_position()) through = p->value();
      bool events = false, marker = false;
      for (const SubscriptionMessage& m : page) {
        if (m.kind == SubscriptionMessage::Kind::kEvent) events = true;
        if (m.kind == SubscriptionMessage::Kind::kCheckpoint ||
            m.kind == SubscriptionMessage::Kind::kCaughtUp) {
          marker = true;
        }
      }
      if (events) {
        CAIRN_RETURN_IF_ERROR(ApplyPage(page, *through));
      } else if (marker && Beyond(through, stored_)) {
        CAIRN_RETURN_IF_ERROR(StoreCheckpoint(*through));
      }
      // Idle pages (nothing came within idle_poll) advance only the
      // in-memory checkpoint: no event of the source lies in between.
      Publish(through);
      if (StopRequested()) break;
    }
    std::optional<uint64_t> processed;
    {
      std::lock_guard l(mu_);
      processed = processed_;
    }
    if (Beyond(processed, stored_)) CAIRN_RETURN_IF_ERROR(StoreCheckpoint(*processed));
    return Status::OK();
  }

  static bool Beyond(std::optional<uint64_t> a, std::optional<uint64_t> b) {
    return a && (!b || *a > *b);
  }

  // Applies the events of `page` and moves the checkpoint to `through`, in
  // one transaction; nothing of it remains on failure.
  Status ApplyPage(const std::vector<SubscriptionMessage>& page, uint64_t through) {
    CAIRN_RETURN_IF_ERROR(Begin());
    const bool skip = options_.on_error == ErrorPolicy::kSkip;
    for (const SubscriptionMessage& m : page) {
      if (m.kind != SubscriptionMessage::Kind::kEvent) continue;
      if (skip) CAIRN_RETURN_IF_ERROR(Rollback(sql_->Control("SAVEPOINT cairn_event")));
      Status s = Guarded([&] { return projection_->Apply(*sql_, m.event); });
      if (!sql_->in_transaction()) {
        if (s.ok()) {
          s = Status(ErrorCode::kFailedPrecondition,
                     "the batch's transaction ended inside the handler");
        }
        return EventError(s, m.event);
      }
      if (s.ok()) {
        if (skip) CAIRN_RETURN_IF_ERROR(Rollback(sql_->Control("RELEASE cairn_event")));
        continue;
      }
      if (!skip || IsDatabaseError(s.code())) return Rollback(EventError(s, m.event));
      CAIRN_RETURN_IF_ERROR(Rollback(sql_->Control("ROLLBACK TO cairn_event")));
      CAIRN_RETURN_IF_ERROR(Rollback(sql_->Control("RELEASE cairn_event")));
      CAIRN_RETURN_IF_ERROR(Rollback(
          sql_->Exec("INSERT OR REPLACE INTO cairn_projection_skipped VALUES(?, ?, ?, ?, ?, ?)",
                     {name_, static_cast<int64_t>(m.event.position.value()), m.event.stream,
                      m.event.type, std::string(ErrorCodeName(s.code())), s.message()})));
    }
    return CommitAt(through);
  }

  // Stores the checkpoint alone (no event of the source up to `through`).
  Status StoreCheckpoint(uint64_t through) {
    CAIRN_RETURN_IF_ERROR(Begin());
    return CommitAt(through);
  }

  // BEGIN IMMEDIATE (the write lock now, not at the first write), then
  // checks that no other runner moved this projection's checkpoint.
  Status Begin() {
    CAIRN_RETURN_IF_ERROR(sql_->Control("BEGIN IMMEDIATE"));
    auto row = ReadCheckpointRow();
    if (!row) return Rollback(row.error());
    if (*row != stored_) {
      return Rollback(Status(ErrorCode::kFailedPrecondition,
                             "checkpoint in '" + options_.database_path + "' moved to " +
                                 PositionText(*row) + ", expected " + PositionText(stored_) +
                                 " (another runner of the same projection?)"));
    }
    return Status::OK();
  }

  Status CommitAt(uint64_t through) {
    CAIRN_RETURN_IF_ERROR(
        Rollback(sql_->Exec(kWriteCheckpoint, {name_, static_cast<int64_t>(through)})));
    CAIRN_RETURN_IF_ERROR(Rollback(sql_->Control("COMMIT")));
    stored_ = through;
    return Status::OK();
  }

  // `s` unchanged; when it is an error, the open transaction is rolled back.
  Status Rollback(Status s) {
    if (!s.ok() && sql_->in_transaction()) (void)sql_->Control("ROLLBACK");
    return s;
  }

  Result<std::optional<uint64_t>> ReadCheckpointRow() {
    CAIRN_ASSIGN_OR_RETURN(auto rows, sql_->Query(kReadCheckpoint, {name_}));
    if (rows.empty()) return std::optional<uint64_t>();
    const int64_t* p = rows[0].size() == 1 ? std::get_if<int64_t>(&rows[0][0]) : nullptr;
    if (p == nullptr || *p < 0) {
      return Status::Corruption("checkpoint of projection '" + name_ + "' in '" +
                                options_.database_path + "' is not a position");
    }
    return std::optional<uint64_t>(static_cast<uint64_t>(*p));
  }

  // Runs a projection method with the transaction guard on.
  template <class F>
  Status Guarded(F f) {
    sql_->set_handler_guard(true);
    Status s = f();
    sql_->set_handler_guard(false);
    return s;
  }

  // Reset, Setup and the removal of the checkpoint, in one transaction.
  Status ResetAll() {
    CAIRN_RETURN_IF_ERROR(sql_->Control("BEGIN IMMEDIATE"));
    Status s = [&]() -> Status {
      CAIRN_RETURN_IF_ERROR(Guarded([&] { return projection_->Reset(*sql_); }));
      CAIRN_RETURN_IF_ERROR(Guarded([&] { return projection_->Setup(*sql_); }));
      CAIRN_RETURN_IF_ERROR(
          sql_->Exec("DELETE FROM cairn_projection_checkpoints WHERE name = ?", {name_}));
      CAIRN_RETURN_IF_ERROR(
          sql_->Exec("DELETE FROM cairn_projection_skipped WHERE name = ?", {name_}));
      return sql_->Control("COMMIT");
    }();
    return Rollback(s);
  }

  Status EventError(const Status& s, const RecordedEvent& e) const {
    return Status(s.code(), "projection '" + name_ + "' failed at position " +
                                std::to_string(e.position.value()) + " (stream '" + e.stream +
                                "', type '" + e.type + "'): " + s.message());
  }

  // Prefixes the projection's name unless the message already names it.
  Status Named(Status s) const {
    const std::string prefix = "projection '" + name_ + "'";
    if (s.ok() || s.message().rfind(prefix, 0) == 0) return s;
    return Status(s.code(), prefix + ": " + s.message());
  }

  Store* const store_;
  Projection* const projection_;
  const ProjectionOptions options_;
  const std::string name_;

  std::mutex control_mu_;  // serializes Stop and Rebuild
  std::thread thread_;     // guarded by control_mu_ (after Init)
  // The subscription the thread follows; replaced only while no thread runs.
  std::unique_ptr<Subscription> owned_sub_;
  // The connection and the committed checkpoint: used by the thread while
  // it runs, by Init / Rebuild (control_mu_ held) while it does not.
  std::unique_ptr<SqliteSql> sql_;
  std::optional<uint64_t> stored_;

  mutable std::mutex mu_;
  std::condition_variable cv_;         // processed_, status_ or stopped_ changed
  Status status_;                      // guarded by mu_
  std::optional<uint64_t> processed_;  // guarded by mu_
  bool stop_requested_ = false;        // guarded by mu_: the thread should end
  bool stopped_ = false;               // guarded by mu_: Stop was called
  Subscription* sub_ = nullptr;        // guarded by mu_: to Cancel from Halt
};

}  // namespace

Result<std::unique_ptr<ProjectionRunner>> ProjectionRunner::Start(Store* store,
                                                                  Projection* projection,
                                                                  ProjectionOptions options) {
  if (store == nullptr || projection == nullptr) {
    return Status::InvalidArgument("projection runner needs a store and a projection");
  }
  const std::string name = projection->name();
  if (name.empty()) return Status::InvalidArgument("projection name must not be empty");
  if (options.database_path.empty()) {
    return Status::InvalidArgument("projection '" + name + "': database_path is empty");
  }
  if (options.batch_size == 0) {
    return Status::InvalidArgument("projection '" + name + "': batch_size must be positive");
  }
  auto sql = SqliteSql::OpenSqlite(options.database_path, SqlOptions{});
  if (!sql) {
    return Status(sql.error().code(), "projection '" + name + "': " + sql.error().message());
  }
  auto runner = std::make_unique<Runner>(store, projection, std::move(options), std::move(*sql));
  CAIRN_RETURN_IF_ERROR(runner->Init());
  return std::unique_ptr<ProjectionRunner>(std::move(runner));
}

}  // namespace cairn::toolkit
