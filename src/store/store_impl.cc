// Append path of the native engine: validation, group commit, the sequencer.
#include "src/store/store_impl.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "src/base/hash.h"
#include "src/log/record.h"
#include "src/store/head.h"

namespace cairn {
namespace {

// Batches from this size start writeback before they are indexed (smaller
// ones have too little indexing to overlap to pay for the extra call).
constexpr size_t kStartSyncBytes = 64u << 10;
constexpr size_t kMaxTypeBytes = 65535;

bool ValidUtf8(std::string_view s) {
  // Names and types are mostly ASCII: eight bytes at a time while no byte
  // has its high bit set (every append checks each event's type).
  size_t i = 0;
  for (uint64_t word; i + 8 <= s.size(); i += 8) {
    std::memcpy(&word, s.data() + i, 8);
    if ((word & 0x8080808080808080ull) != 0) break;
  }
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    if (n == 2 && c < 0xc2) return false;  // overlong
    i += n;
  }
  return true;
}

}  // namespace

namespace {
// The stores whose calls this thread is inside (nested: a visitor calling
// the store again, or another store).
thread_local std::vector<const StoreImpl*> t_ops;
}  // namespace

StoreImpl::Op::Op(StoreImpl* store) : store_(store) {
  t_ops.push_back(store);
  // Pairs with Close: it sets closing_ and then reads ops_, both seq_cst, so
  // either it sees this call or this call sees closing_.
  store->ops_.fetch_add(1, std::memory_order_seq_cst);
  if (store->closing_.load(std::memory_order_seq_cst) || store->closed_.load()) {
    status_ = Status(ErrorCode::kClosed, "store is closed");
  }
}

StoreImpl::Op::~Op() {
  for (auto it = t_ops.rbegin(); it != t_ops.rend(); ++it) {
    if (*it == store_) {
      t_ops.erase(std::next(it).base());
      break;
    }
  }
  if (store_->ops_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
      store_->closing_.load(std::memory_order_seq_cst)) {
    std::lock_guard l(store_->ops_mu_);
    store_->ops_cv_.notify_all();
  }
}

StoreImpl::ReadScope::ReadScope(StoreImpl* store) : op_(store), status_(op_.status()) {
  if (status_.ok() && store->options_.read_only) status_ = store->recovery_.Refresh();
  if (!status_.ok()) return;
  swap_.emplace(store->swap_mu_);  // no scavenge swap mid-read
  snapshot_ = store->visible_.load(std::memory_order_acquire);
}

bool StoreImpl::InOpOnThisThread() const {
  return std::find(t_ops.begin(), t_ops.end(), this) != t_ops.end();
}

Status StoreImpl::CheckStreamName(std::string_view s, bool system) const {
  if (s.empty()) return Status::InvalidArgument("stream name is empty");
  if (s.size() > options_.max_stream_name_bytes || s.size() > 65535) {
    return Status::InvalidArgument("stream name of " + std::to_string(s.size()) +
                                   " bytes exceeds max_stream_name_bytes (" +
                                   std::to_string(options_.max_stream_name_bytes) + ")");
  }
  if (!ValidUtf8(s)) return Status::InvalidArgument("stream name is not valid UTF-8");
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("stream name '" + std::string(s) +
                                     "' contains a control character");
    }
  }
  if (s[0] == '$' && !system) {
    return Status::InvalidArgument("stream name '" + std::string(s) +
                                   "': names starting with '$' are reserved for the system");
  }
  return Status::OK();
}

Status StoreImpl::CheckEvent(std::string_view s, size_t k, const EventData& e, bool system) const {
  // Built only for an error: this runs for every event appended.
  auto bad = [&](std::string_view what) {
    std::string m = "stream '";
    m.append(s).append("' event ").append(std::to_string(k)).append(": ").append(what);
    return Status::InvalidArgument(std::move(m));
  };
  if (e.type.empty()) return bad("event type is empty");
  if (e.type.size() > kMaxTypeBytes) return bad("event type longer than 65535 bytes");
  if (!ValidUtf8(e.type)) return bad("type is not UTF-8");
  if (e.type[0] == '$' && !system) {
    std::string m = "event type '";
    m.append(e.type).append("': types starting with '$' are reserved for the system");
    return bad(m);
  }
  uint64_t size = e.type.size() + e.data.size() + e.metadata.size();
  if (size > options_.max_event_bytes) {
    std::string m = std::to_string(size);
    m.append(" bytes exceeds max_event_bytes (")
        .append(std::to_string(options_.max_event_bytes))
        .append(")");
    return bad(m);
  }
  return Status::OK();
}

