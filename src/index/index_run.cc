#include "src/index/index_run.h"

#include <cstring>

#include "src/base/coding.h"
#include "src/base/crc32c.h"

namespace cairn::index {
namespace {

constexpr char kMagic[8] = {'C', 'A', 'I', 'R', 'N', 'I', 'D', 'X'};
constexpr char kEndMagic[8] = {'C', 'A', 'I', 'R', 'N', 'E', 'N', 'D'};
constexpr uint32_t kVersion = 1;

uint64_t Blocks(uint64_t count) { return (count + kRunBlockEntries - 1) / kRunBlockEntries; }

}  // namespace

Status IndexRun::Write(Env* env, const std::string& path, const std::vector<IndexEntry>& sorted,
                       const RunInfo& info) {
  std::string out;
  out.reserve(kRunHeaderSize + sorted.size() * kRunEntrySize + Blocks(sorted.size()) * 4 + 16);
  out.append(kMagic, 8);
  PutFixed32(&out, kVersion);
  PutFixed32(&out, kRunEntrySize);
  PutFixed64(&out, sorted.size());
  PutFixed64(&out, info.min_position);
  PutFixed64(&out, info.end_position);
  PutFixed64(&out, info.new_streams);
  out.append(kRunHeaderSize - 4 - out.size(), '\0');
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  for (const auto& e : sorted) {
    PutFixed64(&out, e.hash);
    PutFixed64(&out, e.revision);
    PutFixed64(&out, e.position);
    PutFixed64(&out, e.address);
  }
  std::string crcs;
  for (uint64_t b = 0; b < Blocks(sorted.size()); ++b) {
    uint64_t first = b * kRunBlockEntries;
    uint64_t n = std::min<uint64_t>(kRunBlockEntries, sorted.size() - first);
    PutFixed32(&crcs, crc32c::Mask(crc32c::Value(
                          out.data() + kRunHeaderSize + first * kRunEntrySize, n * kRunEntrySize)));
  }
  out += crcs;
  PutFixed32(&out, crc32c::Mask(crc32c::Value(crcs)));
  out.append(kEndMagic, 8);
  return env->WriteFileAtomic(path, out);
}

Result<std::unique_ptr<IndexRun>> IndexRun::Open(Env* env, const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(auto map, env->MapFile(path));
  std::unique_ptr<IndexRun> run(new IndexRun(std::move(map)));
  std::string_view d = run->map_->data();
  auto bad = [&](const std::string& what, uint64_t off) {
    return Status::Corruption(path + " offset " + std::to_string(off) + ": " + what);
  };
  if (d.size() < kRunHeaderSize + 12) return bad("index run file truncated", 0);
  if (std::memcmp(d.data(), kMagic, 8) != 0) return bad("not a Cairn index run (bad magic)", 0);
  if (crc32c::Unmask(DecodeFixed32(d.data() + kRunHeaderSize - 4)) !=
      crc32c::Value(d.data(), kRunHeaderSize - 4)) {
    return bad("index run header checksum mismatch", 0);
  }
  if (DecodeFixed32(d.data() + 8) != kVersion || DecodeFixed32(d.data() + 12) != kRunEntrySize) {
    return bad("unsupported index run version or entry size", 8);
  }
  run->info_.count = DecodeFixed64(d.data() + 16);
  run->info_.min_position = DecodeFixed64(d.data() + 24);
  run->info_.end_position = DecodeFixed64(d.data() + 32);
  run->info_.new_streams = DecodeFixed64(d.data() + 40);
  uint64_t expect = kRunHeaderSize + run->info_.count * kRunEntrySize +
                    Blocks(run->info_.count) * 4 + 4 + 8;
  if (d.size() != expect) {
    return bad("index run size " + std::to_string(d.size()) + " does not match its " +
                   std::to_string(run->info_.count) + " entries",
               0);
  }
  if (std::memcmp(d.data() + d.size() - 8, kEndMagic, 8) != 0) {
    return bad("index run trailer magic missing", d.size() - 8);
  }
  uint64_t crc_off = kRunHeaderSize + run->info_.count * kRunEntrySize;
  uint64_t crc_len = Blocks(run->info_.count) * 4;
  if (crc32c::Unmask(DecodeFixed32(d.data() + crc_off + crc_len)) !=
      crc32c::Value(d.data() + crc_off, crc_len)) {
    return bad("index run block checksum table mismatch", crc_off);
  }
  run->entries_ = d.data() + kRunHeaderSize;
  return run;
}

IndexEntry IndexRun::At(uint64_t i) const {
  const char* p = entries_ + i * kRunEntrySize;
  return {DecodeFixed64(p), DecodeFixed64(p + 8), DecodeFixed64(p + 16), DecodeFixed64(p + 24)};
}

uint64_t IndexRun::LowerBound(uint64_t hash, uint64_t revision) const {
  uint64_t lo = 0, hi = info_.count;
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
  return lo;
}

void IndexRun::VerifyBlocks(std::vector<std::string>* problems) const {
  const char* crcs = entries_ + info_.count * kRunEntrySize;
  for (uint64_t b = 0; b < Blocks(info_.count); ++b) {
    uint64_t first = b * kRunBlockEntries;
    uint64_t n = std::min<uint64_t>(kRunBlockEntries, info_.count - first);
    uint32_t want = crc32c::Unmask(DecodeFixed32(crcs + b * 4));
    if (crc32c::Value(entries_ + first * kRunEntrySize, n * kRunEntrySize) != want) {
      problems->push_back(path() + " offset " +
                          std::to_string(kRunHeaderSize + first * kRunEntrySize) +
                          ": index block checksum mismatch");
    }
  }
}

}  // namespace cairn::index
