#include "src/index/position_index.h"

#include <cstring>
#include <mutex>

#include "src/base/coding.h"

namespace cairn::index {
namespace {
constexpr char kMagic[8] = {'C', 'A', 'I', 'R', 'N', 'P', 'O', 'S'};
constexpr uint64_t kHeader = 16;
constexpr uint64_t kEntry = 16;
}  // namespace

Status PositionIndex::Open(Env* env, const std::string& path, uint64_t count, bool read_only) {
  env_ = env;
  path_ = path;
  CAIRN_ASSIGN_OR_RETURN(bool exists, env->FileExists(path));
  if (!exists) {
    if (read_only || count > 0) {
      if (count == 0) return Status::OK();
      return Status::Corruption(path + ": missing but the manifest names " + std::to_string(count) +
                                " entries");
    }
    std::string header(kMagic, 8);
    PutFixed32(&header, 1);
    PutFixed32(&header, kEntry);
    CAIRN_RETURN_IF_ERROR(env->WriteFileAtomic(path, header));
  }
  CAIRN_ASSIGN_OR_RETURN(uint64_t size, env->FileSize(path));
  if (size < kHeader || size < kHeader + count * kEntry) {
    return Status::Corruption(path + ": holds " + std::to_string(size) +
                              " bytes, fewer than the manifest's " + std::to_string(count) +
                              " entries");
  }
  if (!read_only && size > kHeader + count * kEntry) {
    CAIRN_RETURN_IF_ERROR(env->TruncateFile(path, kHeader + count * kEntry));
  }
  CAIRN_ASSIGN_OR_RETURN(auto map, env->MapFile(path, 0, /*random_access=*/true));
  if (std::memcmp(map->data().data(), kMagic, 8) != 0) {
    return Status::Corruption(path + " offset 0: not a Cairn position index (bad magic)");
  }
  std::unique_lock l(mu_);
  map_ = std::move(map);
  file_count_ = count;
  tail_.clear();
  return Status::OK();
}

void PositionIndex::Append(const PositionEntry& e) {
  std::unique_lock l(mu_);
  tail_.push_back(e);
}

Status PositionIndex::Persist(uint64_t n) {
  std::string bytes;
  {
    std::shared_lock l(mu_);
    n = std::min<uint64_t>(n, tail_.size());
    bytes.reserve(n * kEntry);
    for (uint64_t i = 0; i < n; ++i) {
      PutFixed64(&bytes, tail_[i].first_position);
      PutFixed64(&bytes, tail_[i].address);
    }
  }
  if (n == 0) return Status::OK();
  CAIRN_ASSIGN_OR_RETURN(auto f, env_->OpenWritable(path_));
  // A failed earlier attempt may have left entries past the persisted ones.
  CAIRN_RETURN_IF_ERROR(f->Truncate(kHeader + persisted() * kEntry));
  CAIRN_RETURN_IF_ERROR(f->Append(bytes));
  CAIRN_RETURN_IF_ERROR(f->Sync());
  CAIRN_RETURN_IF_ERROR(f->Close());
  CAIRN_ASSIGN_OR_RETURN(auto map, env_->MapFile(path_, 0, /*random_access=*/true));
  std::unique_lock l(mu_);
  map_ = std::move(map);
  file_count_ += n;
  tail_.erase(tail_.begin(), tail_.begin() + static_cast<std::ptrdiff_t>(n));
  return Status::OK();
}

Result<std::shared_ptr<MappedFile>> PositionIndex::MapForReload(uint64_t count) const {
  std::shared_ptr<MappedFile> map;
  if (count > 0) {
    CAIRN_ASSIGN_OR_RETURN(auto m, env_->MapFile(path_, 0, /*random_access=*/true));
    if (m->data().size() < kHeader + count * kEntry) {
      return Status::Corruption(path_ + ": shorter than the manifest's " + std::to_string(count) +
                                " entries");
    }
    map = std::move(m);
  }
  return map;
}

void PositionIndex::InstallReload(std::shared_ptr<MappedFile> map, uint64_t count) {
  std::unique_lock l(mu_);
  map_ = std::move(map);
  file_count_ = count;
  tail_.clear();
}

Status PositionIndex::Remap(uint64_t count) {
  CAIRN_ASSIGN_OR_RETURN(auto m, env_->MapFile(path_, 0, /*random_access=*/true));
  if (m->data().size() < kHeader + count * kEntry) {
    return Status::Corruption(path_ + ": shorter than its " + std::to_string(count) + " entries");
  }
  std::unique_lock l(mu_);
  map_ = std::move(m);
  file_count_ = count;
  return Status::OK();
}

uint64_t PositionIndex::size() const {
  std::shared_lock l(mu_);
  return file_count_ + tail_.size();
}

uint64_t PositionIndex::persisted() const {
  std::shared_lock l(mu_);
  return file_count_;
}

uint64_t PositionIndex::file_bytes() const {
  std::shared_lock l(mu_);
  return map_ ? map_->data().size() : 0;
}

PositionEntry PositionIndex::AtLocked(uint64_t i) const {
  if (i < file_count_) {
    const char* p = map_->data().data() + kHeader + i * kEntry;
    return {DecodeFixed64(p), DecodeFixed64(p + 8)};
  }
  return tail_[i - file_count_];
}

PositionEntry PositionIndex::At(uint64_t i) const {
  std::shared_lock l(mu_);
  return AtLocked(i);
}

uint64_t PositionIndex::Locate(uint64_t p) const {
  std::shared_lock l(mu_);
  uint64_t n = file_count_ + tail_.size();
  // Find the first entry with first_position > p, then step back one.
  uint64_t lo = 0, hi = n;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (AtLocked(mid).first_position <= p) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo == 0 ? n : lo - 1;
}

uint64_t PositionIndex::FileBytesFor(uint64_t count) { return kHeader + count * kEntry; }

}  // namespace cairn::index
