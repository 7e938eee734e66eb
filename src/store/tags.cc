// The category / event-type index (docs/format/index.md, ".tag" runs):
// reads through it, and building it from the log when it is missing.
#include <algorithm>
#include <unordered_map>

#include "src/base/hash.h"
#include "src/log/record.h"
#include "src/store/filter.h"
#include "src/store/paths.h"
#include "src/store/store_impl.h"

namespace cairn {
namespace {

// Whether `e` carries `tag` (the index is keyed by hash: confirm).
bool HasTag(const std::string& tag, const EventView& e) {
  std::string_view name = std::string_view(tag).substr(2);
  switch (tag[0]) {
    case 'C':
      return StreamCategory(e.stream) == name;
    case 'T':
      return e.type == name;
    // Creation tags: ListStreams confirms them (the stream's first stored event).
    case 'S':
      return true;
    case 'N':
      return StreamCategory(e.stream) == name;
  }
  return false;
}

Status CheckCategory(std::string_view category) {
  if (category.empty() || category.find('-') != std::string_view::npos) {
    return Status::InvalidArgument("category '" + std::string(category) +
                                   "' must be non-empty and contain no '-'");
  }
  return Status::OK();
}

}  // namespace

void StoreImpl::AddTags(index::Memtable* table, std::string_view stream, std::string_view type,
                        const index::StreamEntry& e, bool creates) {
  // On the commit path: build tag keys in one reused buffer, so a tag the
  // memtable already holds costs a hash lookup and no allocation.
  thread_local std::string key;
  auto add = [&](char kind, std::string_view name) {
    key.assign(1, kind);
    key.push_back('\x1f');
    key.append(name);
    table->AddTag(key, e);
  };
  const std::string_view c = StreamCategory(stream);
  if (!c.empty()) add('C', c);
  add('T', type);
  if (creates) {
    add('S', std::string_view());
    if (!c.empty()) add('N', c);
  }
}

void StoreImpl::TagEntries(std::string_view stream, std::string_view type, bool creation,
                           uint64_t position, uint64_t address,
                           std::vector<index::IndexEntry>* out) {
  const std::string_view c = StreamCategory(stream);
  auto add = [&](const std::string& tag) {
    out->push_back({StreamHash(tag), position, position, address});
  };
  if (!c.empty()) add(CategoryTag(c));
  add(TypeTag(type));
  if (creation) {
    add(StreamsTag());
    if (!c.empty()) add(CategoryStreamsTag(c));
  }
}

Status StoreImpl::BuildTagIndex(index::Manifest* m) {
  std::vector<index::IndexEntry> chunk;
  uint64_t chunk_start = 0;  // first position of the chunk
  uint64_t next = 0;         // position after the last record scanned
  std::vector<uint64_t> ids;
  auto flush = [&](uint64_t end) -> Status {
    if (chunk.empty()) return Status::OK();
    std::sort(chunk.begin(), chunk.end());
    index::RunInfo info;
    info.min_position = chunk_start;
    info.end_position = end;
    uint64_t id = m->next_run_id++;
    CAIRN_RETURN_IF_ERROR(index::IndexRun::Write(
        env_, IndexDir(dir_) + "/" + index::RunFileName(id, index::RunKind::kTags), chunk, info));
    ids.push_back(id);
    chunk.clear();
    chunk_start = end;
    return Status::OK();
  };
  if (m->resume_address != 0 && m->indexed_through > 0) {
    Status s =
        log_->Scan(log::MakeAddress(0, log::kSegmentHeaderSize), m->resume_address,
                   [&](uint64_t address, std::string_view body, size_t) -> Status {
                     std::string where = log_->SegmentPath(log::AddressSegment(address)) +
                                         " offset " + std::to_string(log::AddressOffset(address));
                     CAIRN_ASSIGN_OR_RETURN(auto reader, log::CommitReader::Open(body, where));
                     EventView e;
                     for (;;) {
                       CAIRN_ASSIGN_OR_RETURN(bool more, reader.Next(&e));
                       if (!more) break;
                       TagEntries(e.stream, e.type, reader.last_creates_stream(),
                                  e.position.value(), address, &chunk);
                       next = e.position.value() + 1;  // scavenged records may skip positions
                     }
                     if (chunk.size() >= options_.memtable_entries) return flush(next);
                     return Status::OK();
                   });
    CAIRN_RETURN_IF_ERROR(s);
    if (next > m->indexed_through) {
      return Status::Corruption(
          ManifestPath(dir_) + ": the log below resume_address ends at position " +
          std::to_string(next) + ", the manifest says " + std::to_string(m->indexed_through));
    }
    CAIRN_RETURN_IF_ERROR(flush(m->indexed_through));
  }
  index::Manifest built = *m;
  built.tag_runs = ids;
  built.tags_built = true;
  built.generation++;
  RunList runs;
  for (uint64_t id : ids) {
    CAIRN_ASSIGN_OR_RETURN(
        auto run, index::IndexRun::Open(
                      env_, IndexDir(dir_) + "/" + index::RunFileName(id, index::RunKind::kTags)));
    runs.push_back(std::move(run));
  }
  CAIRN_RETURN_IF_ERROR(env_->WriteFileAtomic(ManifestPath(dir_), index::EncodeManifest(built)));
  *m = built;
  std::unique_lock l(index_mu_);
  index_.runs.tags = std::move(runs);
  index_.tags_ready = true;
  return Status::OK();
}

Status StoreImpl::ReadTagged(const std::string& tag, bool forwards, uint64_t from,
                             uint64_t snapshot, const EventMatcher* matcher,
                             const EventVisitor& visit) {
  if (snapshot == 0 || (forwards && from >= snapshot)) return Status::OK();
  if (!forwards) from = std::min(from, snapshot - 1);
  // Stream metadata retention and deletes hide events here too: one lookup
  // per distinct stream of the read.
  std::unordered_map<std::string, Retention, NameHash, std::equal_to<>> retention;
  Status retention_error;
  DecodedRecord current;
  const EventVisitor& outer = visit;
  // The last stream's retention (a record's events usually share a stream).
  std::string last_stream;
  Retention last_retention;
  bool have_last = false;
  auto visible_visit = [&](const EventView& e) -> bool {
    if (!e.stream.empty() && e.stream[0] == '$') return outer(e);  // system streams
    if (have_last && e.stream == last_stream) {
      return !last_retention.Visible(e.revision.value(), e.created_ns) || outer(e);
    }
    auto it = retention.find(e.stream);  // no string built for the lookup
    if (it == retention.end()) {
      if (retention.size() >= (1u << 16)) retention.clear();  // bounded memory
      Retention plain;  // no metadata, no tombstone: everything visible
      if (!PlainStream(e.stream)) {
        auto r = RetentionOf(e.stream, snapshot, &current);
        if (!r) {
          retention_error = r.error();
          return false;
        }
        plain = *r;
      }
      it = retention.emplace(std::string(e.stream), plain).first;
    }
    last_stream.assign(e.stream);
    last_retention = it->second;
    have_last = true;
    return !it->second.Visible(e.revision.value(), e.created_ns) || outer(e);
  };
  Status s = ReadTaggedRaw(tag, forwards, from, snapshot, matcher, visible_visit, &current);
  return retention_error.ok() ? s : retention_error;
}

Status StoreImpl::ReadTaggedRaw(const std::string& tag, bool forwards, uint64_t from,
                                uint64_t snapshot, const EventMatcher* matcher,
                                const EventVisitor& visit, DecodedRecord* current) {
  RunList runs;
  std::vector<std::shared_ptr<const index::Memtable>> tables;
  std::vector<index::StreamEntry> active;
  bool ready = true;
  {
    std::shared_lock l(index_mu_);
    ready = index_.tags_ready;
    runs = index_.runs.tags;
    for (const auto& f : index_.frozen) tables.push_back(f.table);
    if (const auto* v = index_.active->FindTag(tag)) {
      for (const auto& e : *v) {
        if (e.position < snapshot) active.push_back(e);
      }
    }
  }
  if (!ready) {
    // No tag index yet (a read-only process on a store its writer has not
    // upgraded): the same answer from a scan of $all.
    auto pass = [&](const EventView& e) {
      return !HasTag(tag, e) || !matcher->Matches(e.stream, e.type) || visit(e);
    };
    if (forwards) return ScanAll(from, snapshot, pass);
    return ScanAllBackwards(from, pass);
  }

  bool stop = false;
  uint64_t loaded = UINT64_MAX;
  std::vector<EventView> events;
  auto emit = [&](uint64_t position, uint64_t address) -> Status {
    if (position >= snapshot || (forwards ? position < from : position > from)) return Status::OK();
    if (address != loaded) {
      loaded = UINT64_MAX;
      if (current != nullptr) *current = DecodedRecord();
      CAIRN_RETURN_IF_ERROR(DecodeRecord(address, &events));
      loaded = address;
      if (current != nullptr) *current = DecodedRecord{address, &events};
    }
    const EventView* at = log::FindAt(events, position);
    if (at == nullptr) {
      return Status::Corruption("tag index entry for position " + std::to_string(position) +
                                " points to a record without it");
    }
    const EventView& e = *at;
    if (HasTag(tag, e) && matcher->Matches(e.stream, e.type) && !visit(e)) stop = true;
    return Status::OK();
  };
  auto from_entries = [&](const std::vector<index::StreamEntry>& v) -> Status {
    if (forwards) {
      auto it =
          std::lower_bound(v.begin(), v.end(), from,
                           [](const index::StreamEntry& e, uint64_t p) { return e.position < p; });
      for (; it != v.end() && !stop; ++it) CAIRN_RETURN_IF_ERROR(emit(it->position, it->address));
    } else {
      auto it =
          std::upper_bound(v.begin(), v.end(), from,
                           [](uint64_t p, const index::StreamEntry& e) { return p < e.position; });
      while (it != v.begin() && !stop) {
        --it;
        CAIRN_RETURN_IF_ERROR(emit(it->position, it->address));
      }
    }
    return Status::OK();
  };
  const uint64_t h = StreamHash(tag);
  auto from_run = [&](const index::IndexRun& run) -> Status {
    if (forwards ? run.info().end_position <= from : run.info().min_position > from) {
      return Status::OK();
    }
    if (!run.MayContain(h)) return Status::OK();
    index::RunReader reader(run);
    if (forwards) {
      CAIRN_ASSIGN_OR_RETURN(uint64_t i, reader.LowerBound(h, from));
      for (; i < run.count() && !stop; ++i) {
        CAIRN_ASSIGN_OR_RETURN(index::IndexEntry e, reader.At(i));
        if (e.hash != h || e.position >= snapshot) break;
        CAIRN_RETURN_IF_ERROR(emit(e.position, e.address));
      }
    } else {
      CAIRN_ASSIGN_OR_RETURN(uint64_t i, reader.LowerBound(h, from + 1));
      while (i > 0 && !stop) {
        CAIRN_ASSIGN_OR_RETURN(index::IndexEntry e, reader.At(--i));
        if (e.hash != h) break;
        CAIRN_RETURN_IF_ERROR(emit(e.position, e.address));
      }
    }
    return Status::OK();
  };
  if (forwards) {
    for (const auto& r : runs) {
      if (stop) break;
      CAIRN_RETURN_IF_ERROR(from_run(*r));
    }
    for (const auto& t : tables) {
      if (stop) break;
      if (const auto* v = t->FindTag(tag)) CAIRN_RETURN_IF_ERROR(from_entries(*v));
    }
    if (!stop) CAIRN_RETURN_IF_ERROR(from_entries(active));
  } else {
    CAIRN_RETURN_IF_ERROR(from_entries(active));
    for (auto it = tables.rbegin(); it != tables.rend() && !stop; ++it) {
      if (const auto* v = (*it)->FindTag(tag)) CAIRN_RETURN_IF_ERROR(from_entries(*v));
    }
    for (auto it = runs.rbegin(); it != runs.rend() && !stop; ++it) {
      CAIRN_RETURN_IF_ERROR(from_run(**it));
    }
  }
  return Status::OK();
}

Status StoreImpl::ReadCategory(std::string_view category, const ReadAllOptions& options,
                               const EventVisitor& visit) {
  CAIRN_RETURN_IF_ERROR(CheckCategory(category));
  return ReadByTag(CategoryTag(category), options, visit);
}

Status StoreImpl::ReadEventType(std::string_view type, const ReadAllOptions& options,
                                const EventVisitor& visit) {
  if (type.empty()) return Status::InvalidArgument("event type must be non-empty");
  return ReadByTag(TypeTag(type), options, visit);
}

Status StoreImpl::ReadByTag(const std::string& tag, const ReadAllOptions& options,
                            const EventVisitor& visit) {
  ReadScope read(this);
  CAIRN_RETURN_IF_ERROR(read.status());
  CAIRN_ASSIGN_OR_RETURN(auto matcher, EventMatcher::Compile(options.filter));
  const uint64_t snapshot = read.snapshot();
  if (options.max_count == 0) return Status::OK();
  const bool fwd = options.direction == Direction::kForwards;
  uint64_t emitted = 0;
  return ReadTagged(tag, fwd, options.from ? options.from->value() : (fwd ? 0 : UINT64_MAX),
                    snapshot, matcher.get(),
                    [&](const EventView& e) { return visit(e) && ++emitted < options.max_count; });
}

}  // namespace cairn
