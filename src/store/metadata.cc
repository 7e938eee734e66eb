// Stream metadata ("$$<stream>" system streams), retention at read time,
// soft delete and tombstones (include/cairn/store.h).
#include "src/base/hash.h"
#include "src/store/store_impl.h"

namespace cairn {
namespace {

constexpr const char* kMetadataType = "$metadata";
constexpr const char* kTombstoneType = "$streamDeleted";

std::string MetaStream(std::string_view stream) { return "$$" + std::string(stream); }

Status NotFound(std::string_view stream) {
  return Status::NotFound("stream '" + std::string(stream) + "' not found");
}

Status Deleted(std::string_view stream) {
  return Status(ErrorCode::kStreamDeleted,
                "stream '" + std::string(stream) + "' is deleted (tombstoned)");
}

}  // namespace

Status StoreImpl::Readable(std::string_view stream, const Retention& r) {
  if (r.tombstoned) return Deleted(stream);
  if (!r.last || r.soft_deleted) return NotFound(stream);
  return Status::OK();
}

Result<StreamMetadataResult> StoreImpl::MetadataAt(std::string_view stream, uint64_t snapshot) {
  StreamMetadataResult out;
  ReadStreamOptions o;
  o.direction = Direction::kBackwards;
  o.max_count = 1;
  std::string data;
  uint64_t revision = 0;
  bool found = false;
  const std::string meta = MetaStream(stream);
  Status s = ReadStreamRaw(meta, o, snapshot, [&](const EventView& e) {
    data.assign(e.data);
    revision = e.revision.value();
    found = true;
    return false;
  });
  if (s.code() == ErrorCode::kNotFound) return out;
  CAIRN_RETURN_IF_ERROR(s);
  if (!found) return out;
  auto parsed = StreamMetadata::Parse(data);
  if (!parsed) {
    return Status::Corruption("metadata of stream '" + std::string(stream) + "' (" + meta +
                              " revision " + std::to_string(revision) +
                              ") is unreadable: " + parsed.error().message());
  }
  out.metadata = std::move(*parsed);
  out.revision = StreamRevision(revision);
  return out;
}

namespace {

// Whether `run` may hold an entry of `hash` (at exactly `revision` when
// `exact`): its Bloom filter said so, one block read settles it. Read
// errors answer "may" (the caller's full lookup reports them).
bool RunMayHold(const index::IndexRun& run, uint64_t hash, uint64_t revision, bool exact) {
  index::RunReader reader(run);
  auto i = reader.LowerBound(hash, revision);
  if (!i) return true;
  if (*i >= run.count()) return false;
  auto e = reader.At(*i);
  if (!e) return true;
  return e->hash == hash && (!exact || e->revision == revision);
}

}  // namespace

bool StoreImpl::PlainStream(std::string_view stream) {
  static_assert(index::kTombstoneRevision == StreamRevision::kTombstone);
  const std::string meta = MetaStream(stream);
  const uint64_t h = StreamHash(stream);
  const uint64_t meta_h = StreamHash(meta);
  // Runs whose filters cannot rule out a metadata stream or a tombstone
  // (usually none; ~1 % of runs per question by false positives).
  std::vector<std::shared_ptr<const index::IndexRun>> maybe_meta, maybe_tombstone;
  {
    std::shared_lock l(index_mu_);
    auto table_plain = [&](const index::Memtable& t) {
      if (t.Find(meta) != nullptr) return false;
      const auto* v = t.Find(stream);
      return v == nullptr || v->empty() || v->back().revision != StreamRevision::kTombstone;
    };
    if (index_.active->HoldsRetentionKeys() && !table_plain(*index_.active)) return false;
    for (const auto& f : index_.frozen) {
      if (f.table->HoldsRetentionKeys() && !table_plain(*f.table)) return false;
    }
    for (const auto& run : index_.runs.stream) {
      if (run->info().flags & index::kRunNoRetentionKeys) continue;  // nothing to find there
      if (run->MayContain(meta_h)) maybe_meta.push_back(run);
      if (run->MayHoldTombstone(h)) maybe_tombstone.push_back(run);
    }
  }
  for (const auto& run : maybe_meta) {
    if (RunMayHold(*run, meta_h, 0, /*exact=*/false)) return false;
  }
  for (const auto& run : maybe_tombstone) {
    if (RunMayHold(*run, h, StreamRevision::kTombstone, /*exact=*/true)) return false;
  }
  return true;
}

Result<StoreImpl::Retention> StoreImpl::RetentionOf(std::string_view stream, uint64_t snapshot,
                                                    const DecodedRecord* decoded) {
  Retention r;
  CAIRN_ASSIGN_OR_RETURN(auto last, LastOf(stream, snapshot, decoded));
  if (!last) return r;
  r.last = last->revision;
  r.last_position = last->position;
  if (last->revision == StreamRevision::kTombstone) {
    r.tombstoned = true;
    return r;
  }
  if (!stream.empty() && stream[0] == '$') return r;  // system streams have no metadata
  CAIRN_ASSIGN_OR_RETURN(auto meta, MetadataAt(stream, snapshot));
  const StreamMetadata& m = meta.metadata;
  r.first_visible = m.truncate_before.value_or(0);
  r.soft_deleted = r.first_visible > last->revision;
  if (m.max_count && last->revision + 1 > *m.max_count) {
    r.first_visible = std::max(r.first_visible, last->revision + 1 - *m.max_count);
  }
  if (m.max_age_seconds) {
    const int64_t age_ns = *m.max_age_seconds > static_cast<uint64_t>(INT64_MAX / 1000000000)
                               ? INT64_MAX
                               : static_cast<int64_t>(*m.max_age_seconds) * 1000000000;
    r.min_created_ns = env_->NowNanos() - age_ns;
  }
  return r;
}

Result<StreamMetadataResult> StoreImpl::GetStreamMetadata(std::string_view stream) {
  ReadScope read(this);
  CAIRN_RETURN_IF_ERROR(read.status());
  std::vector<Part> check = {{stream, ExpectedRevision::Any(), {}}};
  CAIRN_RETURN_IF_ERROR(ValidateAppend(check, /*system=*/false));
  const uint64_t snapshot = read.snapshot();
  CAIRN_ASSIGN_OR_RETURN(Retention r, RetentionOf(stream, snapshot));
  if (r.tombstoned) return Deleted(stream);
  return MetadataAt(stream, snapshot);
}

Result<AppendResult> StoreImpl::SetStreamMetadata(std::string_view stream,
                                                  ExpectedRevision expected,
                                                  const StreamMetadata& metadata) {
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  std::vector<Part> check = {{stream, ExpectedRevision::Any(), {}}};
  CAIRN_RETURN_IF_ERROR(ValidateAppend(check, /*system=*/false));
  auto custom = StreamMetadata::Parse(metadata.custom);
  if (!custom) return Status::InvalidArgument("custom metadata: " + custom.error().message());
  if (custom->max_count || custom->max_age_seconds || custom->truncate_before) {
    return Status::InvalidArgument(
        "custom metadata must not hold $maxCount, $maxAge or $tb: use the typed fields");
  }
  if (metadata.max_count && *metadata.max_count == 0) {
    return Status::InvalidArgument("stream metadata key '$maxCount' must be at least 1");
  }
  EventData e;
  e.type = kMetadataType;
  e.data = metadata.ToJson();
  const std::string meta = MetaStream(stream);
  // The empty part on the stream itself fails the write when it is tombstoned.
  std::vector<Part> parts = {{stream, ExpectedRevision::Any(), {}}, {meta, expected, {&e, 1}}};
  CAIRN_ASSIGN_OR_RETURN(auto results, SubmitSystem(std::move(parts)));
  return std::move(results[1]);
}

Result<AppendResult> StoreImpl::DeleteStream(std::string_view stream, ExpectedRevision expected) {
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  if (options_.read_only) {
    return Status(ErrorCode::kReadOnly, "store " + dir_ + " is open read-only");
  }
  std::vector<Part> check = {{stream, ExpectedRevision::Any(), {}}};
  CAIRN_RETURN_IF_ERROR(ValidateAppend(check, /*system=*/false));
  // The metadata written depends on the last revision read here: pin both
  // with exact expectations and retry when a concurrent append moved them.
  for (int attempt = 0;; ++attempt) {
    SwapReadLock swap(swap_mu_);  // released before the append below
    const uint64_t snapshot = visible_.load(std::memory_order_acquire);
    CAIRN_ASSIGN_OR_RETURN(Retention r, RetentionOf(stream, snapshot));
    if (r.tombstoned) return Deleted(stream);
    const bool exists = r.last && !r.soft_deleted;
    if (expected.kind() == ExpectedRevision::Kind::kExact &&
        (!exists || *r.last != expected.revision().value())) {
      return Status::WrongExpectedRevision(
          {std::string(stream), expected.ToString(), exists ? r.last : std::nullopt});
    }
    if (expected.kind() == ExpectedRevision::Kind::kNoStream && exists) {
      return Status::WrongExpectedRevision({std::string(stream), expected.ToString(), r.last});
    }
    if (!exists) return NotFound(stream);
    CAIRN_ASSIGN_OR_RETURN(auto meta, MetadataAt(stream, snapshot));
    StreamMetadata m = meta.metadata;
    m.truncate_before = *r.last + 1;
    EventData e;
    e.type = kMetadataType;
    e.data = m.ToJson();
    const std::string meta_stream = MetaStream(stream);  // parts view it: must outlive them
    std::vector<Part> parts = {
        {stream, ExpectedRevision::Exact(StreamRevision(*r.last)), {}},
        {meta_stream,
         meta.revision ? ExpectedRevision::Exact(*meta.revision) : ExpectedRevision::NoStream(),
         {&e, 1}}};
    swap.unlock();
    auto results = SubmitSystem(std::move(parts));
    if (results) return std::move((*results)[1]);
    if (results.error().code() != ErrorCode::kWrongExpectedRevision || attempt >= 20) {
      return results.error();
    }
    // Someone appended or changed the metadata meanwhile: look again.
  }
}

Result<AppendResult> StoreImpl::TombstoneStream(std::string_view stream,
                                                ExpectedRevision expected) {
  std::vector<Part> check = {{stream, ExpectedRevision::Any(), {}}};
  CAIRN_RETURN_IF_ERROR(ValidateAppend(check, /*system=*/false));
  EventData e;
  e.type = kTombstoneType;
  e.data = "{}";
  Part p{stream, expected, {&e, 1}};
  p.tombstone = true;
  CAIRN_ASSIGN_OR_RETURN(auto results, SubmitSystem({p}));
  return std::move(results[0]);
}

Result<AppendResult> StoreImpl::AppendSystem(std::string_view stream, ExpectedRevision expected,
                                             std::span<const EventData> events) {
  if (stream.size() < 2 || stream[0] != '$' || stream[1] == '$') {
    return Status::InvalidArgument("stream '" + std::string(stream) +
                                   "': a system stream's name starts with one '$' ('$$' "
                                   "names are metadata: SetStreamMetadata)");
  }
  CAIRN_RETURN_IF_ERROR(CheckNotInCallback());
  CAIRN_ASSIGN_OR_RETURN(auto results, SubmitSystem({Part{stream, expected, events}}));
  return std::move(results[0]);
}

}  // namespace cairn
