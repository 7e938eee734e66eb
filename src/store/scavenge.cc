// Scavenge (include/cairn/store.h, docs/format/log.md "Scavenged records"):
// rewrite closed segments without what reads can no longer show, rebuild
// the index for the rewritten range, and swap everything in through an
// intent file so a crash leaves the old or the new store, never a mix.
//
// Steps (the names are the test hook's):
//   0. checkpoint with a log roll: every segment below `cut` is closed and
//      fully indexed; merges are paused (compact_mu_) until the end.
//   1. "rewritten": each closed segment holding something to remove is
//      written to <seg>.scav (same id and header), fsynced.
//   2. "indexed": stream, event-id and tag runs plus positions.idx.scav are
//      built for positions [0, indexed_through) from the new log view.
//   3. "intent": index/SCAVENGE (docs/format/scavenge-intent.md) names the
//      rewritten segments and holds the manifest to install; written
//      atomically. This is the commit point.
//   4. "segments": <seg>.scav renamed over <seg>.seg, positions.idx.scav
//      over positions.idx.
//   5. "manifest": MANIFEST replaced.
//   6. "head": HEAD rewritten for the new log generation.
//   7. "removed": the intent file removed.
// Open rolls a surviving intent forward (FinishInterruptedScavenge: steps
// 4, 5 and 7; the open then writes HEAD) and removes *.scav files that no
// intent names (a crash before step 3).
#include <algorithm>
#include <chrono>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "src/base/coding.h"
#include "src/base/crc32c.h"
#include "src/base/hash.h"
#include "src/log/record.h"
#include "src/store/paths.h"
#include "src/store/store_impl.h"

