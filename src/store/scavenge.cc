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
//
// Scavenger (src/store/scavenger.h) runs the steps, one method each, in
// this order; StoreImpl::Scavenge admits the call and runs one.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "src/base/coding.h"
#include "src/base/crc32c.h"
#include "src/base/hash.h"
#include "src/log/record.h"
#include "src/store/paths.h"
#include "src/store/scavenger.h"
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
  Scavenger scavenger(this, options);
  return scavenger.Run();
}

Result<ScavengeReport> Scavenger::Run() {
  CAIRN_RETURN_IF_ERROR(Plan());             // 0
  CAIRN_RETURN_IF_ERROR(RewriteSegments());  // 1
  if (rewritten_.empty()) {
    report_.log_bytes_after = store_->log_->TotalBytes();
    report_.index_bytes_after = report_.index_bytes_before;
    return Done();
  }
  CAIRN_RETURN_IF_ERROR(BuildIndex());     // 2
  CAIRN_RETURN_IF_ERROR(StopIfClosing());  // the last point before the commit
  CAIRN_RETURN_IF_ERROR(OpenNewRuns());
  CAIRN_RETURN_IF_ERROR(Commit());  // 3 to 7
  retired_.clear();  // munmap outside the exclusive section: readers are running again
  RemoveOldRuns();
  report_.log_bytes_after = store_->log_->TotalBytes();
  {
    CAIRN_ASSIGN_OR_RETURN(StoreStats st, store_->Stats());
    report_.index_bytes_after = st.index_bytes;
  }
  return Done();
}

Status Scavenger::Plan() {
  report_.log_bytes_before = store_->log_->TotalBytes();
  {
    CAIRN_ASSIGN_OR_RETURN(StoreStats st, store_->Stats());
    report_.index_bytes_before = st.index_bytes;
  }
  // Close the active segment and index everything before it.
  CAIRN_RETURN_IF_ERROR(store_->DoCheckpoint(/*roll=*/true));
  no_merges_ = std::unique_lock(store_->compact_mu_);
  {
    std::lock_guard cl(store_->checkpoint_mu_);
    m0_ = store_->manifest_;
  }
  cut_ = store_->log_->LastSegmentId();
  snapshot_ = std::min(store_->visible_.load(std::memory_order_acquire),
                       store_->log_->SegmentFirstPosition(cut_));
  progress_.segments_total = cut_;
  return Status::OK();
}

Status Scavenger::RewriteSegments() {
  for (uint32_t seg = 0; seg < cut_; ++seg) {
    CAIRN_RETURN_IF_ERROR(StopIfClosing());
    const std::string path = store_->log_->SegmentPath(seg);
    CAIRN_ASSIGN_OR_RETURN(bool changes, HasChanges(seg, path));
    if (changes) CAIRN_RETURN_IF_ERROR(RewriteSegment(seg, path));
    progress_.segments_done = seg + 1;
    Tell("rewrite");
  }
  report_.segments_rewritten = rewritten_.size();
  report_.bytes_read = progress_.bytes_read;
  report_.bytes_written = progress_.bytes_written;
  return Hook("rewritten");
}

Result<bool> Scavenger::HasChanges(uint32_t seg, const std::string& path) {
  bool changes = false;
  SwapReadLock swap(store_->swap_mu_);
  CAIRN_RETURN_IF_ERROR(store_->log_->Scan(
      log::MakeAddress(seg, log::kSegmentHeaderSize), log::MakeAddress(seg, UINT32_MAX),
      [&](uint64_t address, std::string_view body, size_t framed) -> Status {
        progress_.bytes_read += framed;
        CAIRN_ASSIGN_OR_RETURN(
            auto reader,
            log::CommitReader::Open(
                body, path + " offset " + std::to_string(log::AddressOffset(address))));
        EventView e;
        for (;;) {
          CAIRN_ASSIGN_OR_RETURN(bool more, reader.Next(&e));
          if (!more) break;
          if (FateOf(e) != kKeep || TakesCreation(e, reader.last_creates_stream())) changes = true;
          if (!decide_error_.ok()) return decide_error_;
        }
        return Status::OK();
      }));
  return changes;
}