Status StoreImpl::ValidateAppend(std::span<const Part> appends, bool system) const {
  uint64_t total = 0;
  for (size_t i = 0; i < appends.size(); ++i) {
    const Part& a = appends[i];
    CAIRN_RETURN_IF_ERROR(CheckStreamName(a.stream, system));
    for (size_t j = 0; j < i; ++j) {
      if (appends[j].stream == a.stream) {
        return Status::InvalidArgument("stream '" + std::string(a.stream) +
                                       "' appears twice in one append");
      }
    }
    for (size_t k = 0; k < a.events.size(); ++k) {
      const EventData& e = a.events[k];
      CAIRN_RETURN_IF_ERROR(CheckEvent(a.stream, k, e, system));
      total += log::MaxEncodedEventSize(a.stream.size(), e.type.size(), e.data.size(),
                                        e.metadata.size());
    }
  }
  if (total > options_.max_append_bytes) {
    return Status::InvalidArgument("append of " + std::to_string(total) +
                                   " bytes exceeds max_append_bytes (" +
                                   std::to_string(options_.max_append_bytes) + ")");
  }
  return Status::OK();
}

Result<AppendResult> StoreImpl::Append(std::string_view stream, ExpectedRevision expected,
                                       std::span<const EventData> events) {
  Writer w;
  w.appends.push_back({stream, expected, events});
  CAIRN_ASSIGN_OR_RETURN(auto results, Submit(&w));
  return std::move(results[0]);
}

Result<std::vector<AppendResult>> StoreImpl::AppendMulti(std::span<const StreamAppend> appends) {
  Writer w;
  w.appends.reserve(appends.size());
  for (const auto& a : appends) w.appends.push_back({a.stream, a.expected, a.events});
  return Submit(&w);
}

Status StoreImpl::AppendAsync(std::string stream, ExpectedRevision expected,
                              std::vector<EventData> events, AppendCallback done) {
  if (!done) return Status::InvalidArgument("AppendAsync needs a callback");
  std::vector<StreamAppend> appends(1);
  appends[0].stream = std::move(stream);
  appends[0].expected = expected;
  appends[0].events = std::move(events);
  return AppendMultiAsync(std::move(appends),
                          [done = std::move(done)](Result<std::vector<AppendResult>> r) {
                            if (!r) {
                              done(r.error());
                            } else {
                              done(std::move((*r)[0]));
                            }
                          });
}

Status StoreImpl::AppendMultiAsync(std::vector<StreamAppend> appends, AppendMultiCallback done) {
  if (!done) return Status::InvalidArgument("AppendMultiAsync needs a callback");
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  if (options_.read_only) {
    return Status(ErrorCode::kReadOnly, "store " + dir_ + " is open read-only");
  }
  if (appends.empty()) return Status::InvalidArgument("append names no stream");
  auto w = std::make_unique<Writer>();
  w->owned = std::make_unique<Writer::Owned>();
  Writer::Owned& own = *w->owned;
  own.appends = std::move(appends);
  own.done = std::move(done);
  w->appends.reserve(own.appends.size());
  for (const auto& a : own.appends) {
    w->appends.push_back({a.stream, a.expected, a.events});
    for (const auto& e : a.events) own.bytes += e.type.size() + e.data.size() + e.metadata.size();
  }
  CAIRN_RETURN_IF_ERROR(ValidateAppend(w->appends, false));
  return commits_.Enqueue(std::move(w));
}

Result<std::vector<AppendResult>> StoreImpl::SubmitSystem(std::vector<Part> parts) {
  Writer w;
  w.system = true;
  w.appends = std::move(parts);
  return Submit(&w);
}

Result<std::vector<AppendResult>> StoreImpl::Submit(Writer* w) {
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  if (options_.read_only) {
    return Status(ErrorCode::kReadOnly, "store " + dir_ + " is open read-only");
  }
  if (w->appends.empty()) return Status::InvalidArgument("append names no stream");
  CAIRN_RETURN_IF_ERROR(ValidateAppend(w->appends, w->system));
  CAIRN_RETURN_IF_ERROR(commits_.Run(w));
  if (!w->status.ok()) return w->status;
  return std::move(w->results);
}

