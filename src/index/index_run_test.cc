#include "src/index/index_run.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "src/base/crc32c.h"
#include "src/base/hash.h"

namespace cairn::index {
namespace {

class IndexRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn_run_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(IndexRunTest, WriteOpenLookup) {
  std::vector<IndexEntry> v;
  for (uint64_t h = 1; h <= 300; ++h) {
    for (uint64_t r = 0; r < 3; ++r) v.push_back({h * 10, r, h * 3 + r, h});
  }
  std::string path = dir_ + "/1.run";
  ASSERT_TRUE(IndexRun::Write(Env::Default(), path, v, {v.size(), 0, 2000, 300}).ok());
  auto run = IndexRun::Open(Env::Default(), path);
  ASSERT_TRUE(run.has_value()) << run.error().ToString();
  EXPECT_EQ((*run)->count(), 900u);
  EXPECT_EQ((*run)->info().new_streams, 300u);
  EXPECT_EQ((*run)->version(), 3u);
  RunReader reader(**run);
  uint64_t i = *reader.LowerBound(500, 1);
  EXPECT_EQ(reader.At(i)->hash, 500u);
  EXPECT_EQ(reader.At(i)->revision, 1u);
  EXPECT_EQ(reader.At(i)->position, 151u);
  EXPECT_EQ(*reader.LowerBound(5, 0), 0u);
  EXPECT_EQ(*reader.LowerBound(99999, 0), 900u);
  uint64_t scanned = 0;
  ASSERT_TRUE((*run)
                  ->Scan([&](uint64_t k, const IndexEntry& e) {
                    EXPECT_EQ(e, v[k]);
                    ++scanned;
                    return true;
                  })
                  .ok());
  EXPECT_EQ(scanned, 900u);
  // Resident: fences, checksums and filter only (8 blocks here).
  EXPECT_EQ((*run)->resident_bytes(), 8 * 16 + 8 * 4 + (300 * 10 + 7) / 8);
}

TEST_F(IndexRunTest, LowerBoundMatchesAFullSearchAcrossBlockBoundaries) {
  // Keys repeat across block edges (the same hash spans blocks) so the fence
  // search must land on the right block, not just a block with the hash.
  std::vector<IndexEntry> v;
  uint64_t pos = 0;
  for (uint64_t h = 1; h <= 40; ++h) {
    for (uint64_t r = 0; r < h * 5; ++r) v.push_back({h * 2, r, pos++, 0});
  }
  std::string path = dir_ + "/edges.run";
  ASSERT_TRUE(IndexRun::Write(Env::Default(), path, v, {v.size(), 0, pos, 40}).ok());
  auto run = IndexRun::Open(Env::Default(), path);
  ASSERT_TRUE(run.has_value()) << run.error().ToString();
  for (uint64_t h = 0; h <= 82; ++h) {
    for (uint64_t r : {uint64_t{0}, uint64_t{1}, uint64_t{63}, uint64_t{127}, uint64_t{128},
                       uint64_t{199}, uint64_t{500}, UINT64_MAX}) {
      RunReader reader(**run);
      IndexEntry probe{h, r, 0, 0};
      uint64_t want =
          static_cast<uint64_t>(std::lower_bound(v.begin(), v.end(), probe) - v.begin());
      auto got = reader.LowerBound(h, r);
      ASSERT_TRUE(got.has_value()) << got.error().ToString();
      ASSERT_EQ(*got, want) << "hash " << h << " revision " << r;
      if (want < v.size()) {
        ASSERT_EQ(*reader.At(want), v[want]);
      }
    }
  }
}

TEST_F(IndexRunTest, VersionOneRunsWithoutFencesAreStillRead) {
  std::vector<IndexEntry> v;
  for (uint64_t h = 0; h < 1000; ++h) v.push_back({h * 3, 0, h, h});
  std::string path = dir_ + "/v1.run";
  ASSERT_TRUE(IndexRun::Write(Env::Default(), path, v, {v.size(), 0, 1000, 1000}).ok());
  // Rewrite as version 1: drop the fence table, set the version, re-sum the header.
  std::string b = *Env::Default()->ReadFile(path);
  const size_t blocks = 8;
  const size_t fences_at = kRunHeaderSize + v.size() * kRunEntrySize + blocks * 4 + 4;
  b.erase(fences_at, blocks * 16 + 4);
  b[8] = 1;
  uint32_t crc = crc32c::Mask(crc32c::Value(b.data(), kRunHeaderSize - 4));
  std::memcpy(&b[kRunHeaderSize - 4], &crc, 4);
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(path, b).ok());
  auto run = IndexRun::Open(Env::Default(), path);
  ASSERT_TRUE(run.has_value()) << run.error().ToString();
  EXPECT_EQ((*run)->version(), 1u);
  RunReader reader(**run);
  EXPECT_EQ(*reader.LowerBound(2997, 0), 999u);
  EXPECT_EQ(*reader.LowerBound(1500, 0), 500u);
  EXPECT_EQ(reader.At(500)->address, 500u);
}

TEST_F(IndexRunTest, DamagedEntryIsFoundByVerifyAndHeaderByOpen) {
  std::vector<IndexEntry> v;
  for (uint64_t h = 0; h < 200; ++h) v.push_back({h, 0, h, 0});
  std::string path = dir_ + "/2.run";
  ASSERT_TRUE(IndexRun::Write(Env::Default(), path, v, {v.size(), 0, 200, 200}).ok());
  auto bytes = *Env::Default()->ReadFile(path);
  bytes[kRunHeaderSize + 130 * kRunEntrySize + 3] ^= 1;  // entry 130: second block
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(path, bytes).ok());
  auto run = IndexRun::Open(Env::Default(), path);
  ASSERT_TRUE(run.has_value());
  const std::string want = path + " offset " +
                           std::to_string(kRunHeaderSize + 128 * kRunEntrySize) +
                           ": index block checksum mismatch";
  Status scanned = (*run)->Scan([](uint64_t, const IndexEntry&) { return true; });
  EXPECT_EQ(scanned.code(), ErrorCode::kCorruption);
  EXPECT_EQ(scanned.message(), want);
  // A lookup that lands in the damaged block gets the same error, never the entry.
  RunReader reader(**run);
  auto found = reader.LowerBound(150, 0);
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().code(), ErrorCode::kCorruption);
  EXPECT_EQ(found.error().message(), want);
  // Lookups in the intact first block still work.
  EXPECT_EQ(*reader.LowerBound(20, 0), 20u);
  bytes[20] ^= 1;  // header
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(path, bytes).ok());
  auto bad = IndexRun::Open(Env::Default(), path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace cairn::index

namespace cairn::index {
namespace {

TEST_F(IndexRunTest, BloomFilterHasNoFalseNegativesAndFewFalsePositives) {
  std::vector<IndexEntry> v;
  for (uint64_t k = 0; k < 5000; ++k) {
    uint64_t h = StreamHash("present-" + std::to_string(k));
    v.push_back({h, 0, k, 0});
    v.push_back({h, 1, k + 5000, 0});
  }
  std::sort(v.begin(), v.end());
  std::string path = dir_ + "/bloom.run";
  ASSERT_TRUE(IndexRun::Write(Env::Default(), path, v, {0, 0, 10000, 5000}).ok());
  auto run = IndexRun::Open(Env::Default(), path);
  ASSERT_TRUE(run.has_value()) << run.error().ToString();
  EXPECT_EQ((*run)->info().distinct_keys, 5000u);
  for (uint64_t k = 0; k < 5000; ++k) {
    ASSERT_TRUE((*run)->MayContain(StreamHash("present-" + std::to_string(k)))) << k;
  }
  int false_positives = 0;
  for (uint64_t k = 0; k < 10000; ++k) {
    false_positives += (*run)->MayContain(StreamHash("absent-" + std::to_string(k))) ? 1 : 0;
  }
  EXPECT_LT(false_positives, 300);  // 10 bits per key: ~1% expected, 3% allowed
}

TEST_F(IndexRunTest, MergeKeepsOrderAndCounts) {
  std::vector<std::shared_ptr<const IndexRun>> runs;
  for (uint64_t r = 0; r < 3; ++r) {
    std::vector<IndexEntry> v;
    for (uint64_t h = 0; h < 50; ++h) v.push_back({h * 7 % 50, r, r * 100 + h, r});
    std::sort(v.begin(), v.end());
    std::string path = dir_ + "/" + std::to_string(r) + ".run";
    ASSERT_TRUE(IndexRun::Write(Env::Default(), path, v, {0, r * 100, r * 100 + 50, 50}).ok());
    runs.push_back(std::move(*IndexRun::Open(Env::Default(), path)));
  }
  std::string out = dir_ + "/merged.run";
  ASSERT_TRUE(IndexRun::Merge(Env::Default(), out, runs).ok());
  auto m = IndexRun::Open(Env::Default(), out);
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ((*m)->count(), 150u);
  EXPECT_EQ((*m)->info().min_position, 0u);
  EXPECT_EQ((*m)->info().end_position, 250u);
  EXPECT_EQ((*m)->info().new_streams, 150u);
  RunReader reader(**m);
  for (uint64_t i = 1; i < 150; ++i) EXPECT_TRUE(*reader.At(i - 1) < *reader.At(i)) << i;
  uint64_t i = *reader.LowerBound(7, 0);
  EXPECT_EQ(reader.At(i)->revision, 0u);
  EXPECT_EQ(reader.At(i + 2)->revision, 2u);
  EXPECT_EQ(reader.At(i + 2)->position, 201u);
  EXPECT_TRUE((*m)->Scan([](uint64_t, const IndexEntry&) { return true; }).ok());
}

}  // namespace
}  // namespace cairn::index

namespace cairn::index {
namespace {

// A walk forward through many blocks reads ahead (RunReader::kWindowBlocks
// per read): every entry still comes back exactly, and a damaged block in
// the middle of a window is kCorruption when the walk reaches it, not
// before (the blocks before it are served).
TEST_F(IndexRunTest, ReadAheadServesEveryEntryAndStopsAtADamagedBlock) {
  std::vector<IndexEntry> v;
  for (uint64_t r = 0; r < 40 * kRunBlockEntries + 17; ++r) v.push_back({7, r, 1000 + r, r / 3});
  std::string path = dir_ + "/3.run";
  ASSERT_TRUE(IndexRun::Write(Env::Default(), path, v, {v.size(), 1000, 1000 + v.size(), 1}).ok());
  {
    auto run = IndexRun::Open(Env::Default(), path);
    ASSERT_TRUE(run.has_value());
    RunReader reader(**run);
    for (uint64_t i = 0; i < v.size(); ++i) {
      auto e = reader.At(i);
      ASSERT_TRUE(e.has_value()) << i;
      ASSERT_EQ(*e, v[i]) << i;
    }
    // Backwards and jumps still read single blocks correctly.
    for (uint64_t i = v.size(); i-- > 0;) ASSERT_EQ(*reader.At(i), v[i]) << i;
    EXPECT_EQ(*reader.At(5 * kRunBlockEntries + 3), v[5 * kRunBlockEntries + 3]);
    EXPECT_EQ(*reader.At(30 * kRunBlockEntries), v[30 * kRunBlockEntries]);
  }
  const uint64_t bad_block = 9;  // inside the window read when the walk enters block 1
  auto bytes = *Env::Default()->ReadFile(path);
  bytes[kRunHeaderSize + bad_block * kRunBlockEntries * kRunEntrySize + 40] ^= 4;
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(path, bytes).ok());
  auto run = IndexRun::Open(Env::Default(), path);
  ASSERT_TRUE(run.has_value());
  RunReader reader(**run);
  const std::string want =
      path + " offset " +
      std::to_string(kRunHeaderSize + bad_block * kRunBlockEntries * kRunEntrySize) +
      ": index block checksum mismatch";
  for (uint64_t i = 0; i < bad_block * kRunBlockEntries; ++i) {
    auto e = reader.At(i);
    ASSERT_TRUE(e.has_value()) << i << ": " << e.error().ToString();
    ASSERT_EQ(*e, v[i]);
  }
  auto damaged = reader.At(bad_block * kRunBlockEntries);
  ASSERT_FALSE(damaged.has_value());
  EXPECT_EQ(damaged.error().code(), ErrorCode::kCorruption);
  EXPECT_EQ(damaged.error().message(), want);
  // Past the damaged block the walk goes on.
  EXPECT_EQ(*reader.At((bad_block + 1) * kRunBlockEntries), v[(bad_block + 1) * kRunBlockEntries]);
}

}  // namespace
}  // namespace cairn::index

