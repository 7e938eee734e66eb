// Read paths of the native engine: stream and $all reads, stream and
// event-id lookups. Readers take `visible_` as their snapshot and hold
// index_mu_ shared only while copying entries (see store_impl.h).
#include <algorithm>

#include "src/base/hash.h"
#include "src/log/record.h"
#include "src/store/filter.h"
#include "src/store/store_impl.h"

namespace cairn {
namespace {

// Appends to *out, in read order, at most `max` entries of `v` (revision
// order) from revision `from` on, upwards when `fwd`, else downwards,
// leaving out entries at or past `snapshot` (not yet visible to this read).
void CopyRange(const std::vector<index::StreamEntry>* v, bool fwd, uint64_t from, uint64_t max,
               uint64_t snapshot, std::vector<index::StreamEntry>* out) {
  if (v == nullptr) return;
  auto by_revision = [](const index::StreamEntry& e, uint64_t r) { return e.revision < r; };
  if (fwd) {
    auto it = std::lower_bound(v->begin(), v->end(), from, by_revision);
    for (; it != v->end() && out->size() < max; ++it) {
      if (it->position < snapshot) out->push_back(*it);
    }
  } else {
    // First entry past `from` (UINT64_MAX means the end), then walk down.
    auto it = from == UINT64_MAX ? v->end()
                                 : std::lower_bound(v->begin(), v->end(), from + 1, by_revision);
    while (it != v->begin() && out->size() < max) {
      if ((--it)->position < snapshot) out->push_back(*it);
    }
  }
}

}  // namespace

Result<std::optional<StoreImpl::Last>> StoreImpl::LastOf(std::string_view stream, uint64_t snapshot,
                                                         const DecodedRecord* decoded) {
  std::vector<std::shared_ptr<const index::IndexRun>> runs;
  {
    std::shared_lock l(index_mu_);
    auto from_table = [&](const index::Memtable& t) -> std::optional<Last> {
      const auto* v = t.Find(stream);
      if (v == nullptr) return std::nullopt;
      for (auto it = v->rbegin(); it != v->rend(); ++it) {
        if (it->position < snapshot) return Last{it->revision, it->position};
      }
      return std::nullopt;
    };
    if (auto r = from_table(*index_.active)) return std::optional<Last>(*r);
    for (auto it = index_.frozen.rbegin(); it != index_.frozen.rend(); ++it) {
      if (auto r = from_table(*it->table)) return std::optional<Last>(*r);
    }
    runs = index_.runs.stream;
  }
  uint64_t h = StreamHash(stream);
  std::vector<EventView> events;
  for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
    const index::IndexRun& run = **it;
    if (!run.MayContain(h)) continue;  // most runs never saw this stream
    index::RunReader reader(run);
    CAIRN_ASSIGN_OR_RETURN(uint64_t i, reader.LowerBound(h, UINT64_MAX));
    while (i > 0) {
      CAIRN_ASSIGN_OR_RETURN(index::IndexEntry e, reader.At(--i));
      if (e.hash != h) break;
      if (e.position >= snapshot) continue;
      // Confirm the stream name: another stream may share the hash. (A
      // category read asks about the stream of the record it holds, which
      // usually holds the stream's last event too.)
      const std::vector<EventView>* in = &events;
      if (decoded != nullptr && decoded->events != nullptr && decoded->address == e.address) {
        in = decoded->events;
      } else {
        CAIRN_RETURN_IF_ERROR(DecodeRecord(e.address, &events));
      }
      const EventView* at = log::FindAt(*in, e.position);
      if (at == nullptr) {
        return Status::Corruption(run.path() + ": entry for position " +
                                  std::to_string(e.position) + " points to a record without it");
      }
      if (at->stream == stream) {
        return std::optional<Last>(Last{e.revision, e.position});
      }
    }
  }
  return std::optional<Last>();
}

Result<std::optional<StoreImpl::Last>> StoreImpl::FindById(std::string_view stream, const Uuid& id,
                                                           uint64_t snapshot) {
  CAIRN_ASSIGN_OR_RETURN(auto found,
                         FirstStoredId(stream, std::span<const Uuid>(&id, 1), snapshot));
  return found ? std::optional<Last>(found->at) : std::nullopt;
}

