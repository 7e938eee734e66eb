#include "src/log/log.h"

#include <algorithm>
#include <cstdio>
#include <mutex>

namespace cairn::log {
namespace {

// How far ahead of its last record the writer reserves the active segment
// (docs/format/log.md, "Reserved space").
constexpr uint64_t kReserveBytes = 4ull << 20;
// Writes smaller than this on average get their reservation as written
// zeros (LogOptions::synced_writes). Measured on the test machine
// (BENCHMARKS.md, "Written zeros for small durable appends"): a write +
// fdatasync of 18 KB takes ~270 us in fallocated blocks and ~150 us in
// written ones, where the zeros cost ~4 ms per 4 MiB reserved; for 280 KB
// the saving (~250 us) no longer pays for writing the zeros first.
constexpr uint64_t kZeroFillBelowBytes = 64u << 10;

}  // namespace

std::string SegmentFileName(uint32_t id) {
  char name[16];
  std::snprintf(name, sizeof name, "%08u.seg", id);
  return name;
}

bool ParseSegmentName(const std::string& name, uint32_t* id) {
  if (name.size() != 12 || name.substr(8) != ".seg") return false;
  uint32_t v = 0;
  for (int i = 0; i < 8; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<uint32_t>(name[i] - '0');
  }
  *id = v;
  return true;
}

Log::Log(Env* env, std::string dir, LogOptions options)
    : env_(env), dir_(std::move(dir)), options_(options) {}

Log::~Log() {
  if (active_) (void)active_->Close();
}

std::string Log::SegmentPath(uint32_t id) const { return dir_ + "/" + SegmentFileName(id); }

uint64_t Log::MapLength() const {
  // Offsets are 32-bit, so no segment outgrows 4 GiB: reserving that much
  // address space (not memory) for the last segment lets the file grow
  // under the map whatever segment size the writing process uses. Closed
  // segments are mapped (or shrunk) to their size: 4 GiB each would run out
  // of the 128 TiB of a process's address space at 32,768 segments.
  return 1ull << 32;
}

void Log::MapClosed(Segment* s, uint64_t size) {
  if (s != nullptr && s->map) s->map->Shrink(size);
}

Result<std::unique_ptr<Log>> Log::Open(Env* env, const std::string& dir,
                                       const LogOptions& options) {
  std::unique_ptr<Log> log(new Log(env, dir, options));
  if (!options.read_only) CAIRN_RETURN_IF_ERROR(env->CreateDirs(dir));
  CAIRN_ASSIGN_OR_RETURN(auto names, env->ListDir(dir));
  std::vector<uint32_t> ids;
  for (const auto& n : names) {
    uint32_t id;
    if (ParseSegmentName(n, &id)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] != ids[0] + i) {
      return Status::Corruption("log segment " + log->SegmentPath(ids[0] + i) +
                                " is missing (segments must be contiguous)");
    }
  }
  // A segment whose header never reached the disk (crash while rolling over)
  // holds no record: drop it. Only what such a crash leaves, though: zeros or
  // the start of a header. Other bytes are not ours (another program's
  // file) and are never removed.
  while (!ids.empty()) {
    const std::string path = log->SegmentPath(ids.back());
    CAIRN_ASSIGN_OR_RETURN(uint64_t size, env->FileSize(path));
    if (size >= kSegmentHeaderSize) break;
    CAIRN_ASSIGN_OR_RETURN(std::string head, env->ReadFile(path));
    const std::string_view magic(kSegmentMagic, sizeof kSegmentMagic);
    const bool zeros = head.find_first_not_of('\0') == std::string::npos;
    const std::string_view prefix = std::string_view(head).substr(0, magic.size());
    if (!zeros && magic.substr(0, prefix.size()) != prefix) {
      return Status::Corruption(path + " offset 0: not a Cairn log segment (" +
                                std::to_string(size) + " bytes, no segment header)");
    }
    if (!options.read_only) CAIRN_RETURN_IF_ERROR(env->RemoveFile(log->SegmentPath(ids.back())));
    ids.pop_back();
  }
  if (ids.empty()) {
    if (options.read_only) return Status::NotFound("no log segments in " + dir);
    CAIRN_RETURN_IF_ERROR(log->AddSegment(0, /*create=*/true, 0));
  } else {
    if (ids[0] != 0) {
      return Status::Corruption("log segment " + log->SegmentPath(0) + " is missing");
    }
    for (uint32_t id : ids) {
      CAIRN_RETURN_IF_ERROR(log->AddSegment(id, false, 0, /*closed=*/id != ids.back()));
    }
  }
  if (!options.read_only) {
    Segment* last = log->segments_.back().get();
    CAIRN_ASSIGN_OR_RETURN(log->active_, env->OpenWritable(last->path));
    log->write_address_ = MakeAddress(last->id, static_cast<uint32_t>(last->valid_end.load()));
    log->maybe_longer_ = true;  // a crash may have left reserved zeros: trim checks
  }
  return log;
}