namespace cairn {
namespace {

// The intent file, docs/format/scavenge-intent.md: version 2 is written;
// version 1 (magic "CAIRNSCV", no version field) is still read.
constexpr char kIntentMagic[8] = {'C', 'A', 'I', 'R', 'N', 'I', 'N', 'T'};
constexpr char kIntentMagicV1[8] = {'C', 'A', 'I', 'R', 'N', 'S', 'C', 'V'};
constexpr uint32_t kIntentVersion = 2;

std::string EncodeIntent(const std::vector<uint32_t>& segments, const std::string& manifest) {
  std::string out(kIntentMagic, 8);
  PutFixed32(&out, kIntentVersion);
  PutFixed32(&out, static_cast<uint32_t>(segments.size()));
  for (uint32_t s : segments) PutFixed32(&out, s);
  PutFixed32(&out, static_cast<uint32_t>(manifest.size()));
  out += manifest;
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

Status DecodeIntent(std::string_view d, const std::string& file, std::vector<uint32_t>* segments,
                    std::string* manifest) {
  auto bad = [&] { return Status::Corruption(file + ": scavenge intent file is damaged"); };
  if (d.size() < 16) return bad();
  const std::string_view magic(d.data(), 8);
  size_t at = 8;  // the segment count
  if (magic == std::string_view(kIntentMagic, 8)) {
    at = 12;
  } else if (magic != std::string_view(kIntentMagicV1, 8)) {
    return bad();
  }
  if (crc32c::Unmask(DecodeFixed32(d.data() + d.size() - 4)) !=
      crc32c::Value(d.data(), d.size() - 4)) {
    return bad();
  }
  if (at == 12) {
    const uint32_t version = DecodeFixed32(d.data() + 8);
    if (version > kIntentVersion) {
      // Not damage: the scavenge it commits happened, and a newer build
      // finishes it (removing index/, as corruption hints say, would lose it).
      return Status(ErrorCode::kFailedPrecondition,
                    file + ": scavenge intent file has version " + std::to_string(version) +
                        ", newer than this build reads (" + std::to_string(kIntentVersion) +
                        "): open the store with the build that wrote it");
    }
    if (version != kIntentVersion) return bad();
  }
  if (d.size() < at + 4) return bad();
  const uint32_t n = DecodeFixed32(d.data() + at);
  if (d.size() < at + 4 + 4ull * n + 8) return bad();
  for (uint32_t i = 0; i < n; ++i) segments->push_back(DecodeFixed32(d.data() + at + 4 + 4 * i));
  const uint32_t len = DecodeFixed32(d.data() + at + 4 + 4ull * n);
  if (d.size() != at + 4 + 4ull * n + 4 + len + 4) return bad();
  manifest->assign(d.data() + at + 8 + 4ull * n, len);
  return Status::OK();
}

// Streaming writer of a sorted-run chunk list: entries gathered, sorted and
// written in chunks of `limit` entries, each chunk one run.
struct RunBuilder {
  index::RunKind kind;
  std::vector<index::IndexEntry> chunk;
  uint64_t chunk_start = 0;
  std::vector<uint64_t> ids;
  uint64_t creations = 0;       // events of the chunk that create their stream
  bool retention_keys = false;  // the chunk holds a tombstone or a "$$" stream entry
};

}  // namespace

Status StoreImpl::FinishInterruptedScavenge() {
  const std::string intent = IntentPath(dir_);
  CAIRN_ASSIGN_OR_RETURN(bool has_intent, env_->FileExists(intent));
  if (!has_intent) {
    // A scavenge that stopped before its commit point left only scratch.
    CAIRN_ASSIGN_OR_RETURN(bool has_log, env_->FileExists(dir_ + "/log"));
    if (!has_log) return Status::OK();  // a new store
    CAIRN_ASSIGN_OR_RETURN(auto names, env_->ListDir(dir_ + "/log"));
    for (const auto& n : names) {
      if (n.size() > 5 && n.substr(n.size() - 5) == ".scav") {
        CAIRN_RETURN_IF_ERROR(env_->RemoveFile(dir_ + "/log/" + n));
      }
    }
    CAIRN_ASSIGN_OR_RETURN(bool stray, env_->FileExists(PositionsPath(dir_) + ".scav"));
    if (stray) CAIRN_RETURN_IF_ERROR(env_->RemoveFile(PositionsPath(dir_) + ".scav"));
    return Status::OK();
  }
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, env_->ReadFile(intent));
  std::vector<uint32_t> segments;
  std::string manifest;
  CAIRN_RETURN_IF_ERROR(DecodeIntent(bytes, intent, &segments, &manifest));
  // Everything the intent names was durable before it was written: roll
  // forward. A rename already done leaves no .scav behind.
  for (uint32_t id : segments) {
    char name[32];
    std::snprintf(name, sizeof name, "/log/%08u.seg", id);
    const std::string seg = dir_ + name;
    CAIRN_ASSIGN_OR_RETURN(bool pending, env_->FileExists(seg + ".scav"));
    if (pending) CAIRN_RETURN_IF_ERROR(env_->RenameFile(seg + ".scav", seg));
  }
  CAIRN_RETURN_IF_ERROR(env_->SyncDir(dir_ + "/log"));
  CAIRN_ASSIGN_OR_RETURN(bool pos_pending, env_->FileExists(PositionsPath(dir_) + ".scav"));
  if (pos_pending) {
    CAIRN_RETURN_IF_ERROR(env_->RenameFile(PositionsPath(dir_) + ".scav", PositionsPath(dir_)));
  }
  CAIRN_RETURN_IF_ERROR(env_->WriteFileAtomic(ManifestPath(dir_), manifest));
  CAIRN_RETURN_IF_ERROR(env_->RemoveFile(intent));
  return env_->SyncDir(IndexDir(dir_));
}

Result<ScavengeReport> StoreImpl::Scavenge(const ScavengeOptions& options) {
  if (options_.read_only) return Status(ErrorCode::kReadOnly, "scavenge of a read-only store");
  // Its swap takes swap_mu_ exclusively, which a visitor holds shared.
  if (SwapReadLock::Held(swap_mu_)) {
    return Status(ErrorCode::kReentrantCall,
                  "Scavenge was called from inside a call of the same store (a read's "
                  "visitor), whose read its file swap would wait for");
  }
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  std::unique_lock one(scavenge_mu_, std::try_to_lock);
  if (!one.owns_lock()) {
    return Status(ErrorCode::kBusy, "a scavenge of this store is already running");
  }
  const auto started = std::chrono::steady_clock::now();
  // A scavenge that fails before its commit point (the intent file) removes
  // its scratch at once: it used to stay until the next writer open, holding
  // the space of a full disk the user was trying to free. A stop by the test
  // hook leaves it, as the crash it stands for would.
  bool hook_stopped = false;
  auto hook = [&](std::string_view step) {
    Status s = options.test_hook ? options.test_hook(step) : Status::OK();
    hook_stopped = hook_stopped || !s.ok();
    return s;
  };
  struct ScratchCleanup {
    std::function<void()> run;
    ~ScratchCleanup() { run(); }
  } cleanup{[&] {
    if (hook_stopped) return;
    auto intent = env_->FileExists(IntentPath(dir_));
    if (!intent.has_value() || *intent) return;  // committed: the swap rolls forward
    auto names = env_->ListDir(dir_ + "/log");
    if (names.has_value()) {
      for (const auto& n : *names) {
        if (n.ends_with(".scav")) (void)env_->RemoveFile(dir_ + "/log/" + n);
      }
    }
    (void)env_->RemoveFile(PositionsPath(dir_) + ".scav");
  }};
  // Close waits for calls in flight: before the commit point a scavenge
  // stops when Close begins rather than making it wait for the whole run
  // (what it wrote so far is scratch, removed at the next open).
  auto stop_if_closing = [&]() -> Status {
    if (!closing_.load()) return Status::OK();
    return Status(ErrorCode::kClosed,
                  "scavenge stopped: the store is closing; nothing was changed");
  };
  ScavengeReport report;
  ScavengeProgress progress;
  auto tell = [&](const char* phase) {
    progress.phase = phase;
    if (options.progress) options.progress(progress);
  };
  report.log_bytes_before = log_->TotalBytes();
  {
    CAIRN_ASSIGN_OR_RETURN(StoreStats st, Stats());
    report.index_bytes_before = st.index_bytes;
  }

  // 0. Close the active segment and index everything before it.
  CAIRN_RETURN_IF_ERROR(DoCheckpoint(/*roll=*/true));
  std::unique_lock no_merges(compact_mu_);
  index::Manifest m0;
  {
    std::lock_guard cl(checkpoint_mu_);
    m0 = manifest_;
  }
  const uint32_t cut = log_->LastSegmentId();
  // Retention as of the cut: every stream's last event at the snapshot then
  // lies in a closed segment, so a stream keeps a stored event below the cut.
  const uint64_t snapshot =
      std::min(visible_.load(std::memory_order_acquire), log_->SegmentFirstPosition(cut));
  progress.segments_total = cut;

  // What happens to one event: keep, keep scrubbed, or drop.
  enum Fate { kKeep, kScrub, kDrop };
  std::unordered_map<std::string, Retention> cache;
  Status decide_error;
  auto retention = [&](std::string_view stream) -> const Retention* {
    auto it = cache.find(std::string(stream));
    if (it != cache.end()) return &it->second;
    if (cache.size() >= (1u << 20)) cache.clear();  // bounded memory
    auto r = RetentionOf(stream, snapshot);         // callers hold swap_mu_ shared
    if (!r) {
      decide_error = r.error();
      return nullptr;
    }
    return &cache.emplace(std::string(stream), *r).first->second;
  };
  auto fate = [&](const EventView& e) -> Fate {
    const uint64_t rev = e.revision.value();
    if (e.stream.size() > 2 && e.stream.substr(0, 2) == "$$") {
      const Retention* base = retention(e.stream.substr(2));
      if (base == nullptr) return kKeep;
      if (base->tombstoned) return kDrop;
      const Retention* meta = retention(e.stream);
      if (meta == nullptr) return kKeep;
      return meta->last && rev == *meta->last ? kKeep : kDrop;  // only the newest metadata
    }
    const Retention* r = retention(e.stream);
    if (r == nullptr) return kKeep;
    if (r->tombstoned) return rev == StreamRevision::kTombstone ? kKeep : kDrop;
    if (r->Visible(rev, e.created_ns)) return kKeep;
    if (!r->last || rev != *r->last) return kDrop;
    // The last event is kept scrubbed; one already scrubbed stays as it is.
    return e.data.empty() && e.metadata.empty() ? kKeep : kScrub;
  };

  // A stream's creation (what ListStreams and Stats count) is carried by
  // its first stored event: revision 0, or the event a scavenge marked
  // first stored (kFirstStoredFlag). When the carrier goes, the stream's
  // next kept event takes the mark. `orphaned` holds the streams (by hash)
  // whose carrier was dropped and whose next kept event is still ahead in
  // the scan: its memory follows the streams losing their first events in
  // this scavenge, not the store.
  std::unordered_set<uint64_t> orphaned;
  auto takes_creation = [&](const EventView& e, bool creates) {
    return !creates && !orphaned.empty() && orphaned.count(StreamHash(e.stream)) != 0;
  };

  // 1. Rewrite the closed segments that hold something to remove.
  std::vector<uint32_t> rewritten;
  for (uint32_t seg = 0; seg < cut; ++seg) {
    CAIRN_RETURN_IF_ERROR(stop_if_closing());
    const std::string path = log_->SegmentPath(seg);
    const uint64_t begin = log::MakeAddress(seg, log::kSegmentHeaderSize);
    const uint64_t end = log::MakeAddress(seg, UINT32_MAX);
    // Pass 1: anything to do here?
    bool changes = false;
    {
      SwapReadLock swap(swap_mu_);
      CAIRN_RETURN_IF_ERROR(log_->Scan(
          begin, end, [&](uint64_t address, std::string_view body, size_t framed) -> Status {
            progress.bytes_read += framed;
            CAIRN_ASSIGN_OR_RETURN(
                auto reader,
                log::CommitReader::Open(
                    body, path + " offset " + std::to_string(log::AddressOffset(address))));
            EventView e;
            for (;;) {
              CAIRN_ASSIGN_OR_RETURN(bool more, reader.Next(&e));
              if (!more) break;
              if (fate(e) != kKeep || takes_creation(e, reader.last_creates_stream()))
                changes = true;
              if (!decide_error.ok()) return decide_error;
            }
            return Status::OK();
          }));
    }
    if (changes) {
      CAIRN_ASSIGN_OR_RETURN(auto out, env_->OpenWritable(path + ".scav"));
      CAIRN_RETURN_IF_ERROR(out->Truncate(0));
      std::string buf =
          log::EncodeSegmentHeader({seg, log_->SegmentFirstPosition(seg), log::kSegmentScavenged});
      SwapReadLock swap(swap_mu_);
      CAIRN_RETURN_IF_ERROR(log_->Scan(
          begin, end, [&](uint64_t address, std::string_view body, size_t framed) -> Status {
            CAIRN_ASSIGN_OR_RETURN(
                auto reader,
                log::CommitReader::Open(
                    body, path + " offset " + std::to_string(log::AddressOffset(address))));
            struct Kept {
              EventView e;
              bool scrub;
              bool caller_id;
              bool first_stored;  // carries the stream's creation (set or kept)
            };
            std::vector<Kept> events;
            EventView e;
            bool all_kept = true;  // the record can be copied as it is
            bool dropped = false;  // positions skip: a sparse record
            for (;;) {
              CAIRN_ASSIGN_OR_RETURN(bool more, reader.Next(&e));
              if (!more) break;
              Fate f = fate(e);
              if (!decide_error.ok()) return decide_error;
              const bool creates = reader.last_creates_stream();
              bool first_stored = creates && e.revision.value() != 0;  // an earlier mark
              if (f == kDrop && creates) {
                orphaned.insert(StreamHash(e.stream));
              } else if (f != kDrop && takes_creation(e, creates)) {
                orphaned.erase(StreamHash(e.stream));
                first_stored = true;
                all_kept = false;  // the record is written again with the mark
              }
              all_kept = all_kept && f == kKeep;
              if (f != kDrop)
                events.push_back({e, f == kScrub, reader.last_caller_id(), first_stored});
              if (f == kDrop) {
                ++report.events_removed;
                dropped = true;
              }
              if (f == kScrub) ++report.events_scrubbed;
            }
            if (all_kept) {
              buf.append(body.data() - log::kFrameHeaderSize, framed);  // the record as it was
            } else if (events.empty()) {
              ++report.records_removed;
            } else {
              log::CommitEncoder enc(&buf, events[0].e.position.value(), reader.created_ns(),
                                     /*sparse=*/dropped || reader.sparse());
              for (const Kept& k : events) {
                const EventView& x = k.e;
                enc.AddEvent(
                    {x.stream, x.revision.value(), &x.id, x.type, x.content_type,
                     k.scrub ? std::string_view() : x.data,
                     k.scrub ? std::string_view() : x.metadata, k.caller_id, k.first_stored},
                    x.position.value());
              }
              enc.Finish();
            }
            if (buf.size() >= (1u << 20)) {
              CAIRN_RETURN_IF_ERROR(out->Append(buf));
              progress.bytes_written += buf.size();
              buf.clear();
            }
            return Status::OK();
          }));
      swap.unlock();
      CAIRN_RETURN_IF_ERROR(out->Append(buf));
      progress.bytes_written += buf.size();
      CAIRN_RETURN_IF_ERROR(out->Sync());
      CAIRN_RETURN_IF_ERROR(out->Close());
      rewritten.push_back(seg);
    }
    progress.segments_done = seg + 1;
    tell("rewrite");
  }
  report.segments_rewritten = rewritten.size();
  report.bytes_read = progress.bytes_read;
  report.bytes_written = progress.bytes_written;
  CAIRN_RETURN_IF_ERROR(hook("rewritten"));
  if (rewritten.empty()) {
    report.log_bytes_after = log_->TotalBytes();
    report.index_bytes_after = report.index_bytes_before;
    report.duration_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    tell("done");
    return report;
  }

  // 2. Rebuild the index of [0, indexed_through) from the new log view.
  std::vector<std::unique_ptr<MappedFile>> new_maps(cut);
  for (uint32_t seg : rewritten) {
    CAIRN_ASSIGN_OR_RETURN(new_maps[seg], env_->MapFile(log_->SegmentPath(seg) + ".scav", 0));
  }
  RunBuilder builders[3] = {{index::RunKind::kStream, {}, 0, {}},
                            {index::RunKind::kIds, {}, 0, {}},
                            {index::RunKind::kTags, {}, 0, {}}};
  auto flush_chunk = [&](RunBuilder& b, uint64_t end_position) -> Status {
    if (b.chunk.empty()) return Status::OK();
    std::sort(b.chunk.begin(), b.chunk.end());
    index::RunInfo info;
    info.min_position = b.chunk_start;
    info.end_position = end_position;
    info.new_streams = b.kind == index::RunKind::kStream ? b.creations : 0;
    if (b.kind == index::RunKind::kStream && !b.retention_keys) {
      info.flags = index::kRunNoRetentionKeys;
    }
    b.creations = 0;
    b.retention_keys = false;
    uint64_t id;
    {
      std::lock_guard cl(checkpoint_mu_);
      id = manifest_.next_run_id++;
    }
    CAIRN_RETURN_IF_ERROR(index::IndexRun::Write(
        env_, IndexDir(dir_) + "/" + index::RunFileName(id, b.kind), b.chunk, info));
    b.ids.push_back(id);
    b.chunk.clear();
    b.chunk_start = end_position;
    return Status::OK();
  };
  CAIRN_ASSIGN_OR_RETURN(auto positions_out, env_->OpenWritable(PositionsPath(dir_) + ".scav"));
  CAIRN_RETURN_IF_ERROR(positions_out->Truncate(0));
  std::string pos_buf("CAIRNPOS", 8);
  PutFixed32(&pos_buf, 1);
  PutFixed32(&pos_buf, 16);
  uint64_t new_position_entries = 0;
  uint64_t next_position = 0;  // one past the last event seen
  auto index_record = [&](uint64_t address, std::string_view body,
                          const std::string& where) -> Status {
    CAIRN_ASSIGN_OR_RETURN(auto reader, log::CommitReader::Open(body, where));
    PutFixed64(&pos_buf, reader.first_position());
    PutFixed64(&pos_buf, address);
    ++new_position_entries;
    EventView e;
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(bool more, reader.Next(&e));
      if (!more) break;
      const uint64_t p = e.position.value();
      builders[0].chunk.push_back({StreamHash(e.stream), e.revision.value(), p, address});
      if (e.revision.value() == index::kTombstoneRevision || e.stream.starts_with("$$")) {
        builders[0].retention_keys = true;
      }
      if (reader.last_caller_id()) {
        builders[1].chunk.push_back({IdKey(e.id.bytes().data()), e.revision.value(), p, address});
      }
      const bool creation = reader.last_creates_stream();
      builders[0].creations += creation ? 1 : 0;
      TagEntries(e.stream, e.type, creation, p, address, &builders[2].chunk);
      next_position = p + 1;
    }
    if (pos_buf.size() >= (1u << 20)) {
      CAIRN_RETURN_IF_ERROR(positions_out->Append(pos_buf));
      pos_buf.clear();
    }
    for (auto& b : builders) {
      if (b.chunk.size() >= options_.memtable_entries) {
        CAIRN_RETURN_IF_ERROR(flush_chunk(b, next_position));
      }
    }
    return Status::OK();
  };
  {
    // No swap lock here: in the writing process only a scavenge (one at a
    // time, this thread, below) swaps files, and Log::Scan needs no lock.
    // Holding swap_mu_ shared here would order it before checkpoint_mu_
    // (flush_chunk reserves run ids), the reverse of the commit below,
    // which ThreadSanitizer reports as a potential deadlock.
    const uint32_t last_indexed = log::AddressSegment(m0.resume_address);
    for (uint32_t seg = 0; seg <= last_indexed && m0.resume_address != 0; ++seg) {
      CAIRN_RETURN_IF_ERROR(stop_if_closing());
      const std::string path = log_->SegmentPath(seg);
      if (seg < cut && new_maps[seg]) {
        // The rewritten file: walk its frames directly.
        std::string_view d = new_maps[seg]->data();
        size_t off = log::kSegmentHeaderSize;
        while (off < d.size()) {
          std::string_view body;
          size_t framed = 0;
          if (log::CheckFrame(d.substr(off), UINT32_MAX, &body, &framed) != log::FrameState::kOk) {
            return Status::Corruption(path + ".scav offset " + std::to_string(off) +
                                      ": bad frame in a file scavenge just wrote");
          }
          CAIRN_RETURN_IF_ERROR(index_record(log::MakeAddress(seg, static_cast<uint32_t>(off)),
                                             body, path + ".scav offset " + std::to_string(off)));
          off += framed;
        }
        continue;
      }
      const uint64_t to =
          seg == last_indexed ? m0.resume_address : log::MakeAddress(seg, UINT32_MAX);
      CAIRN_RETURN_IF_ERROR(log_->Scan(
          log::MakeAddress(seg, log::kSegmentHeaderSize), to,
          [&](uint64_t address, std::string_view body, size_t) {
            return index_record(address, body,
                                path + " offset " + std::to_string(log::AddressOffset(address)));
          }));
    }
  }
  for (auto& b : builders) CAIRN_RETURN_IF_ERROR(flush_chunk(b, m0.indexed_through));
  tell("index");
  CAIRN_RETURN_IF_ERROR(hook("indexed"));