Result<std::optional<StoreImpl::StoredEvent>> StoreImpl::FirstStoredId(std::string_view stream,
                                                                       std::span<const Uuid> ids,
                                                                       uint64_t snapshot) {
  struct Candidate {
    size_t index;
    index::StreamEntry e;
  };
  std::vector<Candidate> candidates;
  std::vector<uint64_t> keys(ids.size());
  for (size_t k = 0; k < ids.size(); ++k) keys[k] = IdKey(ids[k].bytes().data());
  RunList runs;
  {
    std::shared_lock l(index_mu_);
    for (size_t k = 0; k < ids.size(); ++k) {
      auto collect = [&](const index::StreamEntry& e) { candidates.push_back({k, e}); };
      index_.active->ForEachId(keys[k], collect);
      for (const auto& f : index_.frozen) f.table->ForEachId(keys[k], collect);
    }
    runs = index_.runs.ids;
  }
  for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
    index::RunReader reader(**it);
    for (size_t k = 0; k < ids.size(); ++k) {
      if (!(*it)->MayContain(keys[k])) continue;
      CAIRN_ASSIGN_OR_RETURN(uint64_t start, reader.LowerBound(keys[k], 0));
      for (uint64_t i = start; i < (*it)->count(); ++i) {
        CAIRN_ASSIGN_OR_RETURN(index::IndexEntry e, reader.At(i));
        if (e.hash != keys[k]) break;
        candidates.push_back({k, {e.revision, e.position, e.address}});
      }
    }
  }
  // Hash matches are confirmed against the log, earliest id first; for one
  // id, newest index first (memtable, frozen, runs newest to oldest).
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.index < b.index; });
  std::vector<EventView> decoded;
  for (const auto& c : candidates) {
    if (c.e.position >= snapshot) continue;
    CAIRN_RETURN_IF_ERROR(DecodeRecord(c.e.address, &decoded));
    const EventView* at = log::FindAt(decoded, c.e.position);
    if (at == nullptr) {
      return Status::Corruption("event-id index entry for position " +
                                std::to_string(c.e.position) + " points to a record without it");
    }
    if (at->id == ids[c.index] && at->stream == stream) {
      return std::optional<StoredEvent>(StoredEvent{c.index, Last{c.e.revision, c.e.position}});
    }
  }
  return std::optional<StoredEvent>();
}

Result<std::vector<std::pair<Uuid, uint64_t>>> StoreImpl::StoredIds(std::string_view stream,
                                                                    uint64_t first, size_t n) {
  std::vector<std::pair<Uuid, uint64_t>> ids;
  if (n == 0) return ids;
  ReadStreamOptions ro;
  ro.from = StreamRevision(first);
  ro.max_count = n;
  // Retention does not matter here: a retry is compared with what is stored.
  // Only revisions first, first + 1, ... count: a scavenge may have removed
  // some, and a retry cannot be matched against events that are gone.
  Status s =
      ReadStreamRaw(stream, ro, visible_.load(std::memory_order_acquire), [&](const EventView& e) {
        if (e.revision.value() != first + ids.size()) return false;
        ids.emplace_back(e.id, e.position.value());
        return true;
      });
  if (!s.ok() && s.code() != ErrorCode::kNotFound) return s;
  return ids;
}

Status StoreImpl::DecodeRecord(uint64_t address, std::vector<EventView>* events) const {
  events->clear();
  CAIRN_ASSIGN_OR_RETURN(std::string_view body, log_->Record(address));
  CAIRN_ASSIGN_OR_RETURN(auto reader, log::CommitReader::Open(body, [this, address] {
                           return log_->SegmentPath(log::AddressSegment(address)) + " offset " +
                                  std::to_string(log::AddressOffset(address));
                         }));
  events->reserve(reader.event_count());
  EventView e;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool more, reader.Next(&e));
    if (!more) break;
    events->push_back(e);
  }
  return Status::OK();
}

