// Recovery (recovery.h): a store's open, its log tail replayed, and a
// read-only process kept current with its writer. The directory and log
// checks are in directory.cc.
#include "src/store/recovery.h"

#include <algorithm>

#include "src/base/hash.h"
#include "src/store/paths.h"
#include "src/store/store_impl.h"

namespace cairn {
namespace {

// The smallest unit a disk writes: a torn write's missing part is whole
// sectors, which read as zeros (reserved space).
constexpr size_t kSectorBytes = 512;

}  // namespace

Recovery::Recovery(StoreImpl* store, std::function<void()> on_writer_changed)
    : store_(store),
      env_(store->env_),
      dir_(store->dir_),
      options_(store->options_),
      follower_(store->env_, store->dir_, std::move(on_writer_changed)) {}

Status Recovery::Recover() {
  std::optional<Head> head;
  CAIRN_ASSIGN_OR_RETURN(const bool create, CheckDirectory(&head));
  CAIRN_RETURN_IF_ERROR(PrepareDirectory(create));
  index::Manifest m;
  CAIRN_RETURN_IF_ERROR(OpenFiles(head, &m));
  return ReplayFromCheckpoint(m, head);
}

Status Recovery::PrepareDirectory(bool create) {
  if (options_.read_only) {
    CAIRN_ASSIGN_OR_RETURN(bool interrupted, env_->FileExists(IntentPath(dir_)));
    if (interrupted) {
      return Status(ErrorCode::kFailedPrecondition,
                    "a scavenge of " + dir_ +
                        " was interrupted; open the store for writing once to finish it");
    }
    return Status::OK();
  }
  // log/ first: a creation cut short leaves a directory that opens as a
  // store, never one that looks like another program's.
  if (create) CAIRN_RETURN_IF_ERROR(env_->CreateDirs(dir_ + "/log"));
  CAIRN_RETURN_IF_ERROR(env_->CreateDirs(IndexDir(dir_)));
  CAIRN_ASSIGN_OR_RETURN(store_->lock_, env_->LockFile(dir_ + "/LOCK"));
  return store_->FinishInterruptedScavenge();
}

Status Recovery::OpenFiles(const std::optional<Head>& head, index::Manifest* m) {
  CAIRN_ASSIGN_OR_RETURN(bool has_manifest, env_->FileExists(ManifestPath(dir_)));
  if (has_manifest) {
    CAIRN_ASSIGN_OR_RETURN(std::string bytes, env_->ReadFile(ManifestPath(dir_)));
    CAIRN_ASSIGN_OR_RETURN(*m, index::DecodeManifest(bytes, ManifestPath(dir_)));
  }
  recovered_generation_ = m->log_generation;
  log::LogOptions lo;
  lo.segment_bytes = options_.segment_bytes;
  // Frames are bounded by their segment, not by this process's options: a
  // reader opened with smaller limits must still read the writer's records.
  lo.max_record_bytes = UINT32_MAX;
  lo.read_only = options_.read_only;
  lo.synced_writes = options_.durability == Durability::kFsync;
  // A log that lost acknowledged records (a deleted or cut segment) is
  // refused before anything is written, by readers and writers alike.
  CAIRN_RETURN_IF_ERROR(CheckLogFilesReach(*m, has_manifest, head));
  CAIRN_ASSIGN_OR_RETURN(store_->log_, log::Log::Open(env_, dir_ + "/log", lo));
  CAIRN_RETURN_IF_ERROR(LoadRuns(m, &store_->index_.runs));
  CAIRN_RETURN_IF_ERROR(store_->positions_.Open(env_, IndexDir(dir_) + "/positions.idx",
                                                m->position_entries, options_.read_only));
  CAIRN_RETURN_IF_ERROR(CheckLogReaches());
  if (!options_.read_only) CAIRN_RETURN_IF_ERROR(RemoveOrphans(*m));
  if (!m->tags_built) {
    if (options_.read_only) {
      store_->index_.tags_ready = false;  // the writer builds it; until then tag reads scan $all
    } else {
      CAIRN_RETURN_IF_ERROR(store_->BuildTagIndex(m));
    }
  }
  return Status::OK();
}

Status Recovery::RemoveOrphans(const index::Manifest& m) {
  // Run files written after the last manifest are orphans of a crash.
  CAIRN_ASSIGN_OR_RETURN(auto names, env_->ListDir(IndexDir(dir_)));
  for (const auto& n : names) {
    const std::string ext = n.size() > 4 ? n.substr(n.size() - 4) : "";
    const bool is_run = ext == ".run" || ext == ".ids" || ext == ".tag";
    bool listed = false;
    for (auto kind : {index::RunKind::kStream, index::RunKind::kIds, index::RunKind::kTags}) {
      for (uint64_t id : index::RunIds(m, kind)) {
        listed = listed || n == index::RunFileName(id, kind);
      }
    }
    if ((is_run && !listed) || ext == ".tmp") {
      CAIRN_RETURN_IF_ERROR(env_->RemoveFile(IndexDir(dir_) + "/" + n));
    }
  }
  return Status::OK();
}

Status Recovery::ReplayFromCheckpoint(const index::Manifest& m, const std::optional<Head>& head) {
  store_->SetManifest(m);
  store_->log_generation_.store(m.log_generation);
  store_->visible_.store(m.indexed_through);
  store_->holes_.store(m.holes);
  const uint64_t from =
      m.resume_address ? m.resume_address : log::MakeAddress(0, log::kSegmentHeaderSize);
  uint64_t to = store_->log_->EndAddress();
  bool durable_to = false;
  // HEAD's end counts only in the manifest's log generation (CheckLogFilesReach).
  const bool head_current = head && head->log_generation.value_or(0) == m.log_generation;
  if (options_.read_only) {
    // Index only what the writer has made durable.
    if (head_current && head->end_address <= to) {
      to = head->end_address;
      durable_to = true;
    }
    auto identity = env_->FileIdentity(dir_);
    if (identity.has_value()) dir_identity_ = *identity;
  } else if (head_current) {
    acknowledged_end_ = head->end_address;
  }
  Status replayed = ReplayTail(from, to, durable_to);
  acknowledged_end_ = 0;
  CAIRN_RETURN_IF_ERROR(replayed);
  if (!options_.read_only) {
    CAIRN_ASSIGN_OR_RETURN(store_->head_, env_->OpenWritable(dir_ + "/HEAD"));
    store_->Publish(store_->log_->EndAddress(), store_->visible_.load());
  }
  return Status::OK();
}

Status Recovery::ReplayTail(uint64_t from, uint64_t to, bool durable_to,
                            std::optional<uint64_t> first_position) {
  uint64_t next = first_position ? *first_position : store_->visible_.load();
  uint32_t seg = log::AddressSegment(from);
  uint64_t end = from;
  uint64_t bad = 0;
  std::vector<std::pair<std::string, index::StreamEntry>> entries;
  std::vector<index::PositionEntry> records;
  std::vector<uint64_t> id_keys;   // parallel to entries
  std::vector<bool> caller_ids;    // parallel to entries: index the id?
  std::vector<std::string> types;  // parallel to entries
  std::vector<bool> creations;     // parallel to entries
  uint64_t holes = 0;              // positions skipped (restored records)
  Status s = store_->log_->Scan(
      from, to,
      [&](uint64_t address, std::string_view body, size_t framed) -> Status {
        std::string where = store_->log_->SegmentPath(log::AddressSegment(address)) + " offset " +
                            std::to_string(log::AddressOffset(address));
        if (log::AddressSegment(address) != seg) {
          seg = log::AddressSegment(address);
          if (store_->log_->SegmentFirstPosition(seg) != next) {
            return Status::Corruption(store_->log_->SegmentPath(seg) +
                                      " offset 0: segment starts at position " +
                                      std::to_string(store_->log_->SegmentFirstPosition(seg)) +
                                      ", expected " + std::to_string(next));
          }
        }
        CAIRN_ASSIGN_OR_RETURN(auto reader, log::CommitReader::Open(body, where));
        // A dense record starts where the one before it ended; a sparse one
        // (a restore's) may start later, the positions between being holes.
        if (reader.sparse() ? reader.first_position() < next : reader.first_position() != next) {
          return Status::Corruption(where + ": record starts at position " +
                                    std::to_string(reader.first_position()) + ", expected " +
                                    std::to_string(next));
        }
        records.push_back({reader.first_position(), address});
        EventView e;
        for (;;) {
          CAIRN_ASSIGN_OR_RETURN(bool more, reader.Next(&e));
          if (!more) break;
          entries.push_back(
              {std::string(e.stream), {e.revision.value(), e.position.value(), address}});
          id_keys.push_back(reader.last_caller_id() ? IdKey(e.id.bytes().data()) : 0);
          caller_ids.push_back(reader.last_caller_id());
          types.emplace_back(e.type);
          creations.push_back(reader.last_creates_stream());
          holes += e.position.value() - next;
          next = e.position.value() + 1;
        }
        end = address + framed;
        return Status::OK();
      },
      &bad);
  if (!s.ok()) {
    if (bad == 0) return s;  // a grammar error inside a record whose checksum holds
    if (durable_to || bad < acknowledged_end_) {  // below HEAD every record must be whole
      return Status::Corruption(s.message() +
                                "; it lies below the durable end the writer recorded in HEAD: "
                                "the log is damaged in the middle");
    }
    CAIRN_RETURN_IF_ERROR(CutTornTail(s, bad, next));
    end = bad;
  }
  {
    std::unique_lock l(store_->index_mu_);
    for (const auto& r : records) store_->positions_.Append(r);
    for (size_t i = 0; i < entries.size(); ++i) {
      store_->index_.active->Add(entries[i].first, entries[i].second);
      if (caller_ids[i]) store_->index_.active->AddId(id_keys[i], entries[i].second);
      StoreImpl::AddTags(store_->index_.active.get(), entries[i].first, types[i], entries[i].second,
                         creations[i]);
    }
    store_->index_.active_holes += holes;
  }
  store_->holes_.fetch_add(holes);
  if (options_.read_only && s.ok() && log::AddressSegment(to) == store_->log_->LastSegmentId()) {
    store_->log_->SetValidEnd(to);  // bytes past the writer's HEAD are not durable yet
  } else if (options_.read_only && s.ok()) {
    // Segments the writer started after HEAD was written hold nothing known
    // durable yet (and may be mostly reserved zeros).
    for (uint32_t seg = log::AddressSegment(to) + 1; seg <= store_->log_->LastSegmentId(); ++seg) {
      store_->log_->SetValidEnd(log::MakeAddress(seg, log::kSegmentHeaderSize));
    }
  }
  scanned_address_ = end;
  store_->visible_.store(next, std::memory_order_release);
  return Status::OK();
}

Status Recovery::CutTornTail(const Status& scan_error, uint64_t bad_address, uint64_t next) {
  uint32_t seg = log::AddressSegment(bad_address);
  if (seg != store_->log_->LastSegmentId()) return scan_error;  // damage before the last segment
  CAIRN_ASSIGN_OR_RETURN(std::string_view tail,
                         store_->log_->RawTail(seg, log::AddressOffset(bad_address)));
  // A torn tail has no valid record after it that starts a write. Such a
  // record further on means the damage is in the middle of the log: its
  // write began only after every earlier write was acknowledged. Refuse,
  // never cut data. A valid record that continues a write may be a
  // surviving page of the torn last write, but only past a hole: a sector
  // the device never wrote reads as zeros (docs/format/log.md, "Writes").
  // Damage without such a hole (a flipped bit) in the last write is
  // refused like any other.
  // The hole: the first sector after the bad frame that is all zeros, or
  // the bad frame's own sector if it is zeros from the frame on (the part
  // before the frame belongs to the last good record, written earlier).
  const uint64_t bad_offset = log::AddressOffset(bad_address);
  const size_t boundary = (kSectorBytes - bad_offset % kSectorBytes) % kSectorBytes;
  auto zeros = [&](size_t from, size_t to) {
    return to <= tail.size() &&
           tail.substr(from, to - from).find_first_not_of('\0') == std::string_view::npos;
  };
  size_t hole_end = 0;  // 0: no hole
  if (boundary > 0 && zeros(0, boundary)) hole_end = boundary;
  for (size_t j = boundary; hole_end == 0 && j + kSectorBytes <= tail.size(); j += kSectorBytes) {
    if (zeros(j, j + kSectorBytes)) hole_end = j + kSectorBytes;
  }
  for (size_t i = 1; i + log::kFrameHeaderSize < tail.size(); ++i) {
    if (tail[i] == '\0') {
      // Reserved space reads as zeros (a frame whose length field is zero
      // is never valid): jump to 3 bytes before the next non-zero byte.
      const size_t nz = tail.find_first_not_of('\0', i);
      if (nz == std::string_view::npos) break;
      if (nz > i + 3) {
        i = nz - 4;  // the loop's ++i makes it nz - 3
        continue;
      }
    }
    std::string_view body;
    size_t framed = 0;
    if (log::CheckFrame(tail.substr(i), UINT32_MAX, &body, &framed) != log::FrameState::kOk) {
      continue;
    }
    auto reader = log::CommitReader::Open(body, "");
    if (reader && reader->first_position() >= next &&
        (!reader->continues_write() || hole_end == 0 || hole_end > i)) {
      std::string m = scan_error.message();
      m.append(reader->continues_write() ? "; a valid record of the same write follows at offset "
                                         : "; a valid record follows at offset ")
          .append(std::to_string(bad_offset + i))
          .append(reader->continues_write() ? " with no zeroed sector before it" : "")
          .append(": the log is damaged in the middle");
      return Status::Corruption(m);
    }
  }
  if (options_.read_only) {
    store_->log_->SetValidEnd(bad_address);
    return Status::OK();
  }
  TailCut cut;
  cut.file = store_->log_->SegmentPath(seg);
  cut.offset = bad_offset;
  cut.bytes = tail.size();
  cut.data_bytes = tail.size() - static_cast<uint64_t>(std::count(tail.begin(), tail.end(), '\0'));
  CAIRN_RETURN_IF_ERROR(store_->log_->TruncateTail(bad_address));
  open_cut_ = std::move(cut);
  return Status::OK();
}

Status Recovery::Refresh() {
  // A thread inside a read (a visitor calling another read) holds swap_mu_
  // shared: it must not wait for a refresh that may be waiting for swap_mu_
  // exclusively. It skips the refresh instead and reads what is indexed.
  const bool nested = SwapReadLock::Held(store_->swap_mu_);
  std::unique_lock rl(refresh_mu_, std::defer_lock);
  if (!nested) {
    rl.lock();
  } else if (!rl.try_lock()) {
    return Status::OK();
  }
  if (!adopt_error_.ok()) return adopt_error_;
  auto bytes = env_->ReadFile(dir_ + "/HEAD");
  if (!bytes) return Status::OK();
  std::optional<Head> head;
  for (int attempt = 0; attempt < 3 && !head; ++attempt) {
    head = DecodeHead(*bytes);
    if (!head) {
      bytes = env_->ReadFile(dir_ + "/HEAD");
      if (!bytes) return Status::OK();
    }
  }
  if (!head) return Status::OK();
  // The writer scavenged since we last looked at the manifest: adopt the
  // new files even when nothing was appended since.
  const bool scavenged =
      head->log_generation && *head->log_generation != store_->manifest_.log_generation;
  // A writer never moves HEAD back, nor does the directory change under a
  // store: either means the store was deleted and another created in its
  // place, whose log this process must not read with its old index (it
  // used to report that as damage in the middle of the log).
  std::string replaced;
  if (!dir_identity_.empty()) {
    auto now = env_->FileIdentity(dir_);
    if (!now.has_value() || *now != dir_identity_) replaced = "its directory was deleted";
  }
  const uint64_t visible = store_->visible_.load();
  if (replaced.empty() && !scavenged && head->next_position < visible) {
    replaced = "its HEAD went back from position " + std::to_string(visible) + " to " +
               std::to_string(head->next_position);
  }
  if (!replaced.empty()) {
    adopt_error_ = Status(ErrorCode::kFailedPrecondition,
                          "the store " + dir_ + " was replaced since this process opened it (" +
                              replaced + "): open it again to read the new store");
    return adopt_error_;
  }
  if (head->next_position <= visible && !scavenged) return Status::OK();
  // Most refreshes only index the log tail in segments already mapped.
  // Mapping a new segment, runs or positions.idx is the exception:
  CAIRN_ASSIGN_OR_RETURN(const bool new_segment, store_->log_->NextSegmentExists());
  if (new_segment || scavenged) manifest_check_due_ = true;
  bool reload = manifest_check_due_;
  {
    std::shared_lock l(store_->index_mu_);
    reload = reload || store_->index_.active->entries() >= options_.memtable_entries;
  }
  if (reload) return Reload(*head, new_segment, nested);
  if (log::AddressSegment(head->end_address) > store_->log_->LastSegmentId()) return Status::OK();
  store_->log_->SetValidEnd(head->end_address);
  return ReplayTail(scanned_address_, head->end_address, /*durable_to=*/true);
}

Status Recovery::Reload(const Head& head, bool new_segment, bool nested) {
  // A scavenge of the writer renames new segment, position and run files
  // over the old ones, from writing its intent file until its manifest is
  // written. While it does, keep the current view (the files we map stay
  // readable); whatever we map here is trusted only if no swap began or
  // ended meanwhile: the intent file absent after mapping too and the
  // manifest's log generation unchanged (SwapFree). A segment first
  // mapped now may be a file a scavenge rewrote: the manifest is looked
  // at below before anything is replayed into it.
  CAIRN_ASSIGN_OR_RETURN(bool swapping, env_->FileExists(IntentPath(dir_)));
  if (swapping) return Status::OK();
  if (new_segment) CAIRN_RETURN_IF_ERROR(store_->log_->RefreshSegments());
  if (log::AddressSegment(head.end_address) > store_->log_->LastSegmentId()) return Status::OK();
  // The writer has checkpointed since: adopt its runs, drop our memtable.
  const index::Manifest& current = store_->manifest_;
  index::Manifest m;
  CAIRN_ASSIGN_OR_RETURN(bool has_manifest, env_->FileExists(ManifestPath(dir_)));
  if (!has_manifest) m.indexed_through = 0;  // the writer has not checkpointed yet
  if (has_manifest) {
    CAIRN_ASSIGN_OR_RETURN(std::string mb, env_->ReadFile(ManifestPath(dir_)));
    CAIRN_ASSIGN_OR_RETURN(m, index::DecodeManifest(mb, ManifestPath(dir_)));
    if (m.generation == current.generation) m.indexed_through = 0;  // nothing new
  }
  if (has_manifest && m.log_generation != current.log_generation) {
    // Our segment maps predate a scavenge: its new runs point into files
    // we have not mapped. Until we adopt the new files we keep reading
    // the old ones (still mapped, still consistent); a nested read cannot
    // wait for the exclusive lock, so it leaves the adoption to the next.
    if (nested) return Status::OK();
    return AdoptScavenge(std::move(m), head);
  }
  RunSet runs;
  std::shared_ptr<MappedFile> positions;
  const bool load = m.indexed_through > store_->visible_.load();
  if (load) {
    CAIRN_RETURN_IF_ERROR(LoadRuns(&m, &runs));
    if (m.log_generation != current.log_generation) {
      // LoadRuns re-read a manifest a scavenge wrote meanwhile.
      if (nested) return Status::OK();
      return AdoptScavenge(std::move(m), head);
    }
    auto mapped = store_->positions_.MapForReload(m.position_entries);
    if (mapped) {
      positions = std::move(*mapped);
    } else {
      // A scavenge may have renamed a shorter file in meanwhile.
      CAIRN_ASSIGN_OR_RETURN(bool swap_free, SwapFree(m.log_generation));
      if (swap_free) return mapped.error();
      return Status::OK();
    }
  }
  CAIRN_ASSIGN_OR_RETURN(bool swap_free,
                         SwapFree(has_manifest ? m.log_generation : current.log_generation));
  if (!swap_free) return Status::OK();  // nothing installed: try again later
  manifest_check_due_ = false;
  if (load) {
    store_->SetManifest(m);
    std::unique_lock l(store_->index_mu_);
    store_->positions_.InstallReload(std::move(positions), m.position_entries);
    store_->index_.Replace(std::move(runs), m.tags_built);
    store_->visible_.store(m.indexed_through);
    store_->holes_.store(m.holes);
    scanned_address_ = m.resume_address;
  }
  store_->log_->SetValidEnd(head.end_address);
  return ReplayTail(scanned_address_, head.end_address, /*durable_to=*/true);
}

Result<bool> Recovery::SwapFree(uint64_t log_generation) {
  CAIRN_ASSIGN_OR_RETURN(bool swapping, env_->FileExists(IntentPath(dir_)));
  if (swapping) return false;
  CAIRN_ASSIGN_OR_RETURN(bool has_manifest, env_->FileExists(ManifestPath(dir_)));
  if (!has_manifest) return log_generation == store_->manifest_.log_generation;
  CAIRN_ASSIGN_OR_RETURN(std::string mb, env_->ReadFile(ManifestPath(dir_)));
  CAIRN_ASSIGN_OR_RETURN(index::Manifest now, index::DecodeManifest(mb, ManifestPath(dir_)));
  return now.log_generation == log_generation;
}

Status Recovery::AdoptScavenge(index::Manifest m, const Head& head) {
  // Everything is mapped first, checked against a swap that may have begun
  // meanwhile, and only then installed, at once, with no read of ours
  // running: until then readers keep the old files, consistently.
  //
  // A scavenge rewrites only segments below its checkpoint's segment, and
  // checkpoints only move forwards: every segment below m's may differ
  // from the file we mapped (renamed over it).
  if (log::AddressSegment(m.resume_address) > store_->log_->LastSegmentId()) {
    // The writer rolled and scavenged after we looked for new segments.
    CAIRN_RETURN_IF_ERROR(store_->log_->RefreshSegments());
    if (log::AddressSegment(m.resume_address) > store_->log_->LastSegmentId()) return Status::OK();
  }
  const uint32_t below = log::AddressSegment(m.resume_address);
  std::vector<log::Log::Replacement> segments;
  for (uint32_t seg = 0; seg < below; ++seg) {
    CAIRN_ASSIGN_OR_RETURN(auto r, store_->log_->PrepareRemap(seg));
    segments.push_back(std::move(r));
  }
  RunSet runs;
  const uint64_t generation = m.log_generation;
  CAIRN_RETURN_IF_ERROR(LoadRuns(&m, &runs));
  if (m.log_generation != generation) return Status::OK();  // another scavenge: next time
  auto positions = store_->positions_.MapForReload(m.position_entries);
  CAIRN_ASSIGN_OR_RETURN(bool swap_free, SwapFree(generation));
  if (!swap_free) return Status::OK();  // nothing installed: try again later
  if (!positions) return positions.error();
  std::vector<std::unique_ptr<MappedFile>> retired;  // unmapped after the lock
  std::unique_lock swap(store_->swap_mu_);
  for (auto& r : segments) retired.push_back(store_->log_->InstallRemap(std::move(r)));
  {
    std::unique_lock l(store_->index_mu_);
    store_->positions_.InstallReload(std::move(*positions), m.position_entries);
    store_->index_.Replace(std::move(runs), m.tags_built);
  }
  store_->SetManifest(m);
  store_->holes_.store(m.holes);
  manifest_check_due_ = false;
  scanned_address_ = m.resume_address;
  // Positions and revisions are unchanged by a scavenge: the visible head
  // only moves forwards. HEAD may predate the scavenge's roll (nothing
  // appended since): its address then points into a segment just rewritten,
  // at an offset of the old file (not an end to set), and everything it
  // covers is in m's runs.
  if (log::AddressSegment(head.end_address) >= below) store_->log_->SetValidEnd(head.end_address);
  if (head.end_address <= m.resume_address) {
    store_->visible_.store(std::max(store_->visible_.load(), m.indexed_through),
                           std::memory_order_release);
    return Status::OK();
  }
  Status s = ReplayTail(m.resume_address, head.end_address, /*durable_to=*/true, m.indexed_through);
  // The old index is gone: a reader that cannot index the new log tail
  // would silently miss events. Every later call says so until reopened.
  if (!s.ok()) {
    adopt_error_ = Status(ErrorCode::kCorruption, "adopting the writer's scavenge failed (" +
                                                      s.message() + "); reopen the store");
  }
  return s;
}

Status Recovery::LoadRuns(index::Manifest* m, RunSet* runs) {
  // A read-only process may race the writer, which deletes the files of
  // runs it has merged right after installing a new manifest: on a missing
  // run, read the manifest again and retry.
  for (int attempt = 0;; ++attempt) {
    runs->Clear();
    Status missing;
    bool tag_missing = false;
    for (auto kind : {index::RunKind::kStream, index::RunKind::kIds, index::RunKind::kTags}) {
      RunList& out = runs->Of(kind);
      for (uint64_t id : index::RunIds(*m, kind)) {
        std::string path = IndexDir(dir_) + "/" + index::RunFileName(id, kind);
        auto run = index::IndexRun::Open(env_, path);
        if (!run) {
          if (run.error().code() != ErrorCode::kNotFound) return run.error();
          missing = run.error();
          tag_missing = kind == index::RunKind::kTags;
          break;
        }
        out.push_back(std::move(*run));
      }
      if (!missing.ok()) break;
    }
    if (missing.ok()) return Status::OK();
    if (tag_missing && !options_.read_only) {
      // Derived data: the writer rebuilds the whole tag index from the log.
      runs->tags.clear();
      m->tag_runs.clear();
      m->tags_built = false;
      return Status::OK();
    }
    if (!options_.read_only || attempt >= 20) {
      return Status::Corruption("index run listed in " + ManifestPath(dir_) +
                                " is missing: " + missing.message());
    }
    CAIRN_ASSIGN_OR_RETURN(std::string bytes, env_->ReadFile(ManifestPath(dir_)));
    CAIRN_ASSIGN_OR_RETURN(*m, index::DecodeManifest(bytes, ManifestPath(dir_)));
  }
}

}  // namespace cairn