Status Log::AddSegment(uint32_t id, bool create, uint64_t first_position, bool closed) {
  auto seg = std::make_unique<Segment>();
  seg->id = id;
  seg->path = SegmentPath(id);
  if (create) {
    CAIRN_ASSIGN_OR_RETURN(auto f, env_->OpenWritable(seg->path));
    // An earlier failed attempt may have left bytes: start the file afresh.
    CAIRN_RETURN_IF_ERROR(f->Truncate(0));
    CAIRN_RETURN_IF_ERROR(f->Append(EncodeSegmentHeader({id, first_position})));
    CAIRN_RETURN_IF_ERROR(f->Sync());
    CAIRN_RETURN_IF_ERROR(env_->SyncDir(dir_));
    if (active_) CAIRN_RETURN_IF_ERROR(active_->Close());
    active_ = std::move(f);
    reserved_end_ = 0;
    reserve_failed_ = false;
    maybe_longer_ = false;
  }
  CAIRN_ASSIGN_OR_RETURN(uint64_t size, env_->FileSize(seg->path));
  CAIRN_ASSIGN_OR_RETURN(seg->map, env_->MapFile(seg->path, closed ? size : MapLength()));
  std::string_view head = seg->map->data().substr(0, std::min<uint64_t>(size, kSegmentHeaderSize));
  CAIRN_ASSIGN_OR_RETURN(SegmentHeader h, DecodeSegmentHeader(head, seg->path));
  if (h.segment_id != id) {
    return Status::Corruption(seg->path + " offset 0: header names segment " +
                              std::to_string(h.segment_id));
  }
  seg->first_position = h.first_position;
  seg->flags = h.flags;
  seg->valid_end.store(size);
  std::unique_lock l(segments_mu_);
  segments_.push_back(std::move(seg));
  return Status::OK();
}

Log::Segment* Log::Get(uint32_t id) const {
  std::shared_lock l(segments_mu_);
  return id < segments_.size() ? segments_[id].get() : nullptr;
}

uint64_t Log::EndAddress() const {
  std::shared_lock l(segments_mu_);
  const Segment& s = *segments_.back();
  return MakeAddress(s.id, static_cast<uint32_t>(s.valid_end.load(std::memory_order_acquire)));
}

uint32_t Log::LastSegmentId() const {
  std::shared_lock l(segments_mu_);
  return segments_.back()->id;
}

bool Log::SegmentScavenged(uint32_t id) const {
  Segment* s = Get(id);
  return s != nullptr && (s->flags & kSegmentScavenged) != 0;
}

uint64_t Log::SegmentSize(uint32_t id) const {
  Segment* s = Get(id);
  return s ? s->valid_end.load() : 0;
}

uint64_t Log::SegmentFirstPosition(uint32_t id) const {
  Segment* s = Get(id);
  return s ? s->first_position : 0;
}

uint64_t Log::TotalBytes() const {
  std::shared_lock l(segments_mu_);
  uint64_t total = 0;
  for (const auto& s : segments_) total += s->valid_end.load();
  return total;
}

size_t Log::SegmentCount() const {
  std::shared_lock l(segments_mu_);
  return segments_.size();
}

Result<std::string_view> Log::Record(uint64_t address) const {
  Segment* s = Get(AddressSegment(address));
  uint64_t off = AddressOffset(address);
  // The index points at records the log must hold: a miss is a log that
  // lost acknowledged data (a deleted or cut segment), never bad input.
  if (s == nullptr) {
    return Status::Corruption(SegmentPath(AddressSegment(address)) +
                              " is missing: the index holds a record of it at offset " +
                              std::to_string(off) + " (acknowledged events are lost)");
  }
  if (off < kSegmentHeaderSize || off >= s->valid_end.load()) {
    return Status::Corruption(s->path + " ends at offset " + std::to_string(s->valid_end.load()) +
                              ", but the index holds a record of it at offset " +
                              std::to_string(off) +
                              ": the file was cut (acknowledged events are lost)");
  }
  std::string_view bytes = s->map->data().substr(off, s->valid_end.load() - off);
  std::string_view body;
  size_t framed = 0;
  FrameState st = CheckFrame(bytes, options_.max_record_bytes, &body, &framed);
  if (st != FrameState::kOk) {
    return Status::Corruption(s->path + " offset " + std::to_string(off) + ": " +
                              (st == FrameState::kBadChecksum ? "record checksum mismatch"
                               : st == FrameState::kBadLength ? "record length out of range"
                                                              : "record truncated"));
  }
  return body;
}