Status StoreImpl::ReadStream(std::string_view stream, const ReadStreamOptions& options,
                             const EventVisitor& visit) {
  if (stream.empty()) return Status::InvalidArgument("stream name is empty");
  ReadScope read(this);
  CAIRN_RETURN_IF_ERROR(read.status());
  const uint64_t snapshot = read.snapshot();
  CAIRN_ASSIGN_OR_RETURN(Retention r, RetentionOf(stream, snapshot));
  CAIRN_RETURN_IF_ERROR(Readable(stream, r));
  if (options.max_count == 0) return Status::OK();
  const bool fwd = options.direction == Direction::kForwards;
  ReadStreamOptions o = options;
  if (fwd) {
    o.from = StreamRevision(std::max(options.from ? options.from->value() : 0, r.first_visible));
  } else if (options.from && options.from->value() < r.first_visible) {
    return Status::OK();  // everything at or before `from` is truncated
  }
  if (r.first_visible == 0 && r.min_created_ns == INT64_MIN) {
    return ReadStreamRaw(stream, o, snapshot, visit);  // no retention: the plain read
  }
  // Retention: skip what "$maxAge" hides (so max_count counts visible events)
  // and stop below the first visible revision.
  o.max_count = r.min_created_ns == INT64_MIN ? options.max_count : UINT64_MAX;
  uint64_t emitted = 0;
  Status s = ReadStreamRaw(stream, o, snapshot, [&](const EventView& e) {
    if (e.revision.value() < r.first_visible) return false;
    if (e.created_ns < r.min_created_ns) return true;
    ++emitted;
    return visit(e) && emitted < options.max_count;
  });
  return s.code() == ErrorCode::kNotFound ? Status::OK() : s;
}