namespace {
// The swap mutexes this thread holds through a SwapReadLock (a few at most:
// nested reads, possibly of several stores).
thread_local std::vector<const std::shared_mutex*> t_swap_read_locks;

void Forget(const std::shared_mutex* mu) {
  for (auto it = t_swap_read_locks.rbegin(); it != t_swap_read_locks.rend(); ++it) {
    if (*it == mu) {
      t_swap_read_locks.erase(std::next(it).base());
      return;
    }
  }
}
}  // namespace

SwapReadLock::SwapReadLock(std::shared_mutex& mu) : lock_(mu) { t_swap_read_locks.push_back(&mu); }

SwapReadLock::~SwapReadLock() {
  if (lock_.owns_lock()) Forget(lock_.mutex());
}

void SwapReadLock::unlock() {
  Forget(lock_.mutex());
  lock_.unlock();
}

bool SwapReadLock::Held(const std::shared_mutex& mu) {
  for (const std::shared_mutex* held : t_swap_read_locks) {
    if (held == &mu) return true;
  }
  return false;
}

void StoreImpl::CommitBatch(std::span<Writer* const> batch, Status failed) {
  if (batch[0]->checkpoint) {
    if (batch[0]->roll) {
      SwapReadLock sl(swap_mu_);
      batch[0]->status = failed.ok() ? log_->Roll(visible_.load()) : failed;
    }
    if (batch[0]->trim && failed.ok() && log_) {  // no log when Open failed early
      SwapReadLock sl(swap_mu_);
      batch[0]->trim_status = log_->TrimReserved();
    }
    if (!failed.ok()) {
      // After a failed fsync the memtable may hold entries of the batch
      // that failed (added while it was written): never persist them.
      batch[0]->status = failed;
    } else {
      std::unique_lock il(index_mu_);
      if (!index_.active->empty()) FreezeLocked(log_->EndAddress());
      batch[0]->checkpoint_target = visible_.load();
    }
    maintenance_.Wake();
  } else if (!failed.ok() || !(failed = log_->broken()).ok()) {
    for (Writer* q : batch) q->status = failed;
  } else if (Status room = maintenance_.WaitForRoom(); !room.ok()) {
    for (Writer* q : batch) q->status = room;
  } else {
    ProcessBatch(batch);
  }
}

