// Online backup (Store::Backup, include/cairn/store.h): a copy of the store
// as of its durable head, made from the files its writer keeps on disk for
// read-only processes (docs/format/index.md), while the writer runs.
//
// One try:
//   1. wait while index/SCAVENGE exists (a scavenge is swapping files);
//   2. read HEAD, then MANIFEST. The copy ends at HEAD's end address, or at
//      the manifest's resume address when that is later: the flusher may
//      write a checkpoint of a batch before the batch's HEAD is written, and
//      a scavenge's roll moves the manifest to a new segment that HEAD
//      (written by appends) reaches only at the next append;
//   3. link (or copy) the runs the manifest names, copy positions.idx up to
//      the manifest's position_entries (the writer appends past them);
//   4. link (or copy) every segment below the end's segment, which the
//      writer closed and never writes again, and copy the end's segment up
//      to the end (the writer appends past it, into reserved zeros);
//   5. scan the copied log tail (resume address .. end) as the copy's open
//      will replay it: every record whole, positions continuing;
//   6. check that no scavenge swap began or ended meanwhile (no intent
//      file, the manifest's log generation unchanged). A link taken before
//      a swap's rename names the old file, one taken after it the new one:
//      a copy must hold one generation only, so otherwise the try is thrown
//      away and the next starts over.
// Then MANIFEST (the bytes read) and HEAD are written, everything synced,
// and the log directory, built as log.partial, renamed to log: an open
// looks for log/, so a crash before that leaves no store in `dest`.
//
// Nothing here takes a lock of the store: a backup reads files only, like
// another process would, so it never holds up appends.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "src/index/manifest.h"
#include "src/index/position_index.h"
#include "src/log/log.h"
#include "src/log/record.h"
#include "src/store/head.h"
#include "src/store/paths.h"
#include "src/store/store_impl.h"

