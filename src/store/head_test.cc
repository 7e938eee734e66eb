// The HEAD hint file (docs/format/index.md, "HEAD"): both lengths decode,
// and a torn read of either half is rejected rather than trusted.
#include "src/store/head.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(HeadTest, RoundTripsWithTheLogGeneration) {
  const std::string bytes = EncodeHead({(7ull << 32) | 4096, 123456, 3});
  ASSERT_EQ(bytes.size(), 32u);
  auto h = DecodeHead(bytes);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->end_address, (7ull << 32) | 4096);
  EXPECT_EQ(h->next_position, 123456u);
  ASSERT_TRUE(h->log_generation.has_value());
  EXPECT_EQ(*h->log_generation, 3u);
}

TEST(HeadTest, TheTwentyBytesOfOlderWritersDecodeWithoutAGeneration) {
  const std::string bytes = EncodeHead({99, 42, 5}).substr(0, 20);
  auto h = DecodeHead(bytes);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->end_address, 99u);
  EXPECT_EQ(h->next_position, 42u);
  EXPECT_FALSE(h->log_generation.has_value());
  EXPECT_FALSE(DecodeHead(bytes.substr(0, 19)).has_value());
}

TEST(HeadTest, ATornReadOfEitherHalfIsRejected) {
  const std::string before = EncodeHead({100, 10, 1});
  const std::string after = EncodeHead({200, 20, 2});
  // A read that saw the new first half and the old second half, and the
  // reverse: each half's checksum catches it.
  EXPECT_FALSE(DecodeHead(after.substr(0, 20) + before.substr(20)).has_value());
  EXPECT_FALSE(DecodeHead(before.substr(0, 20) + after.substr(20)).has_value());
  std::string flipped = after;
  flipped[3] ^= 0x01;
  EXPECT_FALSE(DecodeHead(flipped).has_value());
  flipped = after;
  flipped[22] ^= 0x01;
  EXPECT_FALSE(DecodeHead(flipped).has_value());
}

}  // namespace
}  // namespace cairn
