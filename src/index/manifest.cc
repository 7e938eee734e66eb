#include "src/index/manifest.h"

#include <cstdio>
#include <cstring>

#include "src/base/coding.h"
#include "src/base/crc32c.h"

namespace cairn::index {
namespace {
constexpr char kMagic[8] = {'C', 'A', 'I', 'R', 'N', 'M', 'A', 'N'};
constexpr uint32_t kVersion = 2;
constexpr size_t kFixed = 8 + 4 + 4 + 8 * 5;
}  // namespace

std::string RunFileName(uint64_t id, RunKind kind) {
  static const char* const kFormats[] = {"%08llu.run", "%08llu.ids", "%08llu.tag"};
  char name[32];
  std::snprintf(name, sizeof name, kFormats[static_cast<int>(kind)],
                static_cast<unsigned long long>(id));
  return name;
}

std::vector<uint64_t>& RunIds(Manifest& m, RunKind kind) {
  switch (kind) {
    case RunKind::kIds:
      return m.id_runs;
    case RunKind::kTags:
      return m.tag_runs;
    case RunKind::kStream:
      break;
  }
  return m.runs;
}

const std::vector<uint64_t>& RunIds(const Manifest& m, RunKind kind) {
  return RunIds(const_cast<Manifest&>(m), kind);
}

std::string EncodeManifest(const Manifest& m) {
  std::string out(kMagic, 8);
  PutFixed32(&out, kVersion);
  PutFixed32(&out, static_cast<uint32_t>(m.runs.size()));
  PutFixed64(&out, m.generation);
  PutFixed64(&out, m.indexed_through);
  PutFixed64(&out, m.position_entries);
  PutFixed64(&out, m.resume_address);
  PutFixed64(&out, m.next_run_id);
  for (uint64_t r : m.runs) PutFixed64(&out, r);
  PutFixed32(&out, static_cast<uint32_t>(m.id_runs.size()));
  for (uint64_t r : m.id_runs) PutFixed64(&out, r);
  PutFixed32(&out, static_cast<uint32_t>(m.tag_runs.size()));
  for (uint64_t r : m.tag_runs) PutFixed64(&out, r);
  PutFixed64(&out, m.log_generation);
  PutFixed64(&out, m.holes);
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

Result<Manifest> DecodeManifest(std::string_view d, const std::string& file) {
  auto bad = [&](const std::string& what) { return Status::Corruption(file + ": " + what); };
  if (d.size() < kFixed + 4 || std::memcmp(d.data(), kMagic, 8) != 0) {
    return bad("not a Cairn index manifest (bad magic or truncated)");
  }
  const uint32_t version = DecodeFixed32(d.data() + 8);
  if (version < 1 || version > kVersion) {
    return bad("unsupported manifest version " + std::to_string(version));
  }
  uint32_t nruns = DecodeFixed32(d.data() + 12);
  if (d.size() < kFixed + 8ull * nruns + 8) return bad("manifest size does not match run count");
  uint32_t nids = DecodeFixed32(d.data() + kFixed + 8ull * nruns);
  uint64_t tags_at = kFixed + 8ull * nruns + 4 + 8ull * nids;
  uint32_t ntags = 0;
  if (version >= 2) {
    if (d.size() < tags_at + 8) return bad("manifest size does not match run count");
    ntags = DecodeFixed32(d.data() + tags_at);
  }
  const uint64_t want = tags_at + (version >= 2 ? 4 + 8ull * ntags + 16 : 0) + 4;
  if (d.size() != want) return bad("manifest size does not match run count");
  if (crc32c::Unmask(DecodeFixed32(d.data() + d.size() - 4)) !=
      crc32c::Value(d.data(), d.size() - 4)) {
    return bad("manifest checksum mismatch");
  }
  Manifest m;
  m.generation = DecodeFixed64(d.data() + 16);
  m.indexed_through = DecodeFixed64(d.data() + 24);
  m.position_entries = DecodeFixed64(d.data() + 32);
  m.resume_address = DecodeFixed64(d.data() + 40);
  m.next_run_id = DecodeFixed64(d.data() + 48);
  for (uint32_t i = 0; i < nruns; ++i) m.runs.push_back(DecodeFixed64(d.data() + kFixed + 8 * i));
  const char* ids = d.data() + kFixed + 8ull * nruns + 4;
  for (uint32_t i = 0; i < nids; ++i) m.id_runs.push_back(DecodeFixed64(ids + 8 * i));
  const char* tags = d.data() + tags_at + 4;
  for (uint32_t i = 0; i < ntags; ++i) m.tag_runs.push_back(DecodeFixed64(tags + 8 * i));
  m.tags_built = version >= 2;
  if (version >= 2) {
    m.log_generation = DecodeFixed64(tags + 8ull * ntags);
    m.holes = DecodeFixed64(tags + 8ull * ntags + 8);
  }
  return m;
}

}  // namespace cairn::index
