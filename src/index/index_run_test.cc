#include "src/index/index_run.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

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
  uint64_t i = (*run)->LowerBound(500, 1);
  EXPECT_EQ((*run)->At(i).hash, 500u);
  EXPECT_EQ((*run)->At(i).revision, 1u);
  EXPECT_EQ((*run)->At(i).position, 151u);
  EXPECT_EQ((*run)->LowerBound(5, 0), 0u);
  EXPECT_EQ((*run)->LowerBound(99999, 0), 900u);
  std::vector<std::string> problems;
  (*run)->VerifyBlocks(&problems);
  EXPECT_TRUE(problems.empty());
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
  std::vector<std::string> problems;
  (*run)->VerifyBlocks(&problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], path + " offset " + std::to_string(kRunHeaderSize + 128 * kRunEntrySize) +
                             ": index block checksum mismatch");
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
  for (uint64_t i = 1; i < 150; ++i) EXPECT_TRUE((*m)->At(i - 1) < (*m)->At(i)) << i;
  uint64_t i = (*m)->LowerBound(7, 0);
  EXPECT_EQ((*m)->At(i).revision, 0u);
  EXPECT_EQ((*m)->At(i + 2).revision, 2u);
  EXPECT_EQ((*m)->At(i + 2).position, 201u);
  std::vector<std::string> problems;
  (*m)->VerifyBlocks(&problems);
  EXPECT_TRUE(problems.empty());
}

}  // namespace
}  // namespace cairn::index
