// Opening, recovery, index checkpoints and closing of the native engine.
#include <algorithm>
#include <chrono>
#include <cstring>

#include "src/base/hash.h"
#include "src/store/head.h"
#include "src/store/store_impl.h"

namespace cairn {
namespace {

std::string IndexDir(const std::string& dir) { return dir + "/index"; }
std::string ManifestPath(const std::string& dir) { return dir + "/index/MANIFEST"; }

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir, const StoreOptions& options) {
  return StoreImpl::Open(dir, options);
}

StoreImpl::StoreImpl(std::string dir, const StoreOptions& options, Env* env)
    : dir_(std::move(dir)), options_(options), env_(env) {
  active_ = std::make_shared<index::Memtable>();
}

StoreImpl::~StoreImpl() { (void)Close(); }

Result<std::unique_ptr<Store>> StoreImpl::Open(const std::string& dir,
                                               const StoreOptions& options) {
  if (dir.empty()) return Status::InvalidArgument("store directory is empty");
  if (options.max_stream_name_bytes == 0 || options.max_stream_name_bytes > 65535) {
    return Status::InvalidArgument("max_stream_name_bytes must be in 1..65535");
  }
  if (options.segment_bytes + options.max_append_bytes + 64 >= (1ull << 32)) {
    // Log offsets are 32-bit: a segment plus one largest record must fit.
    return Status::InvalidArgument("segment_bytes + max_append_bytes must stay below 4 GiB");
  }
  if (options.memtable_entries == 0) {
    return Status::InvalidArgument("memtable_entries must be positive");
  }
  Env* env = options.env ? options.env : Env::Default();
  std::unique_ptr<StoreImpl> store(new StoreImpl(dir, options, env));
  CAIRN_RETURN_IF_ERROR(store->Recover());
  if (!options.read_only) {
    store->flusher_ = std::thread([s = store.get()] { s->FlushLoop(); });
  }
  return std::unique_ptr<Store>(std::move(store));
}

Status StoreImpl::Recover() {
  CAIRN_ASSIGN_OR_RETURN(bool exists, env_->FileExists(dir_ + "/log"));
  if (!exists) {
    if (options_.read_only || !options_.create_if_missing) {
      return Status::NotFound("no Cairn store in '" + dir_ + "'");
    }
  }
  if (!options_.read_only) {
    CAIRN_RETURN_IF_ERROR(env_->CreateDirs(IndexDir(dir_)));
    CAIRN_ASSIGN_OR_RETURN(lock_, env_->LockFile(dir_ + "/LOCK"));
  }
  index::Manifest m;
  CAIRN_ASSIGN_OR_RETURN(bool has_manifest, env_->FileExists(ManifestPath(dir_)));
  if (has_manifest) {
    CAIRN_ASSIGN_OR_RETURN(std::string bytes, env_->ReadFile(ManifestPath(dir_)));
    CAIRN_ASSIGN_OR_RETURN(m, index::DecodeManifest(bytes, ManifestPath(dir_)));
  }
  log::LogOptions lo;
  lo.segment_bytes = options_.segment_bytes;
  // Frames are bounded by their segment, not by this process's options: a
  // reader opened with smaller limits must still read the writer's records.
  lo.max_record_bytes = UINT32_MAX;
  lo.read_only = options_.read_only;
  CAIRN_ASSIGN_OR_RETURN(log_, log::Log::Open(env_, dir_ + "/log", lo));
  CAIRN_RETURN_IF_ERROR(LoadRuns(&m, &runs_, &id_runs_));
  CAIRN_RETURN_IF_ERROR(positions_.Open(env_, IndexDir(dir_) + "/positions.idx",
                                        m.position_entries, options_.read_only));
  if (!options_.read_only) {
    // Run files written after the last manifest are orphans of a crash.
    CAIRN_ASSIGN_OR_RETURN(auto names, env_->ListDir(IndexDir(dir_)));
    for (const auto& n : names) {
      bool is_run = n.size() > 4 && (n.substr(n.size() - 4) == ".run" ||
                                     n.substr(n.size() - 4) == ".ids");
      bool listed = false;
      for (uint64_t id : m.runs) listed = listed || n == index::RunFileName(id);
      for (uint64_t id : m.id_runs) listed = listed || n == index::RunFileName(id, true);
      if ((is_run && !listed) || (n.size() > 4 && n.substr(n.size() - 4) == ".tmp")) {
        CAIRN_RETURN_IF_ERROR(env_->RemoveFile(IndexDir(dir_) + "/" + n));
      }
    }
  }
  manifest_ = m;
  visible_.store(m.indexed_through);
  uint64_t from = m.resume_address ? m.resume_address : log::MakeAddress(0, log::kSegmentHeaderSize);
  uint64_t to = log_->EndAddress();
  bool durable_to = false;
  if (options_.read_only) {
    // Index only what the writer has made durable.
    auto head = env_->ReadFile(dir_ + "/HEAD");
    if (head) {
      if (auto h = DecodeHead(*head); h && h->end_address <= to) {
        to = h->end_address;
        durable_to = true;
      }
    }
  }
  CAIRN_RETURN_IF_ERROR(ReplayTail(from, to, durable_to));
  if (!options_.read_only) {
    CAIRN_ASSIGN_OR_RETURN(head_, env_->OpenWritable(dir_ + "/HEAD"));
    Publish(log_->EndAddress(), visible_.load());
  }
  return Status::OK();
}

Status StoreImpl::ReplayTail(uint64_t from, uint64_t to, bool durable_to) {
  uint64_t next = visible_.load();
  uint32_t seg = log::AddressSegment(from);
  uint64_t end = from;
  uint64_t bad = 0;
  std::vector<std::pair<std::string, index::StreamEntry>> entries;
  std::vector<index::PositionEntry> records;
  std::vector<uint64_t> id_keys;  // parallel to entries
  Status s = log_->Scan(
      from, to,
      [&](uint64_t address, std::string_view body, size_t framed) -> Status {
        std::string where = log_->SegmentPath(log::AddressSegment(address)) + " offset " +
                            std::to_string(log::AddressOffset(address));
        if (log::AddressSegment(address) != seg) {
          seg = log::AddressSegment(address);
          if (log_->SegmentFirstPosition(seg) != next) {
            return Status::Corruption(log_->SegmentPath(seg) + " offset 0: segment starts at position " +
                                      std::to_string(log_->SegmentFirstPosition(seg)) +
                                      ", expected " + std::to_string(next));
          }
        }
        CAIRN_ASSIGN_OR_RETURN(auto reader, log::CommitReader::Open(body, where));
        if (reader.first_position() != next) {
          return Status::Corruption(where + ": record starts at position " +
                                    std::to_string(reader.first_position()) + ", expected " +
                                    std::to_string(next));
        }
        records.push_back({next, address});
        EventView e;
        for (;;) {
          CAIRN_ASSIGN_OR_RETURN(bool more, reader.Next(&e));
          if (!more) break;
          entries.push_back({std::string(e.stream), {e.revision.value(), e.position.value(), address}});
          id_keys.push_back(IdKey(e.id.bytes().data()));
        }
        next += reader.event_count();
        end = address + framed;
        return Status::OK();
      },
      &bad);
  if (!s.ok()) {
    if (bad == 0) return s;  // a grammar error inside a record whose checksum holds
    if (durable_to) {  // below the writer's HEAD every record must be whole
      return Status::Corruption(s.message() +
                                "; it lies below the durable end the writer recorded in HEAD: "
                                "the log is damaged in the middle (run `cairn verify`)");
    }
    CAIRN_RETURN_IF_ERROR(CutTornTail(s, bad, next));
    end = bad;
  }
  {
    std::unique_lock l(index_mu_);
    for (const auto& r : records) positions_.Append(r);
    for (size_t i = 0; i < entries.size(); ++i) {
      active_->Add(entries[i].first, entries[i].second);
      active_->AddId(id_keys[i], entries[i].second);
    }
  }
  if (options_.read_only && s.ok() && log::AddressSegment(to) == log_->LastSegmentId()) {
    log_->SetValidEnd(to);  // bytes past the writer's HEAD are not durable yet
  }
  scanned_address_ = end;
  visible_.store(next, std::memory_order_release);
  return Status::OK();
}

Status StoreImpl::CutTornTail(const Status& scan_error, uint64_t bad_address, uint64_t next) {
  uint32_t seg = log::AddressSegment(bad_address);
  if (seg != log_->LastSegmentId()) return scan_error;  // damage before the last segment
  CAIRN_ASSIGN_OR_RETURN(std::string_view tail,
                         log_->RawTail(seg, log::AddressOffset(bad_address)));
  // A torn tail has no valid record after it. A valid record further on
  // means the damage is in the middle of the log: refuse, never cut data.
  for (size_t i = 1; i + log::kFrameHeaderSize < tail.size(); ++i) {
    std::string_view body;
    size_t framed = 0;
    if (log::CheckFrame(tail.substr(i), UINT32_MAX, &body, &framed) !=
        log::FrameState::kOk) {
      continue;
    }
    auto reader = log::CommitReader::Open(body, "");
    if (reader && reader->first_position() >= next) {
      return Status::Corruption(scan_error.message() + "; a valid record follows at offset " +
                                std::to_string(log::AddressOffset(bad_address) + i) +
                                ": the log is damaged in the middle (run `cairn verify`)");
    }
  }
  if (options_.read_only) {
    log_->SetValidEnd(bad_address);
    return Status::OK();
  }
  return log_->TruncateTail(bad_address);
}

Status StoreImpl::RefreshFromWriter() {
  std::lock_guard rl(refresh_mu_);
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
  if (!head || head->next_position <= visible_.load()) return Status::OK();
  CAIRN_RETURN_IF_ERROR(log_->RefreshSegments());
  if (log::AddressSegment(head->end_address) > log_->LastSegmentId()) return Status::OK();
  bool reload = false;
  {
    std::shared_lock l(index_mu_);
    reload = active_->entries() >= options_.memtable_entries;
  }
  if (reload) {
    // The writer has checkpointed since: adopt its runs, drop our memtable.
    index::Manifest m;
    CAIRN_ASSIGN_OR_RETURN(bool has_manifest, env_->FileExists(ManifestPath(dir_)));
    if (!has_manifest) m.indexed_through = 0;  // the writer has not checkpointed yet
    RunList runs, id_runs;
    if (has_manifest) {
      CAIRN_ASSIGN_OR_RETURN(std::string mb, env_->ReadFile(ManifestPath(dir_)));
      CAIRN_ASSIGN_OR_RETURN(m, index::DecodeManifest(mb, ManifestPath(dir_)));
      if (m.generation == manifest_.generation) m.indexed_through = 0;  // nothing new
    }
    if (m.indexed_through > visible_.load()) {
      CAIRN_RETURN_IF_ERROR(LoadRuns(&m, &runs, &id_runs));
      manifest_ = m;
      std::unique_lock l(index_mu_);
      CAIRN_RETURN_IF_ERROR(positions_.Reload(m.position_entries));
      runs_ = std::move(runs);
      id_runs_ = std::move(id_runs);
      active_ = std::make_shared<index::Memtable>();
      visible_.store(m.indexed_through);
      scanned_address_ = m.resume_address;
    }
  }
  log_->SetValidEnd(head->end_address);
  return ReplayTail(scanned_address_, head->end_address, /*durable_to=*/true);
}

Status StoreImpl::LoadRuns(index::Manifest* m, RunList* runs, RunList* id_runs) {
  // A read-only process may race the writer, which deletes the files of
  // runs it has merged right after installing a new manifest: on a missing
  // run, read the manifest again and retry.
  for (int attempt = 0;; ++attempt) {
    runs->clear();
    id_runs->clear();
    Status missing;
    for (int kind = 0; kind < 2 && missing.ok(); ++kind) {
      for (uint64_t id : kind == 0 ? m->runs : m->id_runs) {
        std::string path = IndexDir(dir_) + "/" + index::RunFileName(id, kind == 1);
        auto run = index::IndexRun::Open(env_, path);
        if (!run) {
          if (run.error().code() != ErrorCode::kNotFound) return run.error();
          missing = run.error();
          break;
        }
        (kind == 0 ? runs : id_runs)->push_back(std::move(*run));
      }
    }
    if (missing.ok()) return Status::OK();
    if (!options_.read_only || attempt >= 20) {
      return Status::Corruption("index run listed in " + ManifestPath(dir_) +
                                " is missing: " + missing.message());
    }
    CAIRN_ASSIGN_OR_RETURN(std::string bytes, env_->ReadFile(ManifestPath(dir_)));
    CAIRN_ASSIGN_OR_RETURN(*m, index::DecodeManifest(bytes, ManifestPath(dir_)));
  }
}

void StoreImpl::FlushLoop() {
  std::unique_lock fl(flush_mu_);
  for (;;) {
    flush_cv_.wait(fl, [&] { return stop_flusher_ || frozen_pending_.load() > 0; });
    if (frozen_pending_.load() == 0 && stop_flusher_) return;
    fl.unlock();
    Status s = FlushOne();
    if (s.ok()) s = MaybeCompact();
    fl.lock();
    flush_error_ = s;
    flush_done_cv_.notify_all();
    if (!s.ok()) {
      if (stop_flusher_) return;
      flush_cv_.wait_for(fl, std::chrono::milliseconds(200));  // retry later (disk full?)
    }
  }
}

Status StoreImpl::FlushOne() {
  std::lock_guard cl(checkpoint_mu_);
  Frozen f;
  {
    std::shared_lock l(index_mu_);
    if (frozen_.empty()) return Status::OK();
    f = frozen_.front();
  }
  index::Manifest m = manifest_;
  std::shared_ptr<const index::IndexRun> run, id_run;
  if (!f.table->empty()) {
    uint64_t id = m.next_run_id++;
    std::string path = IndexDir(dir_) + "/" + index::RunFileName(id);
    std::vector<index::IndexEntry> sorted = f.table->Sorted();
    index::RunInfo info;
    info.count = sorted.size();
    info.min_position = m.indexed_through;
    info.end_position = f.end_position;
    for (const auto& e : sorted) info.new_streams += e.revision == 0 ? 1 : 0;
    CAIRN_RETURN_IF_ERROR(index::IndexRun::Write(env_, path, sorted, info));
    CAIRN_ASSIGN_OR_RETURN(run, index::IndexRun::Open(env_, path));
    m.runs.push_back(id);
    uint64_t ids_id = m.next_run_id++;
    std::string ids_path = IndexDir(dir_) + "/" + index::RunFileName(ids_id, true);
    std::vector<index::IndexEntry> ids = f.table->SortedIds();
    info.count = ids.size();
    info.new_streams = 0;
    CAIRN_RETURN_IF_ERROR(index::IndexRun::Write(env_, ids_path, ids, info));
    CAIRN_ASSIGN_OR_RETURN(id_run, index::IndexRun::Open(env_, ids_path));
    m.id_runs.push_back(ids_id);
  }
  CAIRN_RETURN_IF_ERROR(positions_.Persist(f.position_entries - positions_.persisted()));
  m.generation++;
  m.indexed_through = f.end_position;
  m.position_entries = f.position_entries;
  m.resume_address = f.resume_address;
  CAIRN_RETURN_IF_ERROR(env_->WriteFileAtomic(ManifestPath(dir_), index::EncodeManifest(m)));
  manifest_ = m;
  {
    std::unique_lock l(index_mu_);
    if (run) runs_.push_back(std::move(run));
    if (id_run) id_runs_.push_back(std::move(id_run));
    frozen_.pop_front();
  }
  frozen_pending_.fetch_sub(1);
  return Status::OK();
}

Status StoreImpl::MaybeCompact() {
  CAIRN_RETURN_IF_ERROR(CompactList(false));
  return CompactList(true);
}

Status StoreImpl::CompactList(bool id_runs) {
  std::lock_guard cl(checkpoint_mu_);
  RunList runs;
  {
    std::shared_lock l(index_mu_);
    runs = id_runs ? id_runs_ : runs_;
  }
  // Size-tiered: merge the newest runs once four of similar size pile up,
  // so lookups touch O(log n) runs and each entry is rewritten O(log n) times.
  const size_t n = runs.size();
  if (n < 2) return Status::OK();
  size_t first = n - 1;
  while (first > 0 && runs[first - 1]->count() <= 2 * runs[first]->count()) --first;
  if (n - first < 4) {
    if (n <= 12) return Status::OK();
    first = n - 2;  // too many runs of mixed sizes: fold the newest two
  }
  RunList group(runs.begin() + static_cast<std::ptrdiff_t>(first), runs.end());
  index::Manifest m = manifest_;
  std::vector<uint64_t>& ids = id_runs ? m.id_runs : m.runs;
  uint64_t id = m.next_run_id++;
  std::string path = IndexDir(dir_) + "/" + index::RunFileName(id, id_runs);
  CAIRN_RETURN_IF_ERROR(index::IndexRun::Merge(env_, path, group));
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<const index::IndexRun> merged,
                         index::IndexRun::Open(env_, path));
  std::vector<uint64_t> old_ids(ids.begin() + static_cast<std::ptrdiff_t>(first), ids.end());
  ids.resize(first);
  ids.push_back(id);
  m.generation++;
  CAIRN_RETURN_IF_ERROR(env_->WriteFileAtomic(ManifestPath(dir_), index::EncodeManifest(m)));
  manifest_ = m;
  {
    std::unique_lock l(index_mu_);
    RunList& live = id_runs ? id_runs_ : runs_;
    live.resize(first);
    live.push_back(std::move(merged));
  }
  // Readers still holding the old runs keep their mappings alive.
  for (uint64_t old : old_ids) {
    (void)env_->RemoveFile(IndexDir(dir_) + "/" + index::RunFileName(old, id_runs));
  }
  return Status::OK();
}