namespace cairn::index {
namespace {

// Version 3 filters also hold TombstoneKey(hash) of tombstone entries, in
// written and in merged runs: every tombstoned stream answers yes, and
// streams that only hold events answer no but for the usual false positives.
TEST_F(IndexRunTest, TombstoneKeysAreInTheFilterOfWrittenAndMergedRuns) {
  auto name = [](const char* kind, uint64_t k) {
    return StreamHash(std::string(kind) + std::to_string(k));
  };
  std::vector<std::shared_ptr<const IndexRun>> runs;
  for (uint64_t r = 0; r < 2; ++r) {
    std::vector<IndexEntry> v;
    for (uint64_t k = r * 2000; k < (r + 1) * 2000; ++k) {
      v.push_back({name("live-", k), 0, k, 0});
      v.push_back({name("dead-", k), 0, k, 0});
      v.push_back({name("dead-", k), kTombstoneRevision, k, 0});
    }
    std::sort(v.begin(), v.end());
    const std::string path = dir_ + "/t" + std::to_string(r) + ".run";
    ASSERT_TRUE(IndexRun::Write(Env::Default(), path, v, {0, r * 2000, (r + 1) * 2000, 4000}).ok());
    runs.push_back(std::move(*IndexRun::Open(Env::Default(), path)));
  }
  const std::string merged_path = dir_ + "/tm.run";
  ASSERT_TRUE(IndexRun::Merge(Env::Default(), merged_path, runs).ok());
  auto merged = IndexRun::Open(Env::Default(), merged_path);
  ASSERT_TRUE(merged.has_value()) << merged.error().ToString();
  for (const IndexRun* run : std::vector<const IndexRun*>{runs[0].get(), merged->get()}) {
    int false_positives = 0;
    for (uint64_t k = 0; k < 2000; ++k) {
      ASSERT_TRUE(run->MayHoldTombstone(name("dead-", k))) << k;
      ASSERT_TRUE(run->MayContain(name("live-", k))) << k;
      false_positives += run->MayHoldTombstone(name("live-", k)) ? 1 : 0;
    }
    EXPECT_LT(false_positives, 100) << run->path();  // ~1 % expected, 5 % allowed
  }
}

TEST_F(IndexRunTest, TheNoRetentionKeysFlagIsKeptAndAMergeKeepsItOnlyWhenEveryInputHasIt) {
  std::vector<std::shared_ptr<const IndexRun>> runs;
  for (uint64_t r = 0; r < 3; ++r) {
    std::vector<IndexEntry> v = {{StreamHash("s-" + std::to_string(r)), 0, r, 0}};
    RunInfo info;
    info.min_position = r;
    info.end_position = r + 1;
    info.flags = r < 2 ? kRunNoRetentionKeys : 0;
    const std::string path = dir_ + "/f" + std::to_string(r) + ".run";
    ASSERT_TRUE(IndexRun::Write(Env::Default(), path, v, info).ok());
    auto run = IndexRun::Open(Env::Default(), path);
    ASSERT_TRUE(run.has_value()) << run.error().ToString();
    EXPECT_EQ((*run)->info().flags, info.flags) << r;
    runs.push_back(std::move(*run));
  }
  const std::string both = dir_ + "/m01.run";
  ASSERT_TRUE(IndexRun::Merge(Env::Default(), both, {runs[0], runs[1]}).ok());
  EXPECT_EQ((*IndexRun::Open(Env::Default(), both))->info().flags, kRunNoRetentionKeys);
  const std::string all = dir_ + "/m012.run";
  ASSERT_TRUE(IndexRun::Merge(Env::Default(), all, runs).ok());
  EXPECT_EQ((*IndexRun::Open(Env::Default(), all))->info().flags, 0u);
}

}  // namespace
}  // namespace cairn::index
