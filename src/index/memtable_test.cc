#include "src/index/memtable.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace cairn::index
