#include "src/index/index_run.h"

#include <algorithm>
#include <cstring>

#include "src/base/coding.h"
#include "src/base/crc32c.h"

namespace cairn::index {
namespace {

constexpr char kMagic[8] = {'C', 'A', 'I', 'R', 'N', 'I', 'D', 'X'};
constexpr char kEndMagic[8] = {'C', 'A', 'I', 'R', 'N', 'E', 'N', 'D'};
constexpr uint32_t kVersion = 3;        // written
constexpr uint32_t kOldestVersion = 1;  // still read
constexpr uint64_t kBlockBytes = kRunBlockEntries * kRunEntrySize;

uint64_t Blocks(uint64_t count) { return (count + kRunBlockEntries - 1) / kRunBlockEntries; }

uint64_t BloomBytes(uint64_t keys) {
  return std::max<uint64_t>(8, (keys * kBloomBitsPerKey + 7) / 8);
}

// Double hashing over an already well-mixed 64-bit hash.
template <typename F>
void BloomProbes(uint64_t hash, uint64_t bits, F&& f) {
  uint64_t h = hash;
  const uint64_t delta = (hash >> 33) | (hash << 31) | 1;
  for (uint32_t i = 0; i < kBloomProbes; ++i) {
    f(h % bits);
    h += delta;
  }
}

}  // namespace

RunWriter::~RunWriter() {
  if (finished_ || env_ == nullptr) return;
  if (file_) (void)file_->Close();
  (void)env_->RemoveFile(path_ + ".tmp");
}

Result<std::unique_ptr<RunWriter>> RunWriter::Create(Env* env, const std::string& path,
                                                     const RunInfo& info) {
  std::unique_ptr<RunWriter> w(new RunWriter());
  w->env_ = env;
  w->path_ = path;
  w->info_ = info;
  std::string tmp = path + ".tmp";
  (void)env->RemoveFile(tmp);
  CAIRN_ASSIGN_OR_RETURN(w->file_, env->OpenWritable(tmp));
  std::string& out = w->buf_;
  out.append(kMagic, 8);
  PutFixed32(&out, kVersion);
  PutFixed32(&out, kRunEntrySize);
  PutFixed64(&out, info.count);
  PutFixed64(&out, info.min_position);
  PutFixed64(&out, info.end_position);
  PutFixed64(&out, info.new_streams);
  PutFixed64(&out, info.distinct_keys);
  PutFixed32(&out, info.flags);
  out.append(kRunHeaderSize - 4 - out.size(), '\0');
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  w->bloom_.assign(BloomBytes(info.distinct_keys), 0);
  return w;
}

Status RunWriter::Add(const IndexEntry& e) {
  char entry[kRunEntrySize];
  EncodeFixed64(entry, e.hash);
  EncodeFixed64(entry + 8, e.revision);
  EncodeFixed64(entry + 16, e.position);
  EncodeFixed64(entry + 24, e.address);
  buf_.append(entry, kRunEntrySize);
  block_crc_ = crc32c::Extend(block_crc_, entry, kRunEntrySize);
  if (added_ % kRunBlockEntries == 0) {
    PutFixed64(&fences_, e.hash);
    PutFixed64(&fences_, e.revision);
  }
  if (added_ == 0 || e.hash != last_hash_) {
    BloomProbes(e.hash, bloom_.size() * 8,
                [&](uint64_t bit) { bloom_[bit / 8] |= 1 << (bit % 8); });
    last_hash_ = e.hash;
  }
  if (e.revision == kTombstoneRevision) {
    BloomProbes(TombstoneKey(e.hash), bloom_.size() * 8,
                [&](uint64_t bit) { bloom_[bit / 8] |= 1 << (bit % 8); });
  }
  if (++added_ % kRunBlockEntries == 0) {
    PutFixed32(&crcs_, crc32c::Mask(block_crc_));
    block_crc_ = 0;
  }
  if (buf_.size() >= (1u << 20)) return FlushBuffer();
  return Status::OK();
}

Status RunWriter::FlushBuffer() {
  Status s = file_->Append(buf_);
  buf_.clear();
  return s;
}

Status RunWriter::Finish() {
  if (added_ != info_.count) {
    return Status(ErrorCode::kFailedPrecondition,
                  path_ + ": run writer got " + std::to_string(added_) + " entries, expected " +
                      std::to_string(info_.count));
  }
  if (added_ % kRunBlockEntries != 0) PutFixed32(&crcs_, crc32c::Mask(block_crc_));
  buf_ += crcs_;
  PutFixed32(&buf_, crc32c::Mask(crc32c::Value(crcs_)));
  buf_ += fences_;
  PutFixed32(&buf_, crc32c::Mask(crc32c::Value(fences_)));
  std::string_view bloom(reinterpret_cast<const char*>(bloom_.data()), bloom_.size());
  buf_ += bloom;
  PutFixed32(&buf_, crc32c::Mask(crc32c::Value(bloom)));
  buf_.append(kEndMagic, 8);
  CAIRN_RETURN_IF_ERROR(FlushBuffer());
  CAIRN_RETURN_IF_ERROR(file_->Sync());
  CAIRN_RETURN_IF_ERROR(file_->Close());
  CAIRN_RETURN_IF_ERROR(env_->RenameFile(path_ + ".tmp", path_));
  finished_ = true;
  auto slash = path_.find_last_of('/');
  return env_->SyncDir(slash == std::string::npos ? "." : path_.substr(0, slash));
}

Status IndexRun::Write(Env* env, const std::string& path, const std::vector<IndexEntry>& sorted,
                       const RunInfo& info) {
  RunInfo i = info;
  i.count = sorted.size();
  i.distinct_keys = 0;
  for (size_t k = 0; k < sorted.size(); ++k) {
    if (k == 0 || sorted[k].hash != sorted[k - 1].hash) ++i.distinct_keys;
    if (sorted[k].revision == kTombstoneRevision) ++i.distinct_keys;  // its TombstoneKey
  }
  CAIRN_ASSIGN_OR_RETURN(auto w, RunWriter::Create(env, path, i));
  for (const auto& e : sorted) CAIRN_RETURN_IF_ERROR(w->Add(e));
  return w->Finish();
}

Status IndexRun::Merge(Env* env, const std::string& path,
                       const std::vector<std::shared_ptr<const IndexRun>>& runs,
                       const std::atomic<bool>* cancel) {
  RunInfo info;
  info.min_position = runs.front()->info().min_position;
  info.end_position = runs.back()->info().end_position;
  info.flags = kRunNoRetentionKeys;
  for (const auto& r : runs) info.flags &= r->info().flags;
  for (const auto& r : runs) {
    info.count += r->count();
    info.new_streams += r->info().new_streams;
    info.distinct_keys += r->info().distinct_keys;
  }
  CAIRN_ASSIGN_OR_RETURN(auto w, RunWriter::Create(env, path, info));
  // Inputs are read with buffered pread, not through their maps: a merge of
  // gigabytes must not pull every input page into this process's RSS.
  struct Cursor {
    std::unique_ptr<RandomAccessFile> file;
    std::string scratch;
    std::string_view buf;
    uint64_t offset = kRunHeaderSize;  // next file offset to read
    uint64_t left = 0;                 // entries not yet read from the file
    IndexEntry head;
  };
  auto advance = [](Cursor* c) -> Result<bool> {
    if (c->buf.empty()) {
      if (c->left == 0) return false;
      size_t n = static_cast<size_t>(std::min<uint64_t>(c->left, 32768)) * kRunEntrySize;
      c->scratch.resize(n);
      CAIRN_RETURN_IF_ERROR(c->file->Read(c->offset, n, c->scratch.data(), &c->buf));
      if (c->buf.size() != n) {
        return Status::Corruption(c->file->path() + " offset " + std::to_string(c->offset) +
                                  ": index run shorter than its header says");
      }
      c->offset += n;
      c->left -= n / kRunEntrySize;
    }
    const char* p = c->buf.data();
    c->head = {DecodeFixed64(p), DecodeFixed64(p + 8), DecodeFixed64(p + 16),
               DecodeFixed64(p + 24)};
    c->buf.remove_prefix(kRunEntrySize);
    return true;
  };
  std::vector<Cursor> cursors(runs.size());
  std::vector<size_t> heap;  // indexes into cursors, min-heap on head
  auto later = [&](size_t a, size_t b) { return cursors[b].head < cursors[a].head; };
  for (size_t i = 0; i < runs.size(); ++i) {
    CAIRN_ASSIGN_OR_RETURN(cursors[i].file, env->OpenRandomAccess(runs[i]->path()));
    cursors[i].left = runs[i]->count();
    CAIRN_ASSIGN_OR_RETURN(bool has, advance(&cursors[i]));
    if (has) heap.push_back(i);
  }
  std::make_heap(heap.begin(), heap.end(), later);
  uint64_t merged = 0;
  while (!heap.empty()) {
    if (cancel != nullptr && (++merged & 0xffff) == 0 && cancel->load()) {
      (void)env->RemoveFile(path + ".tmp");
      return Status(ErrorCode::kCancelled, "merge into " + path + " cancelled");
    }
    std::pop_heap(heap.begin(), heap.end(), later);
    size_t i = heap.back();
    CAIRN_RETURN_IF_ERROR(w->Add(cursors[i].head));
    CAIRN_ASSIGN_OR_RETURN(bool more, advance(&cursors[i]));
    if (more) {
      std::push_heap(heap.begin(), heap.end(), later);
    } else {
      heap.pop_back();
    }
  }
  return w->Finish();
}

Result<std::unique_ptr<IndexRun>> IndexRun::Open(Env* env, const std::string& path) {
  std::unique_ptr<IndexRun> run(new IndexRun());
  CAIRN_ASSIGN_OR_RETURN(run->file_, env->OpenRandomAccess(path));
  CAIRN_ASSIGN_OR_RETURN(run->bytes_, run->file_->Size());
  auto bad = [&](const std::string& what, uint64_t off) {
    return Status::Corruption(path + " offset " + std::to_string(off) + ": " + what);
  };
  const uint64_t size = run->bytes_;
  if (size < kRunHeaderSize + 12) return bad("index run file truncated", 0);
  char header[kRunHeaderSize];
  std::string_view h;
  CAIRN_RETURN_IF_ERROR(run->file_->Read(0, kRunHeaderSize, header, &h));
  if (h.size() != kRunHeaderSize) return bad("index run file truncated", 0);
  if (std::memcmp(h.data(), kMagic, 8) != 0) return bad("not a Cairn index run (bad magic)", 0);
  if (crc32c::Unmask(DecodeFixed32(h.data() + kRunHeaderSize - 4)) !=
      crc32c::Value(h.data(), kRunHeaderSize - 4)) {
    return bad("index run header checksum mismatch", 0);
  }
  run->version_ = DecodeFixed32(h.data() + 8);
  if (run->version_ < kOldestVersion || run->version_ > kVersion ||
      DecodeFixed32(h.data() + 12) != kRunEntrySize) {
    return bad("unsupported index run version " + std::to_string(run->version_) + " or entry size",
               8);
  }
  RunInfo& info = run->info_;
  info.count = DecodeFixed64(h.data() + 16);
  info.min_position = DecodeFixed64(h.data() + 24);
  info.end_position = DecodeFixed64(h.data() + 32);
  info.new_streams = DecodeFixed64(h.data() + 40);
  info.distinct_keys = DecodeFixed64(h.data() + 48);
  info.flags = DecodeFixed32(h.data() + 56);  // zero padding in older files: "unknown"
  const uint64_t blocks = Blocks(info.count);
  const uint64_t bloom_bytes = BloomBytes(info.distinct_keys);
  const uint64_t fence_bytes = run->version_ >= 2 ? blocks * 16 + 4 : 0;
  const uint64_t crc_off = kRunHeaderSize + info.count * kRunEntrySize;
  const uint64_t expect = crc_off + blocks * 4 + 4 + fence_bytes + bloom_bytes + 4 + 8;
  if (info.count > size || size != expect) {
    return bad("index run size " + std::to_string(size) + " does not match its " +
                   std::to_string(info.count) + " entries",
               0);
  }
  // Everything after the entries in one read.
  std::string tail(size - crc_off, '\0');
  std::string_view t;
  CAIRN_RETURN_IF_ERROR(run->file_->Read(crc_off, tail.size(), tail.data(), &t));
  if (t.size() != tail.size()) return bad("index run file truncated", crc_off);
  if (std::memcmp(t.data() + t.size() - 8, kEndMagic, 8) != 0) {
    return bad("index run trailer magic missing", size - 8);
  }
  const char* p = t.data();
  if (crc32c::Unmask(DecodeFixed32(p + blocks * 4)) != crc32c::Value(p, blocks * 4)) {
    return bad("index run block checksum table mismatch", crc_off);
  }
  run->block_crcs_.resize(blocks);
  for (uint64_t b = 0; b < blocks; ++b)
    run->block_crcs_[b] = crc32c::Unmask(DecodeFixed32(p + b * 4));
  p += blocks * 4 + 4;
  if (run->version_ >= 2) {
    if (crc32c::Unmask(DecodeFixed32(p + blocks * 16)) != crc32c::Value(p, blocks * 16)) {
      return bad("index run fence table mismatch", crc_off + blocks * 4 + 4);
    }
    run->fences_.resize(blocks);
    for (uint64_t b = 0; b < blocks; ++b) {
      run->fences_[b] = {DecodeFixed64(p + b * 16), DecodeFixed64(p + b * 16 + 8)};
    }
    p += blocks * 16 + 4;
  }
  const uint64_t bloom_off = crc_off + static_cast<uint64_t>(p - t.data());
  if (crc32c::Unmask(DecodeFixed32(p + bloom_bytes)) != crc32c::Value(p, bloom_bytes)) {
    return bad("index run Bloom filter checksum mismatch", bloom_off);
  }
  run->bloom_.assign(reinterpret_cast<const uint8_t*>(p),
                     reinterpret_cast<const uint8_t*>(p) + bloom_bytes);
  run->bloom_bits_ = bloom_bytes * 8;
  if (run->version_ < 2) CAIRN_RETURN_IF_ERROR(run->BuildFencesFromEntries());
  return run;
}

Status IndexRun::BuildFencesFromEntries() {
  fences_.clear();
  fences_.reserve(block_crcs_.size());
  return Scan([&](uint64_t i, const IndexEntry& e) {
    if (i % kRunBlockEntries == 0) fences_.push_back({e.hash, e.revision});
    return true;
  });
}

uint64_t IndexRun::resident_bytes() const {
  return block_crcs_.size() * sizeof(uint32_t) + fences_.size() * sizeof(Fence) + bloom_.size();
}

Status IndexRun::BlockCorrupt(uint64_t b) const {
  return Status::Corruption(path() + " offset " + std::to_string(kRunHeaderSize + b * kBlockBytes) +
                            ": index block checksum mismatch");
}

Result<uint64_t> IndexRun::ReadBlock(uint64_t b, char* buf) const {
  const uint64_t first = b * kRunBlockEntries;
  const uint64_t n = std::min<uint64_t>(kRunBlockEntries, info_.count - first);
  std::string_view got;
  CAIRN_RETURN_IF_ERROR(
      file_->Read(kRunHeaderSize + first * kRunEntrySize, n * kRunEntrySize, buf, &got));
  if (got.size() != n * kRunEntrySize || crc32c::Value(got.data(), got.size()) != block_crcs_[b]) {
    return BlockCorrupt(b);
  }
  if (got.data() != buf) std::memcpy(buf, got.data(), got.size());
  return n;
}

Result<uint64_t> IndexRun::ReadBlocks(uint64_t b, uint64_t count, char* buf) const {
  const uint64_t blocks = block_crcs_.size();
  if (b + count > blocks) count = blocks - b;
  const uint64_t first = b * kRunBlockEntries;
  const uint64_t n = std::min<uint64_t>(count * kRunBlockEntries, info_.count - first);
  std::string_view got;
  CAIRN_RETURN_IF_ERROR(
      file_->Read(kRunHeaderSize + first * kRunEntrySize, n * kRunEntrySize, buf, &got));
  if (got.data() != buf) std::memcpy(buf, got.data(), got.size());
  // Every block of the range holds at least one entry, so start < want.
  const uint64_t want = n * kRunEntrySize;
  uint64_t intact = 0;
  for (; intact < count; ++intact) {
    const uint64_t start = intact * kBlockBytes;
    const uint64_t len = std::min<uint64_t>(kBlockBytes, want - start);
    if (start + len > got.size() || crc32c::Value(buf + start, len) != block_crcs_[b + intact])
      break;
  }
  if (intact == 0) return BlockCorrupt(b);
  return intact;
}

Status IndexRun::Scan(const std::function<bool(uint64_t, const IndexEntry&)>& visit) const {
  constexpr uint64_t kChunkBlocks = 256;  // 1 MiB per read
  std::string chunk;
  for (uint64_t b0 = 0; b0 < block_crcs_.size(); b0 += kChunkBlocks) {
    const uint64_t first = b0 * kRunBlockEntries;
    const uint64_t n = std::min<uint64_t>(kChunkBlocks * kRunBlockEntries, info_.count - first);
    chunk.resize(n * kRunEntrySize);
    std::string_view got;
    CAIRN_RETURN_IF_ERROR(
        file_->Read(kRunHeaderSize + first * kRunEntrySize, chunk.size(), chunk.data(), &got));
    if (got.size() != chunk.size()) {
      return Status::Corruption(path() + " offset " +
                                std::to_string(kRunHeaderSize + first * kRunEntrySize) +
                                ": index run shorter than its header says");
    }
    for (uint64_t k = 0; k < n; k += kRunBlockEntries) {
      const uint64_t b = b0 + k / kRunBlockEntries;
      const uint64_t m = std::min<uint64_t>(kRunBlockEntries, n - k);
      if (crc32c::Value(got.data() + k * kRunEntrySize, m * kRunEntrySize) != block_crcs_[b]) {
        return BlockCorrupt(b);
      }
    }
    for (uint64_t k = 0; k < n; ++k) {
      const char* q = got.data() + k * kRunEntrySize;
      IndexEntry e{DecodeFixed64(q), DecodeFixed64(q + 8), DecodeFixed64(q + 16),
                   DecodeFixed64(q + 24)};
      if (!visit(first + k, e)) return Status::OK();
    }
  }
  return Status::OK();
}

bool IndexRun::MayContain(uint64_t hash) const {
  bool all = true;
  BloomProbes(hash, bloom_bits_,
              [&](uint64_t bit) { all = all && (bloom_[bit / 8] & (1 << (bit % 8))) != 0; });
  return all;
}

Status RunReader::Load(uint64_t block) {
  if (block == block_) return Status::OK();
  const bool forward_step = block_ != UINT64_MAX && block == block_ + 1;
  block_ = UINT64_MAX;
  if (window_ == nullptr || block < window_first_ || block >= window_first_ + window_blocks_) {
    if (!forward_step) {
      CAIRN_ASSIGN_OR_RETURN(block_count_, run_.ReadBlock(block, buf_));
      entries_ = buf_;
      block_ = block;
      return Status::OK();
    }
    if (window_ == nullptr) window_ = std::make_unique<char[]>(kWindowBlocks * sizeof(buf_));
    window_blocks_ = 0;
    CAIRN_ASSIGN_OR_RETURN(window_blocks_, run_.ReadBlocks(block, kWindowBlocks, window_.get()));
    window_first_ = block;
  }
  const uint64_t first = block * kRunBlockEntries;
  block_count_ = std::min<uint64_t>(kRunBlockEntries, run_.count() - first);
  entries_ = window_.get() + (block - window_first_) * sizeof(buf_);
  block_ = block;
  return Status::OK();
}

Result<uint64_t> RunReader::LowerBound(uint64_t hash, uint64_t revision) {
  // Blocks whose first key is below the target: the answer is in the last
  // of them, or is the first entry of the block after it.
  const auto& f = run_.fences_;
  auto below = std::partition_point(f.begin(), f.end(), [&](const IndexRun::Fence& x) {
    return x.hash < hash || (x.hash == hash && x.revision < revision);
  });
  if (below == f.begin()) return uint64_t{0};
  const uint64_t b = static_cast<uint64_t>(below - f.begin()) - 1;
  CAIRN_RETURN_IF_ERROR(Load(b));
  uint64_t lo = 0, hi = block_count_;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    const char* p = entries_ + mid * kRunEntrySize;
    uint64_t h = DecodeFixed64(p), r = DecodeFixed64(p + 8);
    if (h < hash || (h == hash && r < revision)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return b * kRunBlockEntries + lo;
}

Result<IndexEntry> RunReader::At(uint64_t i) {
  CAIRN_RETURN_IF_ERROR(Load(i / kRunBlockEntries));
  const char* p = entries_ + (i % kRunBlockEntries) * kRunEntrySize;
  return IndexEntry{DecodeFixed64(p), DecodeFixed64(p + 8), DecodeFixed64(p + 16),
                    DecodeFixed64(p + 24)};
}

}  // namespace cairn::index