Status Scavenger::RewriteSegment(uint32_t seg, const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(auto out, store_->env_->OpenWritable(path + ".scav"));
  CAIRN_RETURN_IF_ERROR(out->Truncate(0));
  std::string buf = log::EncodeSegmentHeader(
      {seg, store_->log_->SegmentFirstPosition(seg), log::kSegmentScavenged});
  SwapReadLock swap(store_->swap_mu_);
  CAIRN_RETURN_IF_ERROR(store_->log_->Scan(
      log::MakeAddress(seg, log::kSegmentHeaderSize), log::MakeAddress(seg, UINT32_MAX),
      [&](uint64_t address, std::string_view body, size_t framed) {
        return RewriteRecord(path, address, body, framed, out.get(), &buf);
      }));
  swap.unlock();
  CAIRN_RETURN_IF_ERROR(out->Append(buf));
  progress_.bytes_written += buf.size();
  CAIRN_RETURN_IF_ERROR(out->Sync());
  CAIRN_RETURN_IF_ERROR(out->Close());
  rewritten_.push_back(seg);
  return Status::OK();
}

Status Scavenger::RewriteRecord(const std::string& path, uint64_t address, std::string_view body,
                                size_t framed, WritableFile* out, std::string* buf) {
  CAIRN_ASSIGN_OR_RETURN(
      auto reader, log::CommitReader::Open(
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
    Fate f = FateOf(e);
    if (!decide_error_.ok()) return decide_error_;
    const bool creates = reader.last_creates_stream();
    bool first_stored = creates && e.revision.value() != 0;  // an earlier mark
    if (f == kDrop && creates) {
      orphaned_.insert(StreamHash(e.stream));
    } else if (f != kDrop && TakesCreation(e, creates)) {
      orphaned_.erase(StreamHash(e.stream));
      first_stored = true;
      all_kept = false;  // the record is written again with the mark
    }
    all_kept = all_kept && f == kKeep;
    if (f != kDrop) events.push_back({e, f == kScrub, reader.last_caller_id(), first_stored});
    if (f == kDrop) {
      ++report_.events_removed;
      dropped = true;
    }
    if (f == kScrub) ++report_.events_scrubbed;
  }
  if (all_kept) {
    buf->append(body.data() - log::kFrameHeaderSize, framed);  // the record as it was
  } else if (events.empty()) {
    ++report_.records_removed;
  } else {
    log::CommitEncoder enc(buf, events[0].e.position.value(), reader.created_ns(),
                           /*sparse=*/dropped || reader.sparse());
    for (const Kept& k : events) {
      const EventView& x = k.e;
      enc.AddEvent({x.stream, x.revision.value(), &x.id, x.type, x.content_type,
                    k.scrub ? std::string_view() : x.data,
                    k.scrub ? std::string_view() : x.metadata, k.caller_id, k.first_stored},
                   x.position.value());
    }
    enc.Finish();
  }
  if (buf->size() >= (1u << 20)) {
    CAIRN_RETURN_IF_ERROR(out->Append(*buf));
    progress_.bytes_written += buf->size();
    buf->clear();
  }
  return Status::OK();
}

Status Scavenger::BuildIndex() {
  Env* const env = store_->env_;
  new_maps_.resize(cut_);
  for (uint32_t seg : rewritten_) {
    CAIRN_ASSIGN_OR_RETURN(new_maps_[seg],
                           env->MapFile(store_->log_->SegmentPath(seg) + ".scav", 0));
  }
  CAIRN_ASSIGN_OR_RETURN(positions_out_, env->OpenWritable(PositionsPath(store_->dir_) + ".scav"));
  CAIRN_RETURN_IF_ERROR(positions_out_->Truncate(0));
  pos_buf_.assign("CAIRNPOS", 8);
  PutFixed32(&pos_buf_, 1);
  PutFixed32(&pos_buf_, 16);
  // No swap lock here: in the writing process only a scavenge (one at a
  // time, this thread, below) swaps files, and Log::Scan needs no lock.
  // Holding swap_mu_ shared here would order it before checkpoint_mu_
  // (FlushChunk reserves run ids), the reverse of the commit below,
  // which ThreadSanitizer reports as a potential deadlock.
  const uint32_t last_indexed = log::AddressSegment(m0_.resume_address);
  for (uint32_t seg = 0; seg <= last_indexed && m0_.resume_address != 0; ++seg) {
    CAIRN_RETURN_IF_ERROR(StopIfClosing());
    CAIRN_RETURN_IF_ERROR(IndexSegment(seg, last_indexed));
  }
  for (auto& b : builders_) CAIRN_RETURN_IF_ERROR(FlushChunk(b, m0_.indexed_through));
  Tell("index");
  return Hook("indexed");
}

Status Scavenger::IndexSegment(uint32_t seg, uint32_t last_indexed) {
  const std::string path = store_->log_->SegmentPath(seg);
  if (seg < cut_ && new_maps_[seg]) {
    // The rewritten file: walk its frames directly.
    std::string_view d = new_maps_[seg]->data();
    size_t off = log::kSegmentHeaderSize;
    while (off < d.size()) {
      std::string_view body;
      size_t framed = 0;
      if (log::CheckFrame(d.substr(off), UINT32_MAX, &body, &framed) != log::FrameState::kOk) {
        return Status::Corruption(path + ".scav offset " + std::to_string(off) +
                                  ": bad frame in a file scavenge just wrote");
      }
      CAIRN_RETURN_IF_ERROR(IndexRecord(log::MakeAddress(seg, static_cast<uint32_t>(off)), body,
                                        path + ".scav offset " + std::to_string(off)));
      off += framed;
    }
    return Status::OK();
  }
  const uint64_t to = seg == last_indexed ? m0_.resume_address : log::MakeAddress(seg, UINT32_MAX);
  return store_->log_->Scan(log::MakeAddress(seg, log::kSegmentHeaderSize), to,
                            [&](uint64_t address, std::string_view body, size_t) {
                              return IndexRecord(
                                  address, body,
                                  path + " offset " + std::to_string(log::AddressOffset(address)));
                            });
}

Status Scavenger::IndexRecord(uint64_t address, std::string_view body, const std::string& where) {
  CAIRN_ASSIGN_OR_RETURN(auto reader, log::CommitReader::Open(body, where));
  PutFixed64(&pos_buf_, reader.first_position());
  PutFixed64(&pos_buf_, address);
  ++new_position_entries_;
  EventView e;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool more, reader.Next(&e));
    if (!more) break;
    const uint64_t p = e.position.value();
    builders_[0].chunk.push_back({StreamHash(e.stream), e.revision.value(), p, address});
    if (e.revision.value() == index::kTombstoneRevision || e.stream.starts_with("$$")) {
      builders_[0].retention_keys = true;
    }
    if (reader.last_caller_id()) {
      builders_[1].chunk.push_back({IdKey(e.id.bytes().data()), e.revision.value(), p, address});
    }
    const bool creation = reader.last_creates_stream();
    builders_[0].creations += creation ? 1 : 0;
    StoreImpl::TagEntries(e.stream, e.type, creation, p, address, &builders_[2].chunk);
    next_position_ = p + 1;
  }
  if (pos_buf_.size() >= (1u << 20)) {
    CAIRN_RETURN_IF_ERROR(positions_out_->Append(pos_buf_));
    pos_buf_.clear();
  }
  for (auto& b : builders_) {
    if (b.chunk.size() >= store_->options_.memtable_entries) {
      CAIRN_RETURN_IF_ERROR(FlushChunk(b, next_position_));
    }
  }
  return Status::OK();
}

