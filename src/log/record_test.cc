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

// Flag 0x02 (docs/format/log.md, "Writes"): set on request, read back, and
// independent of the events; any other unknown flag is refused by name.
TEST(RecordTest, TheContinuesWriteFlagRoundTripsAndUnknownFlagsAreRefused) {
  Uuid a = *Uuid::Parse("00000000-0000-4000-8000-000000000001");
  std::string buf;
  CommitEncoder first(&buf, 7, 1, /*sparse=*/false, /*continues_write=*/false);
  first.AddEvent({"s", 0, &a, "T", ContentType::kJson, "{}", ""});
  const size_t first_size = first.Finish();
  CommitEncoder next(&buf, 8, 1, /*sparse=*/false, /*continues_write=*/true);
  next.AddEvent({"s", 1, &a, "T", ContentType::kJson, "{}", ""});
  next.Finish();
  EXPECT_EQ(buf[kFrameHeaderSize + 1], 0);
  EXPECT_EQ(buf[first_size + kFrameHeaderSize + 1], 0x02);
  std::string_view body;
  size_t framed = 0;
  ASSERT_EQ(CheckFrame(buf, 1 << 20, &body, &framed), FrameState::kOk);
  auto r1 = CommitReader::Open(body, "r1");
  ASSERT_TRUE(r1.has_value());
  EXPECT_FALSE(r1->continues_write());
  ASSERT_EQ(CheckFrame(std::string_view(buf).substr(first_size), 1 << 20, &body, &framed),
            FrameState::kOk);
  auto r2 = CommitReader::Open(body, "r2");
  ASSERT_TRUE(r2.has_value());
  EXPECT_TRUE(r2->continues_write());
  EXPECT_FALSE(r2->sparse());
  EXPECT_EQ(r2->first_position(), 8u);
  EventView e;
  ASSERT_TRUE(*r2->Next(&e));
  EXPECT_EQ(e.revision.value(), 1u);

  std::string unknown(body);
  unknown[1] = 0x06;  // 0x04 is not a flag
  auto r3 = CommitReader::Open(unknown, "r3");
  ASSERT_FALSE(r3.has_value());
  EXPECT_EQ(r3.error().code(), ErrorCode::kCorruption);
  EXPECT_EQ(r3.error().message(), "r3: unknown commit flags 6");
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
