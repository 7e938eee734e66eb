#include "src/base/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn::crc32c {
namespace {

TEST(Crc32cTest, KnownVectors) {
  // Published CRC-32C check values (RFC 3720 appendix B.4 and the "check" value).
  EXPECT_EQ(Value("123456789"), 0xe3069283u);
  EXPECT_EQ(Value(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Value(std::string(32, '\xff')), 0x62a8ab43u);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string s = "hello, cairn event store";
  EXPECT_EQ(Extend(Value(s.substr(0, 7)), s.data() + 7, s.size() - 7), Value(s));
}

TEST(Crc32cTest, MaskRoundTrips) {
  uint32_t c = Value("abc");
  EXPECT_NE(Mask(c), c);
  EXPECT_EQ(Unmask(Mask(c)), c);
}

}  // namespace
}  // namespace cairn::crc32c