Status Scavenger::FlushChunk(RunBuilder& b, uint64_t end_position) {
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
    std::lock_guard cl(store_->checkpoint_mu_);
    id = store_->manifest_.next_run_id++;
  }
  CAIRN_RETURN_IF_ERROR(index::IndexRun::Write(
      store_->env_, IndexDir(store_->dir_) + "/" + index::RunFileName(id, b.kind), b.chunk, info));
  b.ids.push_back(id);
  b.chunk.clear();
  b.chunk_start = end_position;
  return Status::OK();
}

Status Scavenger::OpenNewRuns() {
  for (int k = 0; k < 3; ++k) {
    for (uint64_t id : builders_[k].ids) {
      CAIRN_ASSIGN_OR_RETURN(
          auto run,
          index::IndexRun::Open(store_->env_, IndexDir(store_->dir_) + "/" +
                                                  index::RunFileName(id, builders_[k].kind)));
      new_lists_[k].push_back(std::move(run));
    }
  }
  return Status::OK();
}

Status Scavenger::Commit() {
  std::lock_guard cl(store_->checkpoint_mu_);
  // Position entries persisted after the snapshot (by later flushes) follow.
  const uint64_t persisted_now = store_->manifest_.position_entries;
  CAIRN_RETURN_IF_ERROR(FinishPositionIndex(persisted_now));
  CAIRN_RETURN_IF_ERROR(ChooseManifest(persisted_now));
  const std::string manifest_bytes = index::EncodeManifest(m1_);
  std::unique_lock swap(store_->swap_mu_);
  CAIRN_RETURN_IF_ERROR(WriteIntent(manifest_bytes));
  CAIRN_RETURN_IF_ERROR(SwapSegments());
  CAIRN_RETURN_IF_ERROR(WriteManifest(manifest_bytes));
  CAIRN_RETURN_IF_ERROR(WriteHead());
  CAIRN_RETURN_IF_ERROR(RemoveIntent());
  return InstallInMemory();  // in the same exclusive section
}

