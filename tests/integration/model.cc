// The model's rules (see model.h for the contract they make exact).
#include "tests/integration/model.h"

#include <algorithm>

namespace cairn {
namespace {

bool Holds(ExpectedRevision e, std::optional<uint64_t> cur, bool counts_as_absent) {
  switch (e.kind()) {
    case ExpectedRevision::Kind::kAny:
      return true;
    case ExpectedRevision::Kind::kNoStream:
      return !cur || counts_as_absent;
    case ExpectedRevision::Kind::kStreamExists:
      return cur && !counts_as_absent;
    case ExpectedRevision::Kind::kExact:
      return cur && *cur == e.revision().value();
  }
  return false;
}

}  // namespace

std::string Model::CategoryOf(const std::string& stream) {
  const size_t dash = stream.find('-');
  return dash == std::string::npos ? std::string() : stream.substr(0, dash);
}

uint64_t Model::FirstStored() const {
  uint64_t p = 0;
  while (p < all_.size() && all_[p].removed) ++p;
  return p;
}

size_t Model::stream_count() const {
  size_t n = 0;
  for (const auto& [stream, positions] : streams_) {
    // A user stream keeps its last event or its tombstone; a metadata
    // stream loses every event when its stream is tombstoned.
    bool stored = Tombstoned(stream);
    for (auto it = positions.rbegin(); it != positions.rend() && !stored; ++it) {
      stored = !all_[*it].removed;
    }
    n += stored ? 1 : 0;
  }
  // A stream tombstoned without ever holding an event: its tombstone is its
  // first stored event.
  for (const auto& [stream, position] : tombstones_) n += streams_.contains(stream) ? 0 : 1;
  return n;
}

std::optional<uint64_t> Model::LastRevision(const std::string& stream) const {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return std::nullopt;
  return it->second.size() - 1;
}

uint64_t Model::StreamLength(const std::string& stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? 0 : it->second.size();
}

const StreamMetadata* Model::Metadata(const std::string& stream) const {
  auto it = metadata_.find(stream);
  return it == metadata_.end() ? nullptr : &it->second;
}

ModelRetention Model::RetentionOf(const std::string& stream) const {
  ModelRetention r;
  r.last = LastRevision(stream);
  r.tombstoned = Tombstoned(stream);
  const StreamMetadata* m = Metadata(stream);
  if (r.tombstoned || !r.last || IsSystem(stream) || m == nullptr) return r;
  r.first_visible = m->truncate_before.value_or(0);
  r.soft_deleted = r.first_visible > *r.last;
  if (m->max_count && *r.last + 1 > *m->max_count) {
    r.first_visible = std::max(r.first_visible, *r.last + 1 - *m->max_count);
  }
  return r;
}

Outcome Model::Predict(std::span<const StreamAppend> parts) const {
  Outcome out;
  size_t duplicates = 0, writes = 0;
  uint64_t next = all_.size();
  for (const StreamAppend& a : parts) {
    if (Tombstoned(a.stream)) return Fail(ErrorCode::kStreamDeleted);
    const ModelRetention r = RetentionOf(a.stream);
    const std::optional<uint64_t> cur = r.last;
    const size_t n = a.events.size();
    bool all_ids = n > 0;
    for (const auto& e : a.events) all_ids = all_ids && e.id.has_value();
    const bool holds = Holds(a.expected, cur, r.soft_deleted);
    std::optional<uint64_t> implied;  // first revision the expectation names
    if (a.expected.kind() == ExpectedRevision::Kind::kNoStream) {
      const StreamMetadata* m = Metadata(a.stream);
      implied = m != nullptr && cur ? m->truncate_before.value_or(0) : 0;
    } else if (a.expected.kind() == ExpectedRevision::Kind::kExact) {
      implied = a.expected.revision().value() + 1;
    }
    std::optional<uint64_t> stored_from;  // revision where a stored copy starts
    if (all_ids && cur && holds && !implied) {
      // Any / exists: a retry wherever the first event's id is stored.
      if (auto first = RevisionOfId(a.stream, *a.events[0].id)) {
        if (MatchingIds(a, *first) < n) return Fail(ErrorCode::kIdempotencyConflict);
        stored_from = first;
      } else {
        // Another event's id is stored, the first's is not (a changed
        // batch, or its first events were scavenged).
        for (size_t k = 1; k < n; ++k) {
          if (RevisionOfId(a.stream, *a.events[k].id)) {
            return Fail(ErrorCode::kIdempotencyConflict);
          }
        }
      }
    }
    if (all_ids && cur && !holds && implied && *cur >= *implied) {
      size_t m = MatchingIds(a, *implied);
      if (m == n) stored_from = implied;
      if (m > 0 && m < n) return Fail(ErrorCode::kIdempotencyConflict);
    }
    AppendResult res;
    res.stream = a.stream;
    if (stored_from) {
      res.revision = StreamRevision(*stored_from + n - 1);
      res.position = Position(PositionOf(a.stream, *stored_from + n - 1));
      res.duplicate = true;
      ++duplicates;
    } else if (!holds) {
      return Conflict(a.stream, a.expected, cur);
    } else if (n == 0) {
      if (cur) res.revision = StreamRevision(*cur);
      res.position = Position(next);
    } else {
      res.revision = StreamRevision((cur ? *cur + 1 : 0) + n - 1);
      next += n;
      res.position = Position(next - 1);
      ++writes;
    }
    out.results.push_back(res);
  }
  if (duplicates > 0 && writes > 0) return Fail(ErrorCode::kIdempotencyConflict);
  return out;
}

void Model::Apply(std::span<const StreamAppend> parts, const Outcome& o) {
  for (size_t i = 0; i < parts.size(); ++i) {
    if (o.results[i].duplicate) continue;
    for (const EventData& e : parts[i].events) {
      auto& positions = streams_[parts[i].stream];
      ModelEvent m{parts[i].stream, positions.size(), e.id,      e.type,
                   e.content_type,  e.data,           e.metadata};
      positions.push_back(all_.size());
      all_.push_back(std::move(m));
    }
  }
}

void Model::AddSystemEvent(const std::string& stream, uint64_t revision, std::string type,
                           std::string data) {
  ModelEvent m;
  m.stream = stream;
  m.revision = revision;
  m.type = std::move(type);
  m.data = std::move(data);
  all_.push_back(std::move(m));
}

Outcome Model::PredictMetadata(const std::string& stream, ExpectedRevision expected) const {
  if (Tombstoned(stream)) return Fail(ErrorCode::kStreamDeleted);
  const std::string meta = MetaStream(stream);
  const std::optional<uint64_t> cur = LastRevision(meta);
  if (!Holds(expected, cur, false)) return Conflict(meta, expected, cur);
  Outcome out;
  AppendResult r;
  r.stream = meta;
  r.revision = StreamRevision(cur ? *cur + 1 : 0);
  r.position = Position(all_.size());
  out.results.push_back(r);
  return out;
}

void Model::ApplyMetadata(const std::string& stream, const StreamMetadata& m) {
  const std::string meta = MetaStream(stream);
  auto& positions = streams_[meta];
  positions.push_back(all_.size());
  AddSystemEvent(meta, positions.size() - 1, "$metadata", m.ToJson());
  metadata_[stream] = m;
}

Outcome Model::PredictDelete(const std::string& stream, ExpectedRevision expected,
                             StreamMetadata* written) const {
  if (Tombstoned(stream)) return Fail(ErrorCode::kStreamDeleted);
  const ModelRetention r = RetentionOf(stream);
  const bool exists = r.last && !r.soft_deleted;
  // The expectation is judged first, then whether there is anything to delete.
  if (expected.kind() == ExpectedRevision::Kind::kExact &&
      (!exists || *r.last != expected.revision().value())) {
    return Conflict(stream, expected, exists ? r.last : std::nullopt);
  }
  if (expected.kind() == ExpectedRevision::Kind::kNoStream && exists) {
    return Conflict(stream, expected, r.last);
  }
  if (!exists) return Fail(ErrorCode::kNotFound);
  const StreamMetadata* m = Metadata(stream);
  *written = m != nullptr ? *m : StreamMetadata{};
  written->truncate_before = *r.last + 1;
  return PredictMetadata(stream, ExpectedRevision::Any());
}

Outcome Model::PredictTombstone(const std::string& stream, ExpectedRevision expected) const {
  if (Tombstoned(stream)) return Fail(ErrorCode::kStreamDeleted);
  const ModelRetention r = RetentionOf(stream);
  if (!Holds(expected, r.last, r.soft_deleted)) return Conflict(stream, expected, r.last);
  Outcome out;
  AppendResult res;
  res.stream = stream;
  res.revision = StreamRevision(StreamRevision::kTombstone);
  res.position = Position(all_.size());
  out.results.push_back(res);
  return out;
}

void Model::ApplyTombstone(const std::string& stream) {
  tombstones_[stream] = all_.size();
  AddSystemEvent(stream, StreamRevision::kTombstone, "$streamDeleted", "{}");
}

ModelScavenge Model::Scavenge() {
  ModelScavenge out;
  // Every fate depends only on revisions, metadata and tombstones, none of
  // which the loop changes: deciding and applying in one pass is deciding
  // everything from the state the scavenge starts in.
  for (ModelEvent& e : all_) {
    if (e.removed) continue;
    bool keep = true, scrub = false;  // scrub: keep with data and metadata emptied
    if (e.stream.size() > 2 && e.stream.compare(0, 2, "$$") == 0) {
      keep = !Tombstoned(e.stream.substr(2)) && e.revision == *LastRevision(e.stream);
    } else if (Tombstoned(e.stream)) {
      keep = e.revision == StreamRevision::kTombstone;
    } else {
      const ModelRetention r = RetentionOf(e.stream);
      if (e.revision < r.first_visible) {
        keep = false;
        scrub = e.revision == *r.last;
      }
    }
    if (scrub && e.data.empty() && e.metadata.empty()) {
      // Already empty (scrubbed before, or written so): kept as it is.
    } else if (scrub) {
      e.data.clear();
      e.metadata.clear();
      e.scrubbed = true;
      ++out.scrubbed;
      out.scrubbed_text += e.stream + "/" + std::to_string(e.revision) + "@" +
                           std::to_string(&e - all_.data()) + " ";
    } else if (!keep) {
      e.removed = true;
      ++out.removed;
    }
  }
  removed_ += out.removed;
  return out;
}

ErrorCode Model::StreamCode(const std::string& stream) const {
  if (Tombstoned(stream)) return ErrorCode::kStreamDeleted;
  if (IsSystem(stream)) {
    return VisibleOf(stream).empty() ? ErrorCode::kNotFound : ErrorCode::kOk;
  }
  const ModelRetention r = RetentionOf(stream);
  return !r.last || r.soft_deleted ? ErrorCode::kNotFound : ErrorCode::kOk;
}

std::vector<uint64_t> Model::VisibleOf(const std::string& stream) const {
  std::vector<uint64_t> out;
  auto it = streams_.find(stream);
  if (it == streams_.end() || Tombstoned(stream)) return out;
  const ModelRetention r = RetentionOf(stream);
  for (uint64_t rev = r.first_visible; rev < it->second.size(); ++rev) {
    const uint64_t p = it->second[rev];
    if (!all_[p].removed) out.push_back(p);
  }
  return out;
}

std::vector<uint64_t> Model::StreamRead(const std::string& stream,
                                        const ReadStreamOptions& o) const {
  std::vector<uint64_t> out;
  const std::vector<uint64_t> visible = VisibleOf(stream);
  if (o.direction == Direction::kForwards) {
    const uint64_t from = o.from ? o.from->value() : 0;
    for (uint64_t p : visible) {
      if (out.size() >= o.max_count) break;
      if (all_[p].revision >= from) out.push_back(p);
    }
  } else {
    const uint64_t from = o.from ? o.from->value() : UINT64_MAX;
    for (auto it = visible.rbegin(); it != visible.rend(); ++it) {
      if (out.size() >= o.max_count) break;
      if (all_[*it].revision <= from) out.push_back(*it);
    }
  }
  return out;
}

std::vector<uint64_t> Model::AllRead(const ReadAllOptions& o) const {
  std::vector<uint64_t> out;
  if (all_.empty()) return out;
  if (o.direction == Direction::kForwards) {
    for (uint64_t p = o.from ? o.from->value() : 0; p < all_.size() && out.size() < o.max_count;
         ++p) {
      if (!all_[p].removed) out.push_back(p);
    }
  } else {
    uint64_t p = std::min<uint64_t>(o.from ? o.from->value() : UINT64_MAX, all_.size() - 1);
    for (; out.size() < o.max_count; --p) {
      if (!all_[p].removed) out.push_back(p);
      if (p == 0) break;
    }
  }
  return out;
}

bool Model::VisibleInIndex(uint64_t position) const {
  const ModelEvent& e = all_[position];
  if (e.removed) return false;
  if (IsSystem(e.stream)) return true;
  const ModelRetention r = RetentionOf(e.stream);
  return !r.tombstoned && e.revision >= r.first_visible;
}

std::vector<uint64_t> Model::TaggedRead(bool by_category, const std::string& name,
                                        const ReadAllOptions& o) const {
  ReadAllOptions unlimited = o;
  unlimited.max_count = UINT64_MAX;
  std::vector<uint64_t> out;
  for (uint64_t p : AllRead(unlimited)) {
    if (out.size() >= o.max_count) break;
    const ModelEvent& e = all_[p];
    const bool has = by_category ? CategoryOf(e.stream) == name : e.type == name;
    if (has && VisibleInIndex(p)) out.push_back(p);
  }
  return out;
}

std::vector<ModelSummary> Model::List() const {
  std::vector<ModelSummary> out;
  for (const auto& [stream, positions] : streams_) {
    if (IsSystem(stream)) continue;
    const ModelRetention r = RetentionOf(stream);
    ModelSummary s;
    s.stream = stream;
    s.created = UINT64_MAX;
    for (uint64_t p : positions) {
      if (!all_[p].removed) {
        s.created = p;
        break;
      }
    }
    if (r.tombstoned) {
      s.created = std::min(s.created, tombstones_.at(stream));
      s.last_revision = StreamRevision::kTombstone;
      s.last_position = tombstones_.at(stream);
      s.state = StreamState::kTombstoned;
    } else {
      s.last_revision = *r.last;
      s.last_position = positions.back();  // a user stream in `listed` has events
      s.event_count = r.soft_deleted ? 0 : VisibleOf(stream).size();
      s.state = r.soft_deleted ? StreamState::kSoftDeleted : StreamState::kLive;
    }
    out.push_back(std::move(s));
  }
  for (const auto& [stream, position] : tombstones_) {
    if (streams_.contains(stream)) continue;
    ModelSummary s;
    s.stream = stream;
    s.created = position;
    s.last_revision = StreamRevision::kTombstone;
    s.last_position = position;
    s.state = StreamState::kTombstoned;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const ModelSummary& a, const ModelSummary& b) { return a.created < b.created; });
  return out;
}