Status StoreImpl::BuildWriter(Writer* w, PendingMap* pending, uint64_t* next_position,
                              std::string* buf, std::vector<index::PositionEntry>* records,
                              std::vector<NewEntry>* entries) {
  const uint64_t snapshot = visible_.load(std::memory_order_acquire);
  struct Slot {
    Pending state;
    bool duplicate = false;
    AppendResult result;
  };
  std::vector<Slot> parts(w->appends.size());
  size_t duplicates = 0, writes = 0;
  for (size_t i = 0; i < w->appends.size(); ++i) {
    const Part& a = w->appends[i];
    Slot& part = parts[i];
    if (auto it = pending->find(a.stream); it != pending->end()) {
      part.state = it->second;
    } else {
      CAIRN_ASSIGN_OR_RETURN(auto last, LastOf(a.stream, snapshot));
      if (last) {
        part.state.last_revision = last->revision;
        part.state.last_position = last->position;
      }
      part.state.first_pending_revision = last ? last->revision + 1 : 0;
    }
    const std::optional<uint64_t> cur = part.state.last_revision;
    if (cur && *cur == StreamRevision::kTombstone) {
      return Status(ErrorCode::kStreamDeleted, "stream '" + std::string(a.stream) +
                                                   "' is deleted (tombstoned): it can never be "
                                                   "written again");
    }
    // A soft-deleted stream (every revision below its "$tb") counts as
    // absent for no-stream / exists; its revisions continue.
    bool soft_deleted = false;
    uint64_t tb = 0;
    if (cur && a.stream[0] != '$' &&
        (a.expected.kind() == ExpectedRevision::Kind::kNoStream ||
         a.expected.kind() == ExpectedRevision::Kind::kStreamExists)) {
      CAIRN_ASSIGN_OR_RETURN(auto meta, MetadataAt(a.stream, snapshot));
      tb = meta.metadata.truncate_before.value_or(0);
      soft_deleted = tb > *cur;
    }
    bool ok = false;
    std::optional<uint64_t> implied_first;  // first revision the expectation implies
    switch (a.expected.kind()) {
      case ExpectedRevision::Kind::kAny:
        ok = true;
        break;
      case ExpectedRevision::Kind::kNoStream:
        ok = !cur.has_value() || soft_deleted;
        implied_first = tb;
        break;
      case ExpectedRevision::Kind::kStreamExists:
        ok = cur.has_value() && !soft_deleted;
        break;
      case ExpectedRevision::Kind::kExact:
        ok = cur.has_value() && *cur == a.expected.revision().value();
        implied_first = a.expected.revision().value() + 1;
        break;
    }
    // Idempotency: are these very events already stored where they belong?
    const size_t n = a.events.size();
    bool all_ids = n > 0;
    for (const auto& e : a.events) all_ids = all_ids && e.id.has_value();
    std::optional<uint64_t> check_first;
    if (!ok && implied_first && cur && *cur >= *implied_first) check_first = implied_first;
    if (ok && !implied_first && cur && all_ids) {
      // Any / exists: where, if anywhere, is an event's id stored?
      auto stored_at = [&](const Uuid& id) -> Result<std::optional<uint64_t>> {
        for (size_t k = 0; k < part.state.ids.size(); ++k) {
          if (part.state.ids[k].first == id)
            return std::optional<uint64_t>(part.state.first_pending_revision + k);
        }
        CAIRN_ASSIGN_OR_RETURN(auto found, FindById(a.stream, id, snapshot));
        return found ? std::optional<uint64_t>(found->revision) : std::nullopt;
      };
      CAIRN_ASSIGN_OR_RETURN(check_first, stored_at(*a.events[0].id));
      if (!check_first && n > 1) {
        // An append is stored whole: a retry whose first event is new but
        // any other is stored changed its batch. Every id is looked for:
        // among this batch's pending events of the stream, then in the
        // index (one pass for all).
        std::optional<StoredEvent> other;
        if (!part.state.ids.empty()) {
          std::unordered_map<uint64_t, size_t> pending_ids;  // IdKey -> index in ids
          for (size_t k = 0; k < part.state.ids.size(); ++k) {
            pending_ids.emplace(IdKey(part.state.ids[k].first.bytes().data()), k);
          }
          for (size_t j = 1; j < n && !other; ++j) {
            auto hit = pending_ids.find(IdKey(a.events[j].id->bytes().data()));
            if (hit != pending_ids.end() && part.state.ids[hit->second].first == *a.events[j].id) {
              other = StoredEvent{j, Last{part.state.first_pending_revision + hit->second,
                                          part.state.ids[hit->second].second}};
            }
          }
        }
        if (!other) {
          std::vector<Uuid> rest;
          rest.reserve(n - 1);
          for (size_t j = 1; j < n; ++j) rest.push_back(*a.events[j].id);
          CAIRN_ASSIGN_OR_RETURN(other, FirstStoredId(a.stream, rest, snapshot));
          if (other) ++other->index;
        }
        if (other) {
          std::string m = "stream '";
          m.append(a.stream)
              .append("': event ")
              .append(std::to_string(other->index + 1))
              .append(" of ")
              .append(std::to_string(n))
              .append(" (id ")
              .append(a.events[other->index].id->ToString())
              .append(") is already stored at revision ")
              .append(std::to_string(other->at.revision))
              .append(" but the first is not (a changed batch, or a scavenge removed it)");
          return Status(ErrorCode::kIdempotencyConflict, m);
        }
      }
    }
    if (check_first && all_ids) {
      // (id, position) at revisions [check_first, check_first + n) that exist.
      uint64_t stop = std::min<uint64_t>(*check_first + n, *cur + 1);
      uint64_t stored_end = std::min(stop, part.state.first_pending_revision);
      std::vector<std::pair<Uuid, uint64_t>> found;
      if (*check_first < stored_end) {
        CAIRN_ASSIGN_OR_RETURN(found, StoredIds(a.stream, *check_first, stored_end - *check_first));
      }
      for (uint64_t r = std::max(*check_first, part.state.first_pending_revision); r < stop; ++r) {
        found.push_back(part.state.ids[r - part.state.first_pending_revision]);
      }
      size_t matching = 0;
      while (matching < found.size() && matching < n &&
             found[matching].first == *a.events[matching].id) {
        ++matching;
      }
      if (matching == n) {
        part.duplicate = true;
        part.result.stream = std::string(a.stream);
        part.result.revision = StreamRevision(*check_first + n - 1);
        part.result.position = Position(found[n - 1].second);
        part.result.duplicate = true;
        ++duplicates;
        continue;
      }
      if (matching > 0) {
        return Status(ErrorCode::kIdempotencyConflict,
                      "stream '" + std::string(a.stream) + "': the first " +
                          std::to_string(matching) + " of " + std::to_string(n) +
                          " events are already stored from revision " +
                          std::to_string(*check_first) + " but the rest are not");
      }
    }
    if (!ok) {
      return Status::WrongExpectedRevision({std::string(a.stream), a.expected.ToString(), cur});
    }
    if (n > 0) ++writes;
  }
  if (duplicates > 0 && writes > 0) {
    return Status(ErrorCode::kIdempotencyConflict,
                  "part of this multi-stream append is already stored and part is not");
  }
  // Every expectation holds: one record for all events of the call.
  w->results.clear();
  std::optional<log::CommitEncoder> enc;
  const size_t record_start = buf->size();
  const uint64_t first_position = *next_position;
  // Records after the first of this batch's write say so (recovery tells a
  // torn last write by it: docs/format/log.md, "Writes").
  if (writes > 0) {
    enc.emplace(buf, first_position, env_->NowNanos(), /*sparse=*/false,
                /*continues_write=*/!records->empty());
  }
  for (size_t i = 0; i < w->appends.size(); ++i) {
    const Part& a = w->appends[i];
    Slot& part = parts[i];
    if (part.duplicate) {
      w->results.push_back(part.result);
      continue;
    }
    AppendResult r;
    r.stream = std::string(a.stream);
    if (a.events.empty()) {
      if (part.state.last_revision) r.revision = StreamRevision(*part.state.last_revision);
      r.position = Position(*next_position);
      w->results.push_back(r);
      continue;
    }
    Pending st = std::move(part.state);
    uint64_t rev = a.tombstone        ? StreamRevision::kTombstone
                   : st.last_revision ? *st.last_revision + 1
                                      : 0;
    st.ids.reserve(st.ids.size() + a.events.size());
    // A tombstone that is its stream's first stored event carries the
    // stream's creation (docs/format/log.md), as any first stored event.
    const bool tombstone_creates = a.tombstone && !st.last_revision;
    for (const auto& e : a.events) {
      Uuid id = e.id ? *e.id : Uuid::Random();
      enc->AddEvent({a.stream, rev, &id, e.type, e.content_type, e.data, e.metadata,
                     e.id.has_value(), tombstone_creates});
      st.ids.emplace_back(id, *next_position);
      st.last_revision = rev;
      st.last_position = *next_position;
      ++rev;
      ++*next_position;
    }
    r.revision = StreamRevision(rev - 1);
    r.position = Position(*next_position - 1);
    w->results.push_back(r);
    auto slot = pending->find(a.stream);
    if (slot == pending->end()) slot = pending->emplace(std::string(a.stream), Pending()).first;
    slot->second = std::move(st);
    // Index entries view the name: point them at the map's key.
    std::string_view name = slot->first;
    const auto& ids = slot->second.ids;
    for (size_t k = 0; k < a.events.size(); ++k) {
      const auto& [id, p] = ids[ids.size() - a.events.size() + k];
      const uint64_t revision = r.revision->value() - (r.position.value() - p);
      entries->push_back({name,
                          {revision, p, 0},
                          a.events[k].type,
                          IdKey(id.bytes().data()),
                          a.events[k].id.has_value(),
                          /*creates=*/revision == 0 || tombstone_creates});
    }
  }
  if (enc) {
    enc->Finish();
    records->push_back({first_position, record_start});  // relative; fixed after the write
  }
  return Status::OK();
}