Status Scavenger::FinishPositionIndex(uint64_t persisted_now) {
  for (uint64_t i = m0_.position_entries; i < persisted_now; ++i) {
    index::PositionEntry pe = store_->positions_.At(i);
    PutFixed64(&pos_buf_, pe.first_position);
    PutFixed64(&pos_buf_, pe.address);
  }
  CAIRN_RETURN_IF_ERROR(positions_out_->Append(pos_buf_));
  CAIRN_RETURN_IF_ERROR(positions_out_->Sync());
  return positions_out_->Close();
}

Status Scavenger::ChooseManifest(uint64_t persisted_now) {
  m1_ = store_->manifest_;
  for (int k = 0; k < 3; ++k) {
    const auto kind = builders_[k].kind;
    std::vector<uint64_t>& now = index::RunIds(m1_, kind);
    const std::vector<uint64_t>& before = index::RunIds(m0_, kind);
    // Merges were paused: the lists only grew at their end since m0_.
    if (now.size() < before.size() || !std::equal(before.begin(), before.end(), now.begin())) {
      return Status(ErrorCode::kBusy, "index runs changed under the scavenge; nothing was swapped");
    }
    std::vector<uint64_t> ids = builders_[k].ids;
    ids.insert(ids.end(), now.begin() + static_cast<std::ptrdiff_t>(before.size()), now.end());
    now = std::move(ids);
  }
  // Everything below the cut is indexed. A resume address inside a closed
  // segment (nothing appended since the checkpoint before the roll) is an
  // offset into the old file: point it at the cut instead, or the next
  // open re-reads the rewritten segment from a stale offset.
  if (m1_.resume_address != 0 && log::AddressSegment(m1_.resume_address) < cut_) {
    m1_.resume_address = log::MakeAddress(cut_, log::kSegmentHeaderSize);
  }
  m1_.position_entries = new_position_entries_ + (persisted_now - m0_.position_entries);
  m1_.log_generation++;
  m1_.holes += report_.events_removed;
  m1_.generation++;
  return Status::OK();
}

