#include "src/log/record.h"

#include <gtest/gtest.h>

namespace cairn::log {
namespace {

std::string OneRecord(uint64_t first_position) {
  std::string buf;
  CommitEncoder enc(&buf, first_position, 1234567890);
  Uuid a = *Uuid::Parse("00000000-0000-4000-8000-000000000001");
  Uuid b = *Uuid::Parse("00000000-0000-4000-8000-000000000002");
  enc.AddEvent({"acc-1", 0, &a, "Opened", ContentType::kJson, "{\"x\":1}", ""});
  enc.AddEvent({"acc-2", 7, &b, "Moved", ContentType::kBinary, std::string("\0\1", 2), "{}",
                /*caller_id=*/true});
  enc.Finish();
  return buf;
}

TEST(RecordTest, EncodeDecodeRoundTrip) {
  std::string buf = OneRecord(100);
  std::string_view body;
  size_t framed = 0;
  ASSERT_EQ(CheckFrame(buf, 1 << 20, &body, &framed), FrameState::kOk);
  EXPECT_EQ(framed, buf.size());
  auto r = CommitReader::Open(body, "test");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->event_count(), 2u);
  EXPECT_EQ(r->first_position(), 100u);
  EventView e;
  ASSERT_TRUE(*r->Next(&e));
  EXPECT_EQ(e.stream, "acc-1");
  EXPECT_EQ(e.revision.value(), 0u);
  EXPECT_EQ(e.position.value(), 100u);
  EXPECT_EQ(e.type, "Opened");
  EXPECT_EQ(e.data, "{\"x\":1}");
  EXPECT_EQ(e.created_ns, 1234567890);
  EXPECT_FALSE(r->last_caller_id());
  ASSERT_TRUE(*r->Next(&e));
  EXPECT_TRUE(r->last_caller_id());
  EXPECT_EQ(e.stream, "acc-2");
  EXPECT_EQ(e.revision.value(), 7u);
  EXPECT_EQ(e.position.value(), 101u);
  EXPECT_EQ(e.content_type, ContentType::kBinary);
  EXPECT_EQ(e.data, std::string("\0\1", 2));
  EXPECT_EQ(e.metadata, "{}");
  EXPECT_EQ(e.id.ToString(), "00000000-0000-4000-8000-000000000002");
  EXPECT_FALSE(*r->Next(&e));
}

TEST(RecordTest, EveryFlippedByteIsDetected) {
  std::string good = OneRecord(5);
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x20;
    std::string_view body;
    size_t framed = 0;
    FrameState st = CheckFrame(bad, 1 << 20, &body, &framed);
    EXPECT_NE(st, FrameState::kOk) << "flipped byte " << i;
  }
}

TEST(RecordTest, TruncationIsDetected) {
  std::string good = OneRecord(5);
  for (size_t n = 0; n < good.size(); ++n) {
    std::string_view body;
    size_t framed = 0;
    FrameState st = CheckFrame(std::string_view(good).substr(0, n), 1 << 20, &body, &framed);
    EXPECT_EQ(st, n < 8 ? FrameState::kTruncated : FrameState::kTruncated) << n;
  }
}

TEST(RecordTest, SegmentHeaderRoundTripAndCorruption) {
  std::string h = EncodeSegmentHeader({3, 999});
  ASSERT_EQ(h.size(), kSegmentHeaderSize);
  auto d = DecodeSegmentHeader(h, "seg");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->segment_id, 3u);
  EXPECT_EQ(d->first_position, 999u);
  h[20] ^= 1;
  auto bad = DecodeSegmentHeader(h, "seg");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kCorruption);
  EXPECT_EQ(bad.error().message(), "seg offset 0: segment header checksum mismatch");
}

}  // namespace
}  // namespace cairn::log