Status Log::Scan(uint64_t from, uint64_t to, const RecordVisitor& visit,
                 uint64_t* bad_address) const {
  uint32_t seg_id = AddressSegment(from);
  uint64_t off = AddressOffset(from);
  for (;;) {
    Segment* s = Get(seg_id);
    if (s == nullptr) return Status::OK();
    if (off < kSegmentHeaderSize) off = kSegmentHeaderSize;
    uint64_t end = s->valid_end.load(std::memory_order_acquire);
    if (AddressSegment(to) == seg_id) end = std::min<uint64_t>(end, AddressOffset(to));
    std::string_view data = s->map->data();
    while (off < end) {
      std::string_view body;
      size_t framed = 0;
      FrameState st =
          CheckFrame(data.substr(off, end - off), options_.max_record_bytes, &body, &framed);
      if (st != FrameState::kOk) {
        if (bad_address != nullptr) *bad_address = MakeAddress(seg_id, static_cast<uint32_t>(off));
        return Status::Corruption(s->path + " offset " + std::to_string(off) + ": " +
                                  (st == FrameState::kBadChecksum ? "record checksum mismatch"
                                   : st == FrameState::kBadLength ? "record length out of range"
                                                                  : "record truncated"));
      }
      CAIRN_RETURN_IF_ERROR(visit(MakeAddress(seg_id, static_cast<uint32_t>(off)), body, framed));
      off += framed;
    }
    if (AddressSegment(to) <= seg_id) return Status::OK();
    ++seg_id;
    off = kSegmentHeaderSize;
  }
}

Result<std::string_view> Log::RawTail(uint32_t id, uint64_t offset) const {
  Segment* s = Get(id);
  if (s == nullptr) return Status::InvalidArgument("no segment " + std::to_string(id));
  CAIRN_ASSIGN_OR_RETURN(uint64_t size, env_->FileSize(s->path));
  if (offset > size) return std::string_view();
  return s->map->data().substr(offset, size - offset);
}

void Log::SetValidEnd(uint64_t address) {
  Segment* s = Get(AddressSegment(address));
  if (s != nullptr) s->valid_end.store(AddressOffset(address), std::memory_order_release);
  if (!options_.read_only && s != nullptr && s->id == LastSegmentId()) write_address_ = address;
}

Status Log::TruncateTail(uint64_t address) {
  Segment* s = Get(AddressSegment(address));
  if (s == nullptr) return Status::InvalidArgument("truncate: no such segment");
  reserved_end_ = 0;
  CAIRN_RETURN_IF_ERROR(active_->Truncate(AddressOffset(address)));
  CAIRN_RETURN_IF_ERROR(active_->Sync());
  maybe_longer_ = false;
  s->valid_end.store(AddressOffset(address));
  write_address_ = address;
  return Status::OK();
}

Result<uint64_t> Log::PrepareWrite(size_t bytes, uint64_t next_position) {
  if (!broken_.ok()) return broken_;
  uint64_t off = AddressOffset(write_address_);
  if (off > kSegmentHeaderSize && off + bytes > options_.segment_bytes) {
    CAIRN_RETURN_IF_ERROR(TrimReserved());
    uint32_t next = AddressSegment(write_address_) + 1;
    CAIRN_RETURN_IF_ERROR(AddSegment(next, /*create=*/true, next_position));
    MapClosed(Get(next - 1), off);
    write_address_ = MakeAddress(next, kSegmentHeaderSize);
  }
  return write_address_;
}

Status Log::Roll(uint64_t next_position) {
  if (!broken_.ok()) return broken_;
  if (AddressOffset(write_address_) <= kSegmentHeaderSize) return Status::OK();  // already fresh
  CAIRN_RETURN_IF_ERROR(TrimReserved());
  uint32_t next = AddressSegment(write_address_) + 1;
  CAIRN_RETURN_IF_ERROR(AddSegment(next, /*create=*/true, next_position));
  MapClosed(Get(next - 1), AddressOffset(write_address_));
  write_address_ = MakeAddress(next, kSegmentHeaderSize);
  return Status::OK();
}

Result<std::unique_ptr<MappedFile>> Log::Remap(uint32_t id) {
  CAIRN_ASSIGN_OR_RETURN(Replacement r, PrepareRemap(id));
  return InstallRemap(std::move(r));
}