  CAIRN_RETURN_IF_ERROR(stop_if_closing());  // the last point before the commit

  // 3-5. Commit: no flush, no read and no batch while the files change.
  index::Manifest m1;
  RunList new_lists[3];
  std::vector<std::unique_ptr<MappedFile>> retired;  // unmapped after the swap
  for (int k = 0; k < 3; ++k) {
    for (uint64_t id : builders[k].ids) {
      CAIRN_ASSIGN_OR_RETURN(
          auto run, index::IndexRun::Open(
                        env_, IndexDir(dir_) + "/" + index::RunFileName(id, builders[k].kind)));
      new_lists[k].push_back(std::move(run));
    }
  }
  {
    std::lock_guard cl(checkpoint_mu_);
    // Position entries persisted after the snapshot (by later flushes) follow.
    const uint64_t persisted_now = manifest_.position_entries;
    for (uint64_t i = m0.position_entries; i < persisted_now; ++i) {
      index::PositionEntry pe = positions_.At(i);
      PutFixed64(&pos_buf, pe.first_position);
      PutFixed64(&pos_buf, pe.address);
    }
    CAIRN_RETURN_IF_ERROR(positions_out->Append(pos_buf));
    CAIRN_RETURN_IF_ERROR(positions_out->Sync());
    CAIRN_RETURN_IF_ERROR(positions_out->Close());
    m1 = manifest_;
    for (int k = 0; k < 3; ++k) {
      const auto kind = builders[k].kind;
      std::vector<uint64_t>& now = index::RunIds(m1, kind);
      const std::vector<uint64_t>& before = index::RunIds(m0, kind);
      // Merges were paused: the lists only grew at their end since m0.
      if (now.size() < before.size() || !std::equal(before.begin(), before.end(), now.begin())) {
        return Status(ErrorCode::kBusy,
                      "index runs changed under the scavenge; nothing was swapped");
      }
      std::vector<uint64_t> ids = builders[k].ids;
      ids.insert(ids.end(), now.begin() + static_cast<std::ptrdiff_t>(before.size()), now.end());
      now = std::move(ids);
    }
    // Everything below the cut is indexed. A resume address inside a closed
    // segment (nothing appended since the checkpoint before the roll) is an
    // offset into the old file: point it at the cut instead, or the next
    // open re-reads the rewritten segment from a stale offset.
    if (m1.resume_address != 0 && log::AddressSegment(m1.resume_address) < cut) {
      m1.resume_address = log::MakeAddress(cut, log::kSegmentHeaderSize);
    }
    m1.position_entries = new_position_entries + (persisted_now - m0.position_entries);
    m1.log_generation++;
    m1.holes += report.events_removed;
    m1.generation++;
    const std::string manifest_bytes = index::EncodeManifest(m1);
    std::unique_lock swap(swap_mu_);
    CAIRN_RETURN_IF_ERROR(
        env_->WriteFileAtomic(IntentPath(dir_), EncodeIntent(rewritten, manifest_bytes)));
    CAIRN_RETURN_IF_ERROR(hook("intent"));
    for (uint32_t seg : rewritten) {
      CAIRN_RETURN_IF_ERROR(
          env_->RenameFile(log_->SegmentPath(seg) + ".scav", log_->SegmentPath(seg)));
    }
    CAIRN_RETURN_IF_ERROR(env_->SyncDir(dir_ + "/log"));
    CAIRN_RETURN_IF_ERROR(env_->RenameFile(PositionsPath(dir_) + ".scav", PositionsPath(dir_)));
    CAIRN_RETURN_IF_ERROR(hook("segments"));
    CAIRN_RETURN_IF_ERROR(env_->WriteFileAtomic(ManifestPath(dir_), manifest_bytes));
    CAIRN_RETURN_IF_ERROR(hook("manifest"));
    // HEAD in the new layout before the intent goes: a crash between the two
    // used to leave HEAD's end address pointing into the rewritten segment
    // (an offset of the old file), which read-only processes then reported
    // as a truncated record until a writer opened the store. Readers wait
    // while the intent file exists, so none acts on HEAD before the swap is
    // whole.
    log_generation_.store(m1.log_generation);
    if (head_) {
      (void)head_->WriteAt(0, EncodeHead({log_->EndAddress(), visible_.load(), m1.log_generation}));
    }
    CAIRN_RETURN_IF_ERROR(hook("head"));
    CAIRN_RETURN_IF_ERROR(env_->RemoveFile(IntentPath(dir_)));
    CAIRN_RETURN_IF_ERROR(env_->SyncDir(IndexDir(dir_)));
    CAIRN_RETURN_IF_ERROR(hook("removed"));
    // In memory, in the same exclusive section.
    new_maps.clear();
    for (uint32_t seg : rewritten) {
      CAIRN_ASSIGN_OR_RETURN(auto old, log_->Remap(seg));
      retired.push_back(std::move(old));
    }
    CAIRN_RETURN_IF_ERROR(positions_.Remap(m1.position_entries));
    {
      std::unique_lock il(index_mu_);
      // Memtables frozen before the swap and not yet checkpointed counted
      // positions.idx entries as the old log had them, with the records
      // this scavenge dropped whole below the cut: count them as they are
      // now, or their manifest names entries past its resume address.
      const uint64_t dropped = m0.position_entries - new_position_entries;
      for (Frozen& f : frozen_) f.position_entries -= dropped;
      for (int k = 0; k < 3; ++k) {
        RunList& live = LiveRuns(builders[k].kind);
        const size_t old = index::RunIds(m0, builders[k].kind).size();
        RunList next = new_lists[k];
        next.insert(next.end(), live.begin() + static_cast<std::ptrdiff_t>(old), live.end());
        live = std::move(next);
      }
    }
    SetManifest(m1);
    holes_.fetch_add(report.events_removed);
  }
  retired.clear();  // munmap outside the exclusive section: readers are running again
  // Old runs: nobody reads them any more (readers hold their own references).
  for (int k = 0; k < 3; ++k) {
    for (uint64_t id : index::RunIds(m0, builders[k].kind)) {
      (void)env_->RemoveFile(IndexDir(dir_) + "/" + index::RunFileName(id, builders[k].kind));
    }
  }
  report.log_bytes_after = log_->TotalBytes();
  {
    CAIRN_ASSIGN_OR_RETURN(StoreStats st, Stats());
    report.index_bytes_after = st.index_bytes;
  }
  report.duration_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  tell("done");
  return report;
}

}  // namespace cairn
