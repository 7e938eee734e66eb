#include "src/index/memtable.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "src/base/hash.h"

namespace cairn::index {
namespace {

TEST(MemtableTest, FindsByExactNameAndSorts) {
  Memtable t;
  t.Add("b", {0, 0, 10});
  t.Add("a", {0, 1, 20});
  t.Add("b", {1, 2, 30});
  EXPECT_EQ(t.entries(), 3u);
  EXPECT_EQ(t.streams(), 2u);
  ASSERT_NE(t.Find("b"), nullptr);
  EXPECT_EQ(t.Find("b")->size(), 2u);
  EXPECT_EQ(t.Find("b")->back().position, 2u);
  EXPECT_EQ(t.Find("c"), nullptr);
  auto sorted = t.Sorted();
  ASSERT_EQ(sorted.size(), 3u);
  for (size_t i = 1; i < sorted.size(); ++i) EXPECT_FALSE(sorted[i] < sorted[i - 1]);
  EXPECT_EQ(sorted[0].hash, std::min(StreamHash("a"), StreamHash("b")));
}

TEST(MemtableTest, TagsKeepTheirListsThroughTheRecentKeyCacheAndSortLikeAFullSort) {
  Memtable t;
  // Interleaved kinds and keys, as a batch of mixed events tags them.
  const std::vector<std::string> keys = {
      "C\x1f"
      "a",
      "T\x1f"
      "X",
      "S\x1f",
      "C\x1f"
      "b",
      "T\x1f"
      "Y",
      "N\x1f"
      "a"};
  std::vector<IndexEntry> expected;
  for (uint64_t p = 0; p < 60; ++p) {
    const std::string& k = keys[(p * 7) % keys.size()];
    t.AddTag(k, {p, p, 1000 + p});
    expected.push_back({StreamHash(k), p, p, 1000 + p});
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(t.entries(), 60u);
  const auto got = t.SortedTags();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].hash, expected[i].hash) << i;
    EXPECT_EQ(got[i].position, expected[i].position) << i;
    EXPECT_EQ(got[i].address, expected[i].address) << i;
  }
  ASSERT_NE(t.FindTag("T\x1f"
                      "X"),
            nullptr);
  EXPECT_EQ(t.FindTag("T\x1f"
                      "X")
                ->size(),
            10u);
  EXPECT_EQ(t.FindTag("T\x1f"
                      "Z"),
            nullptr);
}

}  // namespace
}  // namespace cairn::index