Status StoreImpl::ReadStreamRaw(std::string_view stream, const ReadStreamOptions& options,
                                uint64_t snapshot, const EventVisitor& visit) {
  if (options.max_count == 0) {
    CAIRN_ASSIGN_OR_RETURN(auto last, LastOf(stream, snapshot));
    if (!last) return Status::NotFound("stream '" + std::string(stream) + "' not found");
    return Status::OK();
  }
  const bool fwd = options.direction == Direction::kForwards;
  const uint64_t from = options.from ? options.from->value() : (fwd ? 0 : UINT64_MAX);
  const uint64_t h = StreamHash(stream);

  // Candidate entries (hash matches or exact name), in read order. Runs may
  // hold entries of other streams with the same hash; the log settles it.
  // Collect at most what is needed per source, walking sources in order.
  std::vector<std::shared_ptr<const index::IndexRun>> runs;
  std::vector<std::shared_ptr<const index::Memtable>> tables;
  std::vector<index::StreamEntry> active_part;  // in read order
  {
    std::shared_lock l(index_mu_);
    runs = index_.runs.stream;
    for (const auto& f : index_.frozen) tables.push_back(f.table);
    // The active memtable mutates: copy its entries for this stream now.
    CopyRange(index_.active->Find(stream), fwd, from, options.max_count, snapshot, &active_part);
  }

  uint64_t emitted = 0;
  bool stop = false;
  bool seen_stream = false;
  std::vector<EventView> events;
  uint64_t loaded = UINT64_MAX;
  auto emit = [&](const index::StreamEntry& e, bool verify_name) -> Status {
    if (e.position >= snapshot) return Status::OK();
    if (e.address != loaded) {
      CAIRN_RETURN_IF_ERROR(DecodeRecord(e.address, &events));
      loaded = e.address;
    }
    const EventView* at = log::FindAt(events, e.position);
    if (at == nullptr) {
      return Status::Corruption("index entry for position " + std::to_string(e.position) +
                                " points to a record that does not hold it");
    }
    const EventView& ev = *at;
    if (ev.stream != stream) {
      if (!verify_name) {
        return Status::Corruption("index entry for stream '" + std::string(stream) + "' position " +
                                  std::to_string(e.position) + " points to an event of '" +
                                  std::string(ev.stream) + "'");
      }
      return Status::OK();  // a hash collision: another stream's entry
    }
    if (ev.revision.value() != e.revision) {
      return Status::Corruption("index says revision " + std::to_string(e.revision) + " of '" +
                                std::string(stream) + "' is at position " +
                                std::to_string(e.position) + ", the log says revision " +
                                std::to_string(ev.revision.value()));
    }
    seen_stream = true;
    ++emitted;
    if (!visit(ev) || emitted >= options.max_count) stop = true;
    return Status::OK();
  };
  auto from_table = [&](const index::Memtable& t) -> Status {
    std::vector<index::StreamEntry> part;
    CopyRange(t.Find(stream), fwd, from, options.max_count, snapshot, &part);
    for (const auto& e : part) {
      if (stop) break;
      CAIRN_RETURN_IF_ERROR(emit(e, false));
    }
    return Status::OK();
  };
  auto from_run = [&](const index::IndexRun& run) -> Status {
    if (!run.MayContain(h)) return Status::OK();
    index::RunReader reader(run);
    if (fwd) {
      CAIRN_ASSIGN_OR_RETURN(uint64_t start, reader.LowerBound(h, from));
      for (uint64_t i = start; i < run.count() && !stop; ++i) {
        CAIRN_ASSIGN_OR_RETURN(index::IndexEntry e, reader.At(i));
        if (e.hash != h) break;
        CAIRN_RETURN_IF_ERROR(emit({e.revision, e.position, e.address}, true));
      }
    } else {
      CAIRN_ASSIGN_OR_RETURN(uint64_t i,
                             reader.LowerBound(h, from == UINT64_MAX ? UINT64_MAX : from + 1));
      while (i > 0 && !stop) {
        CAIRN_ASSIGN_OR_RETURN(index::IndexEntry e, reader.At(--i));
        if (e.hash != h) break;
        CAIRN_RETURN_IF_ERROR(emit({e.revision, e.position, e.address}, true));
      }
    }
    return Status::OK();
  };
  if (fwd) {
    for (const auto& r : runs) {
      if (!stop) CAIRN_RETURN_IF_ERROR(from_run(*r));
    }
    for (const auto& t : tables) {
      if (!stop) CAIRN_RETURN_IF_ERROR(from_table(*t));
    }
    for (const auto& e : active_part) {
      if (!stop) CAIRN_RETURN_IF_ERROR(emit(e, false));
    }
  } else {
    for (const auto& e : active_part) {
      if (!stop) CAIRN_RETURN_IF_ERROR(emit(e, false));
    }
    for (auto it = tables.rbegin(); it != tables.rend() && !stop; ++it) {
      CAIRN_RETURN_IF_ERROR(from_table(**it));
    }
    for (auto it = runs.rbegin(); it != runs.rend() && !stop; ++it) {
      CAIRN_RETURN_IF_ERROR(from_run(**it));
    }
  }
  if (!seen_stream) {
    CAIRN_ASSIGN_OR_RETURN(auto last, LastOf(stream, snapshot));
    if (!last) return Status::NotFound("stream '" + std::string(stream) + "' not found");
  }
  return Status::OK();
}

Status StoreImpl::ScanAll(uint64_t from, uint64_t snapshot, const EventVisitor& visit) {
  if (from >= snapshot) return Status::OK();
  uint64_t ord = positions_.Locate(from);
  if (ord >= positions_.size()) {
    // `from` precedes the first record: a scavenge removed the records
    // before it (or `from` is 0 of a store whose first events are gone).
    if (positions_.size() == 0 || positions_.At(0).first_position <= from) {
      return Status::Corruption("position index has no record for " + std::to_string(from));
    }
    ord = 0;
  }
  uint64_t start = positions_.At(ord).address;
  uint64_t end = log_->EndAddress();
  // A stop (the snapshot's end, or the visitor's) leaves Log::Scan as an
  // error status; `stopped` tells it apart by flag, not by its text.
  bool stopped = false;
  auto stop = [&stopped] {
    stopped = true;
    return Status(ErrorCode::kCancelled, "scan stopped");
  };
  Status s = log_->Scan(start, end, [&](uint64_t address, std::string_view body, size_t) {
    CAIRN_ASSIGN_OR_RETURN(auto reader, log::CommitReader::Open(body, [this, address] {
                             return log_->SegmentPath(log::AddressSegment(address)) + " offset " +
                                    std::to_string(log::AddressOffset(address));
                           }));
    if (reader.first_position() >= snapshot) return stop();
    EventView e;
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(bool more, reader.Next(&e));
      if (!more) break;
      uint64_t p = e.position.value();
      if (p < from) continue;
      if (p >= snapshot) return stop();
      if (!visit(e)) return stop();
    }
    return Status::OK();
  });
  return stopped ? Status::OK() : s;
}