Result<Log::Replacement> Log::PrepareRemap(uint32_t id) const {
  Segment* s = Get(id);
  if (s == nullptr || id >= LastSegmentId()) {
    return Status::InvalidArgument("segment " + std::to_string(id) + " cannot be remapped");
  }
  Replacement r;
  r.id = id;
  CAIRN_ASSIGN_OR_RETURN(r.size, env_->FileSize(s->path));
  CAIRN_ASSIGN_OR_RETURN(r.map, env_->MapFile(s->path, r.size));  // closed: its size
  CAIRN_ASSIGN_OR_RETURN(
      SegmentHeader h,
      DecodeSegmentHeader(r.map->data().substr(0, std::min<uint64_t>(r.size, kSegmentHeaderSize)),
                          s->path));
  if (h.segment_id != id || h.first_position != s->first_position) {
    return Status::Corruption(s->path + " offset 0: replacement header does not match");
  }
  r.flags = h.flags;
  return r;
}

std::unique_ptr<MappedFile> Log::InstallRemap(Replacement r) {
  Segment* s = Get(r.id);
  std::unique_lock l(segments_mu_);
  std::swap(s->map, r.map);
  s->flags = r.flags;
  s->valid_end.store(r.size);
  return std::move(r.map);  // the old mapping
}

Status Log::Write(std::string_view bytes) {
  uint64_t before = active_->Size();
  const uint64_t need = before + bytes.size();
  recent_write_bytes_ = (recent_write_bytes_ * 7 + bytes.size()) / 8;
  if (need > reserved_end_ && !reserve_failed_ && need <= options_.segment_bytes) {
    // Reserve ahead (best effort): a failure only means plain appends.
    const uint64_t target = std::min<uint64_t>(need + kReserveBytes, options_.segment_bytes);
    const bool zeros = options_.synced_writes && bytes.size() < kZeroFillBelowBytes &&
                       recent_write_bytes_ < kZeroFillBelowBytes;
    maybe_longer_ = true;
    if ((zeros ? active_->WriteZeros(target) : active_->Preallocate(target)).ok()) {
      reserved_end_ = target;
    } else {
      reserve_failed_ = true;
    }
  }
  Status s = active_->Append(bytes);
  if (!s.ok()) {
    // Leave no partial record behind: cut the file back to where it was
    // (which also drops the reservation).
    reserved_end_ = 0;
    // maybe_longer_ stays: this cut is not synced, so after a power loss
    // the file may come back with its reserved length.
    Status t = active_->Truncate(before);
    if (!t.ok()) {
      // Bytes of a partial record may remain: writing after them would bury
      // them mid-log. Refuse writes until reopened; recovery cuts the tail.
      broken_ = Status(ErrorCode::kFailedPrecondition,
                       "store refuses writes: a failed write left a partial record that could "
                       "not be cut (" +
                           t.message() + "); reopen the store to recover");
      return Status(s.code(),
                    s.message() + "; and cutting the partial write failed: " + t.message());
    }
    return s;
  }
  write_address_ += bytes.size();
  return Status::OK();
}

Status Log::Sync() { return active_->Sync(); }

void Log::StartSync() { active_->StartSync(); }

Status Log::TrimReserved() {
  if (options_.read_only || !active_ || !broken_.ok() || !maybe_longer_) return Status::OK();
  reserved_end_ = 0;
  // On failure the flag stays: the caller (a roll, Close) fails, and the
  // next attempt cuts again; a segment is never closed with zeros in it.
  CAIRN_RETURN_IF_ERROR(active_->Truncate(active_->Size()));
  CAIRN_RETURN_IF_ERROR(active_->Sync());
  maybe_longer_ = false;
  return Status::OK();
}

Result<bool> Log::NextSegmentExists() const {
  return env_->FileExists(SegmentPath(LastSegmentId() + 1));
}

Status Log::RefreshSegments() {
  for (;;) {
    uint32_t next = LastSegmentId() + 1;
    CAIRN_ASSIGN_OR_RETURN(bool exists, env_->FileExists(SegmentPath(next)));
    if (!exists) return Status::OK();
    CAIRN_ASSIGN_OR_RETURN(uint64_t size, env_->FileSize(SegmentPath(next)));
    if (size < kSegmentHeaderSize) return Status::OK();  // header not written yet
    // The previous segment is complete: its valid end is its file size.
    // Never less than known: a scavenge of the writer may have renamed a
    // smaller file over the one we map (the reader then adopts the new
    // files; until then what it knew stays readable).
    Segment* prev = Get(next - 1);
    CAIRN_ASSIGN_OR_RETURN(uint64_t prev_size, env_->FileSize(prev->path));
    if (prev_size > prev->valid_end.load(std::memory_order_acquire)) {
      prev->valid_end.store(prev_size, std::memory_order_release);
    }
    // Nothing reads past its valid end, which stays put from now on.
    MapClosed(prev, prev->valid_end.load(std::memory_order_acquire));
    CAIRN_RETURN_IF_ERROR(AddSegment(next, false, 0));
    Get(next)->valid_end.store(kSegmentHeaderSize);
  }
}

}  // namespace cairn::log
