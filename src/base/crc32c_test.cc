#include "src/base/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

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

// The lane-interleaved hardware path against the one-byte-at-a-time table
// for every length around the lane sizes (256, 8192: three lanes each) and
// at odd alignments, whole and split at every kind of point.
TEST(Crc32cTest, InterleavedLanesEqualTheTableAtEveryLengthAndSplit) {
  std::mt19937_64 rng(7);
  std::string buf(100'000, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 1000; ++n) lengths.push_back(n);
  for (size_t base : {3 * 256, 3 * 8192, 2 * 3 * 8192 + 3 * 256}) {
    for (size_t d = 0; d < 20; ++d) {
      lengths.push_back(base + d - 10);
    }
  }
  lengths.push_back(buf.size() - 8);
  for (size_t n : lengths) {
    for (size_t offset : {0, 1, 5}) {
      const char* p = buf.data() + offset;
      const uint32_t want = internal::ExtendPortable(0, p, n);
      ASSERT_EQ(Value(p, n), want) << "length " << n << " offset " << offset;
      const size_t cut = n / 3;
      ASSERT_EQ(Extend(Value(p, cut), p + cut, n - cut), want) << "length " << n << " cut " << cut;
      ASSERT_EQ(internal::ExtendPortable(0x12345678u, p, n), Extend(0x12345678u, p, n)) << n;
    }
  }
}

}  // namespace
}  // namespace cairn::crc32c