Status StoreImpl::ReadAll(const ReadAllOptions& options, const EventVisitor& visit) {
  ReadScope read(this);
  CAIRN_RETURN_IF_ERROR(read.status());
  CAIRN_ASSIGN_OR_RETURN(auto matcher, EventMatcher::Compile(options.filter));
  const uint64_t snapshot = read.snapshot();
  if (snapshot == 0 || options.max_count == 0) return Status::OK();
  uint64_t emitted = 0;
  if (options.direction == Direction::kForwards) {
    return ScanAll(options.from ? options.from->value() : 0, snapshot, [&](const EventView& e) {
      if (!matcher->Matches(e.stream, e.type)) return true;
      ++emitted;
      return visit(e) && emitted < options.max_count;
    });
  }
  uint64_t from = options.from ? std::min(options.from->value(), snapshot - 1) : snapshot - 1;
  return ScanAllBackwards(from, [&](const EventView& e) {
    if (!matcher->Matches(e.stream, e.type)) return true;
    ++emitted;
    return visit(e) && emitted < options.max_count;
  });
}

Status StoreImpl::ScanAllBackwards(uint64_t from, const EventVisitor& visit) {
  uint64_t ord = positions_.Locate(from);
  std::vector<EventView> events;
  while (ord < positions_.size()) {
    CAIRN_RETURN_IF_ERROR(DecodeRecord(positions_.At(ord).address, &events));
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (it->position.value() > from) continue;
      if (!visit(*it)) return Status::OK();
    }
    if (ord == 0) break;
    --ord;
  }
  return Status::OK();
}

Result<StreamInfo> StoreImpl::GetStreamInfo(std::string_view stream) {
  if (stream.empty()) return Status::InvalidArgument("stream name is empty");
  ReadScope read(this);
  CAIRN_RETURN_IF_ERROR(read.status());
  const uint64_t snapshot = read.snapshot();
  CAIRN_ASSIGN_OR_RETURN(Retention r, RetentionOf(stream, snapshot));
  CAIRN_RETURN_IF_ERROR(Readable(stream, r));
  return StreamInfo{std::string(stream), StreamRevision(*r.last), Position(r.last_position)};
}

Result<std::optional<RecordedEvent>> StoreImpl::FindEvent(std::string_view stream, const Uuid& id) {
  ReadScope read(this);
  CAIRN_RETURN_IF_ERROR(read.status());
  const uint64_t snapshot = read.snapshot();
  CAIRN_ASSIGN_OR_RETURN(Retention r, RetentionOf(stream, snapshot));
  if (r.tombstoned) {
    return Status(ErrorCode::kStreamDeleted,
                  "stream '" + std::string(stream) + "' is deleted (tombstoned)");
  }
  CAIRN_ASSIGN_OR_RETURN(auto found, FindById(stream, id, snapshot));
  if (!found) return std::optional<RecordedEvent>();
  ReadStreamOptions o;
  o.from = StreamRevision(found->revision);
  o.max_count = 1;
  std::optional<RecordedEvent> out;
  CAIRN_RETURN_IF_ERROR(ReadStreamRaw(stream, o, snapshot, [&](const EventView& e) {
    if (e.revision.value() == found->revision) out = e.ToRecorded();
    return false;
  }));
  return out;
}

Result<Position> StoreImpl::HeadPosition() {
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  if (options_.read_only) CAIRN_RETURN_IF_ERROR(recovery_.Refresh());
  return Position(visible_.load(std::memory_order_acquire));
}

}  // namespace cairn