namespace cairn {
namespace {

constexpr int kMaxTries = 20;
// How long a backup waits in all for scavenges' swaps (renames and a
// manifest write: milliseconds each). An intent file that stays longer is
// one a crash left, which only a writer's open finishes.
constexpr int64_t kSwapWaitNanos = 10'000'000'000;
constexpr int64_t kPollMicros = 5'000;
constexpr uint64_t kCopyChunk = 1 << 20;
constexpr char kPartialLog[] = "/log.partial";

std::string Parent(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// One backup of the store in `src` into `dest`.
class BackupJob {
 public:
  BackupJob(Env* env, std::string src, std::string dest, uint64_t segment_bytes)
      : env_(env),
        src_(std::move(src)),
        dest_(std::move(dest)),
        partial_(dest_ + kPartialLog),
        index_(IndexDir(dest_)),
        segment_bytes_(segment_bytes),
        started_ns_(env->MonotonicNanos()) {}

  // Checks `dest` and creates it (when missing), dest/index and
  // dest/log.partial.
  Status Prepare();
  // One try. True: the copy below log.partial and index is whole and
  // consistent, *report says what it took; false: the writer changed files
  // under it (why in retry_reason()), and Discard must run before the next.
  Result<bool> Try(BackupReport* report);
  // Writes MANIFEST and HEAD, syncs, and names the log directory.
  Status Finish(BackupReport* report);
  // Removes what the last try wrote.
  Status Discard();
  // Removes everything the backup created (best effort: on a failure).
  void Abandon();
  const std::string& retry_reason() const { return retry_reason_; }

 private:
  // Waits while a scavenge swaps files (bounded over the whole backup).
  Status WaitForNoSwap();
  // Whether no scavenge swap began or ended since `generation` was read
  // from the manifest (0 and no manifest: none has ever run).
  Result<bool> SwapFree(uint64_t generation);
  // A failure reading the store: when a swap overlapped the try, or the
  // file was an index run that a merge removed (`merged_away`), it is the
  // writer's doing and the try starts over (false); otherwise the error.
  Result<bool> Overlapped(const Status& s, uint64_t generation, bool merged_away = false);
  // Gives `to` the bytes of `from`: a hard link when `link` (and the file
  // system can), else a copy of its first `length` bytes (nullopt: all).
  // Returns whether it linked.
  Result<bool> Place(const std::string& from, const std::string& to, bool link,
                     std::optional<uint64_t> length, BackupReport* report);
  Status CopyPrefix(const std::string& from, const std::string& to, std::optional<uint64_t> length,
                    BackupReport* report);
  // Scans the copied log from `from` to `end` like the copy's open will;
  // counts its events and finds the next position.
  Status ScanTail(uint64_t from, uint64_t end, const index::Manifest* m, bool whole_log,
                  uint64_t* events, uint64_t* next);
  // Removes every file of `dir` (a directory this backup created).
  Status EmptyDir(const std::string& dir);

  Env* const env_;
  const std::string src_, dest_, partial_, index_;
  const uint64_t segment_bytes_;
  const int64_t started_ns_;
  bool created_dest_ = false;
  std::string retry_reason_;
  // From the successful try, for Finish.
  std::optional<std::string> manifest_bytes_;
  std::optional<Head> head_;
};

Status BackupJob::Prepare() {
  CAIRN_ASSIGN_OR_RETURN(bool exists, env_->FileExists(dest_));
  if (exists) {
    auto names = env_->ListDir(dest_);
    if (!names) {
      return Status::InvalidArgument("backup destination '" + dest_ +
                                     "' exists and is not a directory (" + names.error().message() +
                                     ")");
    }
    if (!names->empty()) {
      return Status::InvalidArgument("backup destination '" + dest_ +
                                     "' is not empty: it must not exist or be an empty directory");
    }
  } else {
    CAIRN_RETURN_IF_ERROR(env_->CreateDirs(dest_));
    created_dest_ = true;
  }
  CAIRN_RETURN_IF_ERROR(env_->CreateDirs(index_));
  return env_->CreateDirs(partial_);
}

Status BackupJob::WaitForNoSwap() {
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool swapping, env_->FileExists(IntentPath(src_)));
    if (!swapping) return Status::OK();
    if (env_->MonotonicNanos() - started_ns_ > kSwapWaitNanos) {
      return Status(ErrorCode::kBusy,
                    "a scavenge is swapping files of " + src_ +
                        "; try again (if no process writes the store, a scavenge was "
                        "interrupted: open the store for writing once to finish it)");
    }
    env_->SleepForMicroseconds(kPollMicros);
  }
}

Result<bool> BackupJob::SwapFree(uint64_t generation) {
  CAIRN_ASSIGN_OR_RETURN(bool swapping, env_->FileExists(IntentPath(src_)));
  if (swapping) return false;
  CAIRN_ASSIGN_OR_RETURN(bool has_manifest, env_->FileExists(ManifestPath(src_)));
  if (!has_manifest) return generation == 0;
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, env_->ReadFile(ManifestPath(src_)));
  CAIRN_ASSIGN_OR_RETURN(index::Manifest now, index::DecodeManifest(bytes, ManifestPath(src_)));
  return now.log_generation == generation;
}

Result<bool> BackupJob::Overlapped(const Status& s, uint64_t generation, bool merged_away) {
  CAIRN_ASSIGN_OR_RETURN(bool swap_free, SwapFree(generation));
  if (swap_free && !(merged_away && s.code() == ErrorCode::kNotFound)) return s;
  retry_reason_ = s.message();
  return false;
}

Status BackupJob::CopyPrefix(const std::string& from, const std::string& to,
                             std::optional<uint64_t> length, BackupReport* report) {
  CAIRN_ASSIGN_OR_RETURN(auto in, env_->OpenRandomAccess(from));
  uint64_t n = 0;
  if (length) {
    n = *length;
  } else {
    CAIRN_ASSIGN_OR_RETURN(n, in->Size());
  }
  CAIRN_ASSIGN_OR_RETURN(auto out, env_->OpenWritable(to));
  CAIRN_RETURN_IF_ERROR(out->Truncate(0));
  std::string scratch(static_cast<size_t>(std::min(n, kCopyChunk)), '\0');
  for (uint64_t at = 0; at < n;) {
    const auto want = static_cast<size_t>(std::min(n - at, kCopyChunk));
    std::string_view got;
    CAIRN_RETURN_IF_ERROR(in->Read(at, want, scratch.data(), &got));
    if (got.size() != want) {
      return Status::Corruption(from + " holds " + std::to_string(at + got.size()) +
                                " bytes, fewer than the " + std::to_string(n) +
                                " the backup needs");
    }
    CAIRN_RETURN_IF_ERROR(out->Append(got));
    at += want;
  }
  CAIRN_RETURN_IF_ERROR(out->Sync());
  CAIRN_RETURN_IF_ERROR(out->Close());
  report->bytes_copied += n;
  return Status::OK();
}