Status Scavenger::WriteIntent(const std::string& manifest_bytes) {
  CAIRN_RETURN_IF_ERROR(store_->env_->WriteFileAtomic(IntentPath(store_->dir_),
                                                      EncodeIntent(rewritten_, manifest_bytes)));
  return Hook("intent");
}

Status Scavenger::SwapSegments() {
  Env* const env = store_->env_;
  const std::string& dir = store_->dir_;
  for (uint32_t seg : rewritten_) {
    CAIRN_RETURN_IF_ERROR(
        env->RenameFile(store_->log_->SegmentPath(seg) + ".scav", store_->log_->SegmentPath(seg)));
  }
  CAIRN_RETURN_IF_ERROR(env->SyncDir(dir + "/log"));
  CAIRN_RETURN_IF_ERROR(env->RenameFile(PositionsPath(dir) + ".scav", PositionsPath(dir)));
  return Hook("segments");
}

Status Scavenger::WriteManifest(const std::string& manifest_bytes) {
  CAIRN_RETURN_IF_ERROR(store_->env_->WriteFileAtomic(ManifestPath(store_->dir_), manifest_bytes));
  return Hook("manifest");
}

Status Scavenger::WriteHead() {
  // HEAD in the new layout before the intent goes: a crash between the two
  // used to leave HEAD's end address pointing into the rewritten segment
  // (an offset of the old file), which read-only processes then reported
  // as a truncated record until a writer opened the store. Readers wait
  // while the intent file exists, so none acts on HEAD before the swap is
  // whole.
  store_->log_generation_.store(m1_.log_generation);
  if (store_->head_) {
    (void)store_->head_->WriteAt(
        0, EncodeHead({store_->log_->EndAddress(), store_->visible_.load(), m1_.log_generation}));
  }
  return Hook("head");
}

Status Scavenger::RemoveIntent() {
  CAIRN_RETURN_IF_ERROR(store_->env_->RemoveFile(IntentPath(store_->dir_)));
  CAIRN_RETURN_IF_ERROR(store_->env_->SyncDir(IndexDir(store_->dir_)));
  return Hook("removed");
}

Status Scavenger::InstallInMemory() {
  new_maps_.clear();
  for (uint32_t seg : rewritten_) {
    CAIRN_ASSIGN_OR_RETURN(auto old, store_->log_->Remap(seg));
    retired_.push_back(std::move(old));
  }
  CAIRN_RETURN_IF_ERROR(store_->positions_.Remap(m1_.position_entries));
  {
    std::unique_lock il(store_->index_mu_);
    // Memtables frozen before the swap and not yet checkpointed counted
    // positions.idx entries as the old log had them, with the records
    // this scavenge dropped whole below the cut: count them as they are
    // now, or their manifest names entries past its resume address.
    const uint64_t dropped = m0_.position_entries - new_position_entries_;
    for (StoreImpl::Frozen& f : store_->index_.frozen) f.position_entries -= dropped;
    for (int k = 0; k < 3; ++k) {
      RunList& live = store_->index_.runs.Of(builders_[k].kind);
      const size_t old = index::RunIds(m0_, builders_[k].kind).size();
      RunList next = new_lists_[k];
      next.insert(next.end(), live.begin() + static_cast<std::ptrdiff_t>(old), live.end());
      live = std::move(next);
    }
  }
  store_->SetManifest(m1_);
  store_->holes_.fetch_add(report_.events_removed);
  return Status::OK();
}

