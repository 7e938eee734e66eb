// Listing streams (through the creation tags of the tag index) and counting
// events (include/cairn/store.h).
#include "src/base/hash.h"
#include "src/store/filter.h"
#include "src/store/store_impl.h"

namespace cairn {

Result<uint64_t> StoreImpl::VisibleCount(std::string_view stream, const Retention& r,
                                         uint64_t snapshot) {
  if (!r.last || r.tombstoned || r.soft_deleted) return uint64_t{0};
  ReadStreamOptions o;
  o.from = StreamRevision(r.first_visible);
  if (r.min_created_ns == INT64_MIN) {
    // Stored revisions of a stream are contiguous from its first stored one
    // (a scavenge removes a prefix and keeps the last): count from the first
    // visible revision still stored, found by one index lookup.
    if (r.first_visible > *r.last) return uint64_t{0};
    o.max_count = 1;
    uint64_t first = *r.last + 1;
    CAIRN_RETURN_IF_ERROR(ReadStreamRaw(stream, o, snapshot, [&](const EventView& e) {
      first = e.revision.value();
      return false;
    }));
    return *r.last + 1 - std::min(first, *r.last + 1);
  }
  // "$maxAge": only the events themselves say which are young enough.
  uint64_t n = 0;
  CAIRN_RETURN_IF_ERROR(ReadStreamRaw(stream, o, snapshot, [&](const EventView& e) {
    n += e.created_ns >= r.min_created_ns ? 1 : 0;
    return true;
  }));
  return n;
}

Result<std::vector<StreamSummary>> StoreImpl::ListStreams(const ListStreamsOptions& options) {
  ReadScope read(this);
  CAIRN_RETURN_IF_ERROR(read.status());
  const uint64_t snapshot = read.snapshot();
  std::vector<StreamSummary> out;
  // Nothing is created after the last position there can be (and +1 below
  // would wrap to the first).
  if (options.limit == 0 || (options.after && options.after->value() == UINT64_MAX)) return out;
  const std::string_view category = StreamCategory(options.prefix);
  const std::string tag = category.empty() ? StreamsTag() : CategoryStreamsTag(category);
  CAIRN_ASSIGN_OR_RETURN(auto matcher, EventMatcher::Compile(EventFilter{}));
  Status error;
  const uint64_t from = options.after ? options.after->value() + 1 : 0;
  Status s =
      ReadTaggedRaw(tag, /*forwards=*/true, from, snapshot, matcher.get(), [&](const EventView& e) {
        if (e.stream.empty() || e.stream[0] == '$') return true;  // system streams
        if (e.stream.substr(0, options.prefix.size()) != options.prefix) return true;
        // Only the stream's first stored event counts as its creation (after a
        // scavenge several events may carry the tag).
        if (e.revision.value() != 0) {
          ReadStreamOptions first;
          first.max_count = 1;
          uint64_t first_revision = UINT64_MAX;
          Status fs = ReadStreamRaw(e.stream, first, snapshot, [&](const EventView& x) {
            first_revision = x.revision.value();
            return false;
          });
          if (!fs.ok() && fs.code() != ErrorCode::kNotFound) {
            error = fs;
            return false;
          }
          if (first_revision != e.revision.value()) return true;
        }
        auto r = RetentionOf(e.stream, snapshot);
        if (!r) {
          error = r.error();
          return false;
        }
        StreamSummary sum;
        sum.state = r->tombstoned     ? StreamState::kTombstoned
                    : r->soft_deleted ? StreamState::kSoftDeleted
                                      : StreamState::kLive;
        if (sum.state != StreamState::kLive && !options.include_deleted) return true;
        auto count = VisibleCount(e.stream, *r, snapshot);
        if (!count) {
          error = count.error();
          return false;
        }
        sum.stream = std::string(e.stream);
        sum.created = e.position;
        sum.last_revision = StreamRevision(r->last.value_or(0));
        sum.last_position = Position(r->last_position);
        sum.event_count = *count;
        out.push_back(std::move(sum));
        return out.size() < options.limit;
      });
  CAIRN_RETURN_IF_ERROR(error);
  CAIRN_RETURN_IF_ERROR(s);
  return out;
}

Result<uint64_t> StoreImpl::Count(const CountOf& what) {
  switch (what.kind) {
    case CountOf::Kind::kAll:
      return CountAll();
    case CountOf::Kind::kStream:
      return CountStream(what.name);
    case CountOf::Kind::kCategory:
      return CountCategory(what.name);
  }
  return Status::InvalidArgument("unknown CountOf kind");
}

Result<uint64_t> StoreImpl::CountAll() {
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  CAIRN_ASSIGN_OR_RETURN(StoreStats st, Stats());
  return st.events;
}

Result<uint64_t> StoreImpl::CountStream(std::string_view stream) {
  if (stream.empty()) return Status::InvalidArgument("stream name is empty");
  ReadScope read(this);
  CAIRN_RETURN_IF_ERROR(read.status());
  const uint64_t snapshot = read.snapshot();
  CAIRN_ASSIGN_OR_RETURN(Retention r, RetentionOf(stream, snapshot));
  CAIRN_RETURN_IF_ERROR(Readable(stream, r));
  return VisibleCount(stream, r, snapshot);
}

Result<uint64_t> StoreImpl::CountCategory(std::string_view category) {
  uint64_t n = 0;
  CAIRN_RETURN_IF_ERROR(ReadCategory(category, ReadAllOptions{}, [&](const EventView&) {
    ++n;
    return true;
  }));
  return n;
}

}  // namespace cairn