Result<bool> BackupJob::Place(const std::string& from, const std::string& to, bool link,
                              std::optional<uint64_t> length, BackupReport* report) {
  if (link) {
    CAIRN_ASSIGN_OR_RETURN(bool linked, env_->LinkFile(from, to));
    if (linked) {
      ++report->files_linked;
      return true;
    }
  }
  CAIRN_RETURN_IF_ERROR(CopyPrefix(from, to, length, report));
  return false;
}

Status BackupJob::ScanTail(uint64_t from, uint64_t end, const index::Manifest* m, bool whole_log,
                           uint64_t* events, uint64_t* next) {
  log::LogOptions lo;
  lo.read_only = true;
  lo.segment_bytes = segment_bytes_;
  lo.max_record_bytes = UINT32_MAX;  // bounded by the segment, as for any reader
  CAIRN_ASSIGN_OR_RETURN(auto log, log::Log::Open(env_, partial_, lo));
  uint64_t n = m ? m->indexed_through : 0;
  uint64_t count = 0;
  uint32_t seg = log::AddressSegment(from);
  uint64_t bad = 0;
  Status s = log->Scan(
      from, end,
      [&](uint64_t address, std::string_view body, size_t) -> Status {
        auto where = [&] {
          return log->SegmentPath(log::AddressSegment(address)) + " offset " +
                 std::to_string(log::AddressOffset(address));
        };
        if (log::AddressSegment(address) != seg) {
          seg = log::AddressSegment(address);
          if (log->SegmentFirstPosition(seg) != n) {
            return Status::Corruption(
                log->SegmentPath(seg) + " offset 0: segment starts at position " +
                std::to_string(log->SegmentFirstPosition(seg)) + ", expected " + std::to_string(n));
          }
        }
        CAIRN_ASSIGN_OR_RETURN(auto reader, log::CommitReader::Open(body, where));
        if (reader.sparse() ? reader.first_position() < n : reader.first_position() != n) {
          return Status::Corruption(where() + ": record starts at position " +
                                    std::to_string(reader.first_position()) + ", expected " +
                                    std::to_string(n));
        }
        EventView e;
        for (;;) {
          CAIRN_ASSIGN_OR_RETURN(bool more, reader.Next(&e));
          if (!more) break;
          ++count;
          n = e.position.value() + 1;
        }
        return Status::OK();
      },
      &bad);
  // Without HEAD the log is copied as it is on disk, torn tail included;
  // the copy's open cuts it as the store's own open would.
  const bool torn_tail = whole_log && bad != 0 && log::AddressSegment(bad) == log->LastSegmentId();
  if (!s.ok() && !torn_tail) return s;
  *events = (m ? m->indexed_through - std::min(m->indexed_through, m->holes) : 0) + count;
  *next = n;
  return Status::OK();
}

