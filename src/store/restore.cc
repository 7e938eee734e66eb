// Store::Restore: writes the events of a backup with their revisions,
// positions and creation times (docs/format/log.md, "Restored records").
#include <unordered_map>

#include "src/base/hash.h"
#include "src/log/record.h"
#include "src/store/store_impl.h"

namespace cairn {
namespace {

constexpr std::string_view kMetadataType = "$metadata";
constexpr std::string_view kTombstoneType = "$streamDeleted";

std::string EventName(size_t k, const RestoreEvent& r) {
  return "restored event " + std::to_string(k) + " (stream '" + r.stream + "')";
}

}  // namespace

Status StoreImpl::CheckRestoreEvent(const RestoreEvent& r, size_t k) const {
  CAIRN_RETURN_IF_ERROR(CheckStreamName(r.stream, /*system=*/true));
  CAIRN_RETURN_IF_ERROR(CheckEvent(r.stream, k, r.event, /*system=*/true));
  const std::string_view type = r.event.type;
  const bool metadata_stream = r.stream.starts_with("$$");
  if (r.stream[0] == '$') {
    // The only '$' streams the engine writes hold other streams' metadata.
    if (!metadata_stream || r.stream.size() == 2 || r.stream[2] == '$') {
      return Status::InvalidArgument(EventName(k, r) +
                                     ": the only reserved streams are \"$$<stream>\" metadata");
    }
    if (type != kMetadataType) {
      return Status::InvalidArgument(EventName(k, r) + ": a metadata stream holds only \"" +
                                     std::string(kMetadataType) + "\" events, not '" +
                                     std::string(type) + "'");
    }
    Result<StreamMetadata> parsed = StreamMetadata::Parse(r.event.data);
    if (!parsed.has_value()) {
      return Status::InvalidArgument(EventName(k, r) + ": " + parsed.error().message());
    }
  } else if (type == kTombstoneType) {
    if (r.revision && r.revision->value() != StreamRevision::kTombstone) {
      return Status::InvalidArgument(EventName(k, r) + ": a tombstone (\"" +
                                     std::string(kTombstoneType) + "\") has revision " +
                                     std::to_string(StreamRevision::kTombstone) + ", not " +
                                     std::to_string(r.revision->value()));
    }
  } else if (type[0] == '$') {
    return Status::InvalidArgument(EventName(k, r) + ": event type '" + std::string(type) +
                                   "' is reserved (only \"$metadata\" in \"$$<stream>\" and "
                                   "\"$streamDeleted\" are restored)");
  }
  if (r.revision && r.revision->value() >= StreamRevision::kTombstone && type != kTombstoneType) {
    return Status::InvalidArgument(
        EventName(k, r) + ": revision " + std::to_string(r.revision->value()) +
        " is not below the tombstone's (" + std::to_string(StreamRevision::kTombstone) + ")");
  }
  return Status::OK();
}

Result<RestoreResult> StoreImpl::Restore(std::span<const RestoreEvent> events,
                                         size_t* failed_event) {
  if (failed_event != nullptr) *failed_event = SIZE_MAX;
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  if (options_.read_only) {
    return Status(ErrorCode::kReadOnly, "store " + dir_ + " is open read-only");
  }
  if (events.empty()) return RestoreResult();
  uint64_t total = 0;
  for (size_t k = 0; k < events.size(); ++k) {
    const RestoreEvent& r = events[k];
    Status s = CheckRestoreEvent(r, k);
    if (s.ok() && k > 0 && r.position && events[k - 1].position &&
        r.position->value() <= events[k - 1].position->value()) {
      s = Status::InvalidArgument(
          EventName(k, r) + ": position " + std::to_string(r.position->value()) +
          " is not above the position of the event before it (" +
          std::to_string(events[k - 1].position->value()) + "): events are restored in $all order");
    }
    if (!s.ok()) {
      if (failed_event != nullptr) *failed_event = k;
      return s;
    }
    // Plus a sparse record's position delta (a varint).
    total += log::MaxEncodedEventSize(r.stream.size(), r.event.type.size(), r.event.data.size(),
                                      r.event.metadata.size()) +
             10;
  }
  if (total > options_.max_append_bytes) {
    return Status::InvalidArgument("restore of " + std::to_string(total) +
                                   " bytes exceeds max_append_bytes (" +
                                   std::to_string(options_.max_append_bytes) + ")");
  }
  Writer w;
  w.system = true;  // committed in a batch of its own
  w.restore = events;
  CAIRN_RETURN_IF_ERROR(commits_.Run(&w));
  if (!w.status.ok()) {
    if (failed_event != nullptr) *failed_event = w.failed_event;
    return w.status;
  }
  return w.restored;
}

Status StoreImpl::BuildRestore(Writer* w, uint64_t* next_position, std::string* buf,
                               std::vector<index::PositionEntry>* records,
                               std::vector<NewEntry>* entries) {
  const uint64_t snapshot = visible_.load(std::memory_order_acquire);
  const std::span<const RestoreEvent> events = w->restore;
  // What the restore knows of each stream it touches: the index's state,
  // then its own events.
  struct Stream {
    std::optional<uint64_t> last;  // last revision stored or planned
    // (revision, id) of this restore's events of the stream, in order.
    std::vector<std::pair<uint64_t, Uuid>> planned;
  };
  std::unordered_map<std::string_view, Stream> streams;
  struct Planned {
    size_t k;  // index in `events`
    uint64_t revision;
    uint64_t position;
    int64_t created_ns;
    Uuid id;
    bool first_stored;  // marks its stream's creation (revision above 0)
  };
  std::vector<Planned> plan;
  plan.reserve(events.size());
  RestoreResult result;
  uint64_t next = *next_position;
  const int64_t now = env_->NowNanos();
  for (size_t k = 0; k < events.size(); ++k) {
    const RestoreEvent& r = events[k];
    auto fail = [&](Status s) {
      w->failed_event = k;
      return s;
    };
    auto found = streams.find(r.stream);
    if (found == streams.end()) {
      Stream st;
      CAIRN_ASSIGN_OR_RETURN(auto last, LastOf(r.stream, snapshot));
      if (last) st.last = last->revision;
      found = streams.emplace(std::string_view(r.stream), std::move(st)).first;
    }
    Stream& st = found->second;
    const bool tombstone = r.event.type == "$streamDeleted";
    // Already stored (a re-run of an interrupted restore)?
    bool duplicate = false;
    if (r.revision && st.last && r.revision->value() <= *st.last && r.event.id) {
      const uint64_t want = r.revision->value();
      std::optional<Uuid> stored;
      for (const auto& [rev, id] : st.planned) {
        if (rev == want) stored = id;
      }
      if (!stored && (st.planned.empty() || want < st.planned.front().first)) {
        ReadStreamOptions at;
        at.from = StreamRevision(want);
        at.max_count = 1;
        CAIRN_RETURN_IF_ERROR(ReadStreamRaw(r.stream, at, snapshot, [&](const EventView& e) {
          if (e.revision.value() == want) stored = e.id;
          return false;
        }));
      }
      duplicate = stored && *stored == *r.event.id;
    } else if (!r.revision && r.event.id && r.caller_id) {
      for (const auto& [rev, id] : st.planned) duplicate = duplicate || id == *r.event.id;
      if (!duplicate && st.last) {
        CAIRN_ASSIGN_OR_RETURN(auto at, FindById(r.stream, *r.event.id, snapshot));
        duplicate = at.has_value();
      }
    }
    if (duplicate) {
      ++result.duplicates;
      continue;
    }
    if (st.last && *st.last == StreamRevision::kTombstone) {
      return fail(Status(ErrorCode::kStreamDeleted,
                         EventName(k, r) + ": the stream is deleted (tombstoned): it can never "
                                           "be written again"));
    }
    if (r.stream.starts_with("$$")) {
      // The metadata of a tombstoned stream is gone with it (a scavenge
      // removes it; SetStreamMetadata refuses it).
      const std::string_view of = std::string_view(r.stream).substr(2);
      auto owner = streams.find(of);
      std::optional<uint64_t> last;
      if (owner != streams.end()) {
        last = owner->second.last;
      } else {
        CAIRN_ASSIGN_OR_RETURN(auto found_last, LastOf(of, snapshot));
        if (found_last) last = found_last->revision;
      }
      if (last && *last == StreamRevision::kTombstone) {
        return fail(Status(ErrorCode::kStreamDeleted,
                           EventName(k, r) + ": stream '" + std::string(of) +
                               "' is deleted (tombstoned): its metadata cannot be written"));
      }
    }
    uint64_t revision = 0;
    if (r.revision) {
      revision = r.revision->value();
      if (st.last && revision <= *st.last) {
        return fail(Status::InvalidArgument(
            EventName(k, r) + ": revision " + std::to_string(revision) +
            " is not above the stream's last revision " + std::to_string(*st.last) +
            " (and no event with this id is stored there)"));
      }
    } else if (tombstone) {
      revision = StreamRevision::kTombstone;
    } else {
      revision = st.last ? *st.last + 1 : 0;
      if (revision >= StreamRevision::kTombstone) {
        return fail(Status::InvalidArgument(EventName(k, r) + ": the stream has no revision left"));
      }
    }
    uint64_t position = next;
    if (r.position && r.position->value() >= next) {
      position = r.position->value();
    } else if (r.position) {
      ++result.moved;
    }
    if (position == UINT64_MAX) {
      return fail(
          Status::InvalidArgument(EventName(k, r) + ": position 2^64-1 is the end of $all"));
    }
    const Uuid id = r.event.id ? *r.event.id : Uuid::Random();
    const bool first_stored = !st.last && revision != 0;
    plan.push_back({k, revision, position, r.created_ns.value_or(now), id, first_stored});
    st.last = revision;
    st.planned.emplace_back(revision, id);
    next = position + 1;
  }
  // Every check passed: records of consecutive events with one creation
  // time, each dense when it starts where the log ends and skips nothing.
  uint64_t end = *next_position;  // the position after the last record written
  for (size_t i = 0; i < plan.size();) {
    size_t j = i + 1;
    bool dense = plan[i].position == end;
    while (j < plan.size() && plan[j].created_ns == plan[i].created_ns) {
      dense = dense && plan[j].position == plan[j - 1].position + 1;
      ++j;
    }
    const size_t record_start = buf->size();
    log::CommitEncoder enc(buf, plan[i].position, plan[i].created_ns, /*sparse=*/!dense,
                           /*continues_write=*/!records->empty());
    for (size_t n = i; n < j; ++n) {
      const Planned& p = plan[n];
      const RestoreEvent& r = events[p.k];
      const bool caller_id = r.event.id.has_value() && r.caller_id;
      enc.AddEvent({r.stream, p.revision, &p.id, r.event.type, r.event.content_type, r.event.data,
                    r.event.metadata, caller_id, p.first_stored},
                   p.position);
      entries->push_back({r.stream,
                          {p.revision, p.position, 0},
                          r.event.type,
                          IdKey(p.id.bytes().data()),
                          caller_id,
                          /*creates=*/p.revision == 0 || p.first_stored});
    }
    enc.Finish();
    records->push_back({plan[i].position, record_start});  // relative; fixed after the write
    end = plan[j - 1].position + 1;
    i = j;
  }
  result.written = plan.size();
  if (!plan.empty()) result.last_position = Position(plan.back().position);
  *next_position = next;
  w->restored = result;
  return Status::OK();
}

}  // namespace cairn