void Scavenger::RemoveOldRuns() {
  // Nobody reads them any more (readers hold their own references).
  for (int k = 0; k < 3; ++k) {
    for (uint64_t id : index::RunIds(m0_, builders_[k].kind)) {
      (void)store_->env_->RemoveFile(IndexDir(store_->dir_) + "/" +
                                     index::RunFileName(id, builders_[k].kind));
    }
  }
}

ScavengeReport Scavenger::Done() {
  report_.duration_ns = store_->env_->MonotonicNanos() - started_ns_;
  Tell("done");
  return report_;
}

Status Scavenger::Hook(std::string_view step) {
  Status s = options_.test_hook ? options_.test_hook(step) : Status::OK();
  hook_stopped_ = hook_stopped_ || !s.ok();
  return s;
}

Status Scavenger::StopIfClosing() const {
  if (options_.stop != nullptr && options_.stop->load()) {
    return Status(ErrorCode::kCancelled, "scavenge stopped: asked to stop; nothing was changed");
  }
  if (!store_->closing_.load()) return Status::OK();
  return Status(ErrorCode::kClosed, "scavenge stopped: the store is closing; nothing was changed");
}

void Scavenger::Tell(const char* phase) {
  progress_.phase = phase;
  if (options_.progress) options_.progress(progress_);
}

const Scavenger::Retention* Scavenger::RetentionAt(std::string_view stream) {
  auto it = cache_.find(std::string(stream));
  if (it != cache_.end()) return &it->second;
  if (cache_.size() >= (1u << 20)) cache_.clear();  // bounded memory
  auto r = store_->RetentionOf(stream, snapshot_);  // callers hold swap_mu_ shared
  if (!r) {
    decide_error_ = r.error();
    return nullptr;
  }
  return &cache_.emplace(std::string(stream), *r).first->second;
}

Scavenger::Fate Scavenger::FateOf(const EventView& e) {
  const uint64_t rev = e.revision.value();
  if (e.stream.size() > 2 && e.stream.substr(0, 2) == "$$") {
    const Retention* base = RetentionAt(e.stream.substr(2));
    if (base == nullptr) return kKeep;
    if (base->tombstoned) return kDrop;
    const Retention* meta = RetentionAt(e.stream);
    if (meta == nullptr) return kKeep;
    return meta->last && rev == *meta->last ? kKeep : kDrop;  // only the newest metadata
  }
  const Retention* r = RetentionAt(e.stream);
  if (r == nullptr) return kKeep;
  if (r->tombstoned) return rev == StreamRevision::kTombstone ? kKeep : kDrop;
  if (r->Visible(rev, e.created_ns)) return kKeep;
  if (!r->last || rev != *r->last) return kDrop;
  // The last event is kept scrubbed; one already scrubbed stays as it is.
  return e.data.empty() && e.metadata.empty() ? kKeep : kScrub;
}

bool Scavenger::TakesCreation(const EventView& e, bool creates) const {
  return !creates && !orphaned_.empty() && orphaned_.count(StreamHash(e.stream)) != 0;
}

void Scavenger::RemoveScratch() {
  // A scavenge that fails before its commit point (the intent file) removes
  // its scratch at once: it used to stay until the next writer open, holding
  // the space of a full disk the user was trying to free. A stop by the test
  // hook leaves it, as the crash it stands for would.
  if (hook_stopped_) return;
  Env* const env = store_->env_;
  auto intent = env->FileExists(IntentPath(store_->dir_));
  if (!intent.has_value() || *intent) return;  // committed: the swap rolls forward
  auto names = env->ListDir(store_->dir_ + "/log");
  if (names.has_value()) {
    for (const auto& n : *names) {
      if (n.ends_with(".scav")) (void)env->RemoveFile(store_->dir_ + "/log/" + n);
    }
  }
  (void)env->RemoveFile(PositionsPath(store_->dir_) + ".scav");
}

}  // namespace cairn