Result<bool> BackupJob::Try(BackupReport* report) {
  *report = BackupReport{};
  manifest_bytes_.reset();
  head_.reset();
  CAIRN_RETURN_IF_ERROR(WaitForNoSwap());

  // HEAD first, then MANIFEST: the copy is the store as of this HEAD (or of
  // the manifest, when it reaches further).
  const std::string head_path = src_ + "/HEAD";
  CAIRN_ASSIGN_OR_RETURN(bool has_head, env_->FileExists(head_path));
  std::optional<Head> head;
  for (int read = 0; has_head && !head; ++read) {
    auto bytes = env_->ReadFile(head_path);
    if (!bytes) return bytes.error();
    head = DecodeHead(*bytes);
    if (head) break;
    // A read racing the writer's pwrite (or its open, which creates the
    // file empty) fails a checksum: read again shortly.
    if (read == 2) {
      return Status::Corruption(head_path +
                                ": fails its checksum in three reads (open the store for "
                                "writing once, which rewrites it)");
    }
    env_->SleepForMicroseconds(kPollMicros);
  }
  std::optional<index::Manifest> m;
  CAIRN_ASSIGN_OR_RETURN(bool has_manifest, env_->FileExists(ManifestPath(src_)));
  if (has_manifest) {
    CAIRN_ASSIGN_OR_RETURN(std::string bytes, env_->ReadFile(ManifestPath(src_)));
    CAIRN_ASSIGN_OR_RETURN(m, index::DecodeManifest(bytes, ManifestPath(src_)));
    manifest_bytes_ = std::move(bytes);
  }
  const uint64_t generation = m ? m->log_generation : 0;
  if (head && head->log_generation && *head->log_generation != generation) {
    retry_reason_ = "a scavenge finished between the reads of HEAD and MANIFEST";
    return false;
  }

  // Where the copy ends.
  uint64_t end = 0;
  if (head) {
    end = head->end_address;
    if (m && m->resume_address > end) end = m->resume_address;
  } else {
    // No HEAD (only builds before it wrote none): the whole log as it is on
    // disk, as a read-only open reads it.
    CAIRN_ASSIGN_OR_RETURN(auto names, env_->ListDir(src_ + "/log"));
    std::vector<uint32_t> ids;
    for (const auto& name : names) {
      uint32_t id = 0;
      if (log::ParseSegmentName(name, &id)) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    // A last segment shorter than its header (a crash while rolling over)
    // holds nothing; opens drop it too.
    uint64_t size = 0;
    while (!ids.empty()) {
      CAIRN_ASSIGN_OR_RETURN(size,
                             env_->FileSize(src_ + "/log/" + log::SegmentFileName(ids.back())));
      if (size >= log::kSegmentHeaderSize) break;
      ids.pop_back();
    }
    if (ids.empty()) return Status::NotFound("no log segments in " + src_ + "/log");
    end = log::MakeAddress(ids.back(), static_cast<uint32_t>(std::min<uint64_t>(size, UINT32_MAX)));
  }
  if (log::AddressOffset(end) < log::kSegmentHeaderSize) {
    return Status::Corruption(head_path + ": end address " + std::to_string(end) +
                              " lies inside a segment header");
  }

  // Index runs: immutable once named by a manifest; a merge may remove them.
  if (m) {
    for (auto kind : {index::RunKind::kStream, index::RunKind::kIds, index::RunKind::kTags}) {
      for (uint64_t id : index::RunIds(*m, kind)) {
        const std::string name = index::RunFileName(id, kind);
        auto placed = Place(IndexDir(src_) + "/" + name, index_ + "/" + name, /*link=*/true,
                            std::nullopt, report);
        if (!placed) return Overlapped(placed.error(), generation, /*merged_away=*/true);
      }
    }
    // The writer appends entries past the manifest's (and a scavenge
    // renames a new file in): copy exactly what this manifest names.
    const std::string positions = PositionsPath(src_);
    CAIRN_ASSIGN_OR_RETURN(bool has_positions, env_->FileExists(positions));
    if (has_positions || m->position_entries > 0) {
      auto copied = Place(positions, PositionsPath(dest_), /*link=*/false,
                          index::PositionIndex::FileBytesFor(m->position_entries), report);
      if (!copied) return Overlapped(copied.error(), generation);
    }
  }

  // Log segments: those below the end's segment are closed (the writer
  // only ever appends to its last one, and trims and syncs a segment before
  // it starts the next); the end's segment is copied up to the end.
  const uint32_t last = log::AddressSegment(end);
  for (uint32_t seg = 0; seg <= last; ++seg) {
    const bool closed = seg < last;
    auto placed = Place(
        src_ + "/log/" + log::SegmentFileName(seg), partial_ + "/" + log::SegmentFileName(seg),
        /*link=*/closed, closed ? std::nullopt : std::optional<uint64_t>(log::AddressOffset(end)),
        report);
    if (!placed) return Overlapped(placed.error(), generation);
    ++(*placed ? report->segments_linked : report->segments_copied);
  }

  // The unindexed tail as the copy's open will replay it.
  const uint64_t from = m && m->resume_address != 0 ? m->resume_address
                                                    : log::MakeAddress(0, log::kSegmentHeaderSize);
  uint64_t events = 0, next = 0;
  Status scanned = ScanTail(from, end, m ? &*m : nullptr, !head, &events, &next);
  if (!scanned.ok()) return Overlapped(scanned, generation);

  CAIRN_ASSIGN_OR_RETURN(bool swap_free, SwapFree(generation));
  if (!swap_free) {
    retry_reason_ = "a scavenge swapped files during the copy";
    return false;
  }
  report->head = Position(next);
  report->events = events;
  if (head) head_ = Head{end, next, generation};
  return true;
}

Status BackupJob::Finish(BackupReport* report) {
  if (manifest_bytes_) {
    CAIRN_RETURN_IF_ERROR(env_->WriteFileAtomic(ManifestPath(dest_), *manifest_bytes_));
    report->bytes_copied += manifest_bytes_->size();
  }
  if (head_) {
    const std::string bytes = EncodeHead(*head_);
    CAIRN_RETURN_IF_ERROR(env_->WriteFileAtomic(dest_ + "/HEAD", bytes));
    report->bytes_copied += bytes.size();
  }
  CAIRN_RETURN_IF_ERROR(env_->SyncDir(partial_));
  CAIRN_RETURN_IF_ERROR(env_->SyncDir(index_));
  CAIRN_RETURN_IF_ERROR(env_->RenameFile(partial_, dest_ + "/log"));
  CAIRN_RETURN_IF_ERROR(env_->SyncDir(dest_));
  if (created_dest_) CAIRN_RETURN_IF_ERROR(env_->SyncDir(Parent(dest_)));
  return Status::OK();
}

Status BackupJob::EmptyDir(const std::string& dir) {
  CAIRN_ASSIGN_OR_RETURN(bool exists, env_->FileExists(dir));
  if (!exists) return Status::OK();
  CAIRN_ASSIGN_OR_RETURN(auto names, env_->ListDir(dir));
  for (const auto& name : names) CAIRN_RETURN_IF_ERROR(env_->RemoveFile(dir + "/" + name));
  return Status::OK();
}

Status BackupJob::Discard() {
  CAIRN_RETURN_IF_ERROR(EmptyDir(partial_));
  return EmptyDir(index_);
}

void BackupJob::Abandon() {
  auto exists = [&](const std::string& path) {
    auto r = env_->FileExists(path);
    return r.has_value() && *r;
  };
  (void)Discard();
  (void)EmptyDir(dest_ + "/log");  // renamed before a later step failed
  for (const char* name : {"/HEAD", "/HEAD.tmp"}) {
    if (exists(dest_ + name)) (void)env_->RemoveFile(dest_ + name);
  }
  for (const std::string& dir : {partial_, dest_ + "/log", index_}) {
    if (exists(dir)) (void)env_->RemoveDir(dir);
  }
  if (created_dest_) (void)env_->RemoveDir(dest_);
}

}  // namespace

Result<BackupReport> StoreImpl::Backup(const std::string& dest) {
  Op op(this);
  CAIRN_RETURN_IF_ERROR(op.status());
  std::string to = dest;
  while (to.size() > 1 && to.back() == '/') to.pop_back();
  if (to.empty()) return Status::InvalidArgument("backup destination is empty");
  BackupJob job(env_, dir_, to, options_.segment_bytes);
  CAIRN_RETURN_IF_ERROR(job.Prepare());
  BackupReport report;
  for (int attempt = 1; attempt <= kMaxTries; ++attempt) {
    Result<bool> whole = job.Try(&report);
    report.attempts = attempt;
    Status s = whole.status();
    if (s.ok() && *whole) {
      s = job.Finish(&report);
      if (s.ok()) return report;
    }
    if (!s.ok()) {
      job.Abandon();
      return s;
    }
    if (Status d = job.Discard(); !d.ok()) {
      job.Abandon();
      return d;
    }
  }
  job.Abandon();
  return Status(ErrorCode::kBusy,
                "backup of " + dir_ + " gave up after " + std::to_string(kMaxTries) +
                    " tries: the store's writer changed its files under each (last: " +
                    job.retry_reason() + "); try again");
}

}  // namespace cairn