void StoreImpl::ProcessBatch(std::span<Writer* const> batch) {
  SwapReadLock swap(swap_mu_);  // reads of the index and log below
  PendingMap pending;
  uint64_t next_position = visible_.load(std::memory_order_acquire);
  const uint64_t start_position = next_position;
  // Buffers kept across batches (only the leader touches them): allocating
  // a fresh multi-megabyte buffer per batch costs page faults every time.
  std::string& buf = batch_buf_;
  if (buf.capacity() > (32u << 20)) std::string().swap(buf);  // after a huge append
  buf.clear();
  std::vector<index::PositionEntry> records;
  std::vector<NewEntry>& entries = batch_entries_;
  entries.clear();
  std::vector<Writer*> writing;
  for (Writer* w : batch) {
    // BuildWriter changes nothing of the batch unless every check passes.
    size_t nrec = records.size();
    w->status = w->restore.empty()
                    ? BuildWriter(w, &pending, &next_position, &buf, &records, &entries)
                    : BuildRestore(w, &next_position, &buf, &records, &entries);
    if (!w->status.ok()) {
      w->results.clear();
    } else if (records.size() > nrec) {
      writing.push_back(w);
    }
  }
  if (buf.empty()) return;

  auto fail_all = [&](const Status& s) {
    for (Writer* w : writing) {
      w->status = s;
      w->results.clear();
    }
  };
  Result<uint64_t> base = log_->PrepareWrite(buf.size(), start_position);
  if (!base) return fail_all(base.error());
  Status s = log_->Write(buf);
  if (!s.ok()) return fail_all(s);  // the log was cut back: the store stays usable
  const bool durable = options_.durability == Durability::kFsync;
  const uint64_t end_address = *base + buf.size();
  // With fsync, the batch's index entries are added while the device writes
  // it (StartSync), before the fsync returns: a third of a large batch's
  // time. They stay invisible (their positions are at or past visible_,
  // which only Publish moves, and every read filters by it), and nothing
  // freezes or persists them before the fsync succeeded. After a failed
  // fsync the store refuses writes and checkpoints (so they are never
  // persisted); reopening re-indexes from the log.
  if (durable && buf.size() >= kStartSyncBytes) log_->StartSync();
  {
    std::unique_lock l(index_mu_);
    // Record addresses were relative to the buffer; entries need their record.
    const uint64_t entries_before = index_.active->entries();
    uint64_t new_streams = 0;
    size_t rec = 0;
    for (auto& r : records) {
      r.address += *base;
      positions_.Append(r);
    }
    for (auto& n : entries) {
      while (rec + 1 < records.size() && records[rec + 1].first_position <= n.e.position) ++rec;
      n.e.address = records[rec].address;
      index_.active->Add(n.stream, n.e);
      if (n.index_id) index_.active->AddId(n.id_key, n.e);
      AddTags(index_.active.get(), n.stream, n.type, n.e, n.creates);
      if (n.creates) ++new_streams;
    }
    index_.unpublished_entries = index_.active->entries() - entries_before;
    index_.unpublished_streams = new_streams;
  }
  if (durable) {
    s = log_->Sync();
    if (!s.ok()) {
      Status cut = log_->TruncateTail(*base);
      commits_.SetFailed(Status(ErrorCode::kFailedPrecondition,
                                "store refuses writes after a failed fsync (" + s.message() +
                                    (cut.ok() ? "" : "; cutting the unsynced tail failed too") +
                                    "); reopen the store to recover"));
      return fail_all(s);
    }
  }
  {
    std::unique_lock l(index_mu_);
    index_.unpublished_entries = index_.unpublished_streams = 0;
    // Positions the batch used without an event (a restore's holes), counted
    // once the batch is durable, before it is published.
    const uint64_t holes = next_position - start_position - entries.size();
    index_.active_holes += holes;
    holes_.fetch_add(holes);
    log_->SetValidEnd(end_address);
    if (index_.active->entries() >= options_.memtable_entries) FreezeLocked(end_address);
  }
  Publish(end_address, next_position);
  if (maintenance_.frozen_pending() > 0) {
    maintenance_.Wake();
  }
}