void Model::CheckEvent(const RecordedEvent& got, uint64_t position, const std::string& what,
                       size_t index) {
  ASSERT_LT(position, all_.size()) << what << " #" << index;
  ModelEvent& want = all_[position];
  const char* scrubbed = want.scrubbed ? " (scrubbed)" : "";
  EXPECT_EQ(got.position.value(), position) << what << " #" << index;
  EXPECT_EQ(got.stream, want.stream) << what << " #" << index;
  EXPECT_EQ(got.revision.value(), want.revision) << what << " #" << index;
  EXPECT_EQ(got.type, want.type) << what << " #" << index;
  EXPECT_EQ(got.content_type, want.content_type) << what << " #" << index;
  EXPECT_EQ(got.data, want.data) << what << " #" << index << scrubbed;
  EXPECT_EQ(got.metadata, want.metadata) << what << " #" << index << scrubbed;
  EXPECT_GT(got.created_ns, 0) << what << " #" << index;
  if (!want.id) {
    EXPECT_FALSE(got.id.IsNil()) << what << " #" << index << ": generated id is nil";
    want.id = got.id;
  }
  EXPECT_TRUE(got.id == *want.id) << what << " #" << index << ": id " << got.id.ToString()
                                  << ", want " << want.id->ToString();
}

std::optional<uint64_t> Model::RevisionOfId(const std::string& stream, const Uuid& id) const {
  const std::vector<uint64_t>& p = streams_.at(stream);
  for (uint64_t r = 0; r < p.size(); ++r) {
    const ModelEvent& e = all_[p[r]];
    if (!e.removed && e.id && *e.id == id) return r;
  }
  return std::nullopt;
}

size_t Model::MatchingIds(const StreamAppend& a, uint64_t first) const {
  const std::vector<uint64_t>& p = streams_.at(a.stream);
  size_t m = 0;
  while (m < a.events.size() && first + m < p.size()) {
    const ModelEvent& stored = all_[p[first + m]];
    if (stored.removed || !stored.id || !(*stored.id == *a.events[m].id)) break;
    ++m;
  }
  return m;
}

}  // namespace cairn