Status StoreImpl::DoCheckpoint() {
  Writer w;
  w.checkpoint = true;
  CAIRN_RETURN_IF_ERROR(RunQueue(&w));
  std::unique_lock fl(flush_mu_);
  flush_cv_.notify_all();
  flush_done_cv_.wait(fl, [&] { return frozen_pending_.load() == 0 || !flush_error_.ok(); });
  return frozen_pending_.load() == 0 ? Status::OK() : flush_error_;
}

Status StoreImpl::Checkpoint() {
  CAIRN_RETURN_IF_ERROR(CheckOpen());
  if (options_.read_only) return Status(ErrorCode::kReadOnly, "checkpoint of a read-only store");
  return DoCheckpoint();
}

Status StoreImpl::Close() {
  if (closed_.load()) return Status::OK();
  Status s;
  if (!options_.read_only) {
    std::unique_lock l(queue_mu_);
    bool failed = !failed_.ok();
    l.unlock();
    if (!failed) s = DoCheckpoint();
    {
      std::lock_guard fl(flush_mu_);
      stop_flusher_ = true;
      flush_cv_.notify_all();
    }
    if (flusher_.joinable()) flusher_.join();
  }
  closed_.store(true);
  head_.reset();
  log_.reset();
  lock_.reset();
  return s;
}

Result<StoreStats> StoreImpl::Stats() {
  CAIRN_RETURN_IF_ERROR(CheckOpen());
  if (options_.read_only) CAIRN_RETURN_IF_ERROR(RefreshFromWriter());
  StoreStats st;
  st.events = visible_.load();
  st.read_only = options_.read_only;
  st.log_bytes = log_->TotalBytes();
  st.segments = log_->SegmentCount();
  std::shared_lock l(index_mu_);
  auto count_new = [&](const index::Memtable& t) {
    t.ForEachStream([&](const std::string&, const std::vector<index::StreamEntry>& v) {
      if (!v.empty() && v.front().revision == 0) ++st.streams;
    });
    st.memtable_entries += t.entries();
  };
  for (const auto& r : runs_) {
    st.streams += r->info().new_streams;
    st.index_bytes += r->bytes();
  }
  for (const auto& r : id_runs_) st.index_bytes += r->bytes();
  for (const auto& f : frozen_) count_new(*f.table);
  count_new(*active_);
  st.index_runs = runs_.size();
  st.index_bytes += positions_.file_bytes();
  st.indexed_through = manifest_.indexed_through;
  return st;
}

}  // namespace cairn