void StoreImpl::Publish(uint64_t end_address, uint64_t next_position) {
  visible_.store(next_position, std::memory_order_seq_cst);
  // Pairs with WaitPast: it counts itself in head_waiters_ before it
  // checks visible_, so either it sees the new head or we see it waiting.
  if (head_waiters_.load(std::memory_order_seq_cst) > 0) WakeWaiters();
  // Tell read-only processes how far the durable log reaches (no fsync:
  // they share our page cache; after a crash recovery rewrites it).
  if (head_) {
    (void)head_->WriteAt(0, EncodeHead({end_address, next_position, log_generation_.load()}));
  }
}

void StoreImpl::FreezeLocked(uint64_t end_address) {
  Frozen f;
  f.table = index_.active;
  f.end_position = visible_.load();
  // The batch being published is already indexed: include it.
  if (!index_.active->empty()) {
    uint64_t max_pos = 0;
    index_.active->ForEachStream([&](const std::string&, const std::vector<index::StreamEntry>& v) {
      max_pos = std::max(max_pos, v.back().position + 1);
    });
    f.end_position = std::max(f.end_position, max_pos);
  }
  f.position_entries = positions_.size();
  f.resume_address = end_address;
  f.holes = index_.active_holes;
  index_.active_holes = 0;
  index_.frozen.push_back(std::move(f));
  maintenance_.Frozen(index_.frozen.back().table->entries());
  index_.active = std::make_shared<index::Memtable>();
}

}  // namespace cairn
