#include "src/log/record.h"

#include <gtest/gtest.h>

#include <vector>

#include "src/base/coding.h"

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
  EXPECT_EQ(buf[kFrameHeaderSize + 1], kFlagCompact);
  EXPECT_EQ(buf[first_size + kFrameHeaderSize + 1], kFlagCompact | kFlagContinuesWrite);
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
  unknown[1] = 0x0e;  // 0x08 is not a flag
  auto r3 = CommitReader::Open(unknown, "r3");
  ASSERT_FALSE(r3.has_value());
  EXPECT_EQ(r3.error().code(), ErrorCode::kCorruption);
  EXPECT_EQ(r3.error().message(), "r3: unknown commit flags 14");
}

// Every field of `e` as text, to compare decoded events whole.
std::string Show(const EventView& e, const CommitReader& r) {
  return std::string(e.stream) + "/" + std::to_string(e.revision.value()) + "@" +
         std::to_string(e.position.value()) + " " + std::string(e.type) + " " + e.id.ToString() +
         " ct" + std::to_string(static_cast<int>(e.content_type)) + " d=" + std::string(e.data) +
         " m=" + std::string(e.metadata) + (r.last_caller_id() ? " caller" : "") +
         (r.last_creates_stream() ? " creates" : "");
}

// The same events through both layouts (docs/format/log.md, "Compact
// events"): a stream and a type repeated from the event before, a stream
// coming back after another, a revision gap, a tombstone, binary content,
// caller ids and a scavenge's first-stored mark all read back the same.
std::vector<std::string> DecodeAll(const std::string& buf, bool* compact) {
  std::string_view body;
  size_t framed = 0;
  EXPECT_EQ(CheckFrame(buf, 1 << 20, &body, &framed), FrameState::kOk);
  auto r = CommitReader::Open(body, "t");
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  std::vector<std::string> out;
  if (!r.has_value()) return out;
  *compact = r->compact();
  EventView e;
  for (;;) {
    auto more = r->Next(&e);
    EXPECT_TRUE(more.has_value()) << more.error().ToString();
    if (!more.has_value() || !*more) break;
    out.push_back(Show(e, *r));
  }
  return out;
}

std::string MixedRecord(bool compact, bool sparse) {
  std::string buf;
  CommitEncoder enc(&buf, 40, 99, sparse, /*continues_write=*/false, compact);
  std::vector<Uuid> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(Uuid::Random());
  uint64_t p = 40;
  auto add = [&](std::string_view stream, uint64_t rev, int k, std::string_view type,
                 ContentType ct, bool caller, bool first) {
    enc.AddEvent({stream, rev, &ids[k], type, ct, "{\"k\":" + std::to_string(k) + "}",
                  k % 2 ? "{}" : "", caller, first},
                 p);
    p += sparse ? 3 : 1;
  };
  add("order-1", 0, 0, "Placed", ContentType::kJson, true, false);
  add("order-1", 1, 1, "Placed", ContentType::kJson, true, false);  // same stream and type
  add("order-1", 5, 2, "Paid", ContentType::kBinary, false, true);  // a gap; first stored
  add("order-2", 0, 3, "Paid", ContentType::kJson, false, false);   // same type only
  add("order-1", 6, 4, "Paid", ContentType::kJson, false, false);   // back to order-1
  add("order-1", StreamRevision::kTombstone, 5, "$streamDeleted", ContentType::kJson, false, false);
  add("order-1", 3, 6, "Placed", ContentType::kJson, false, false);  // lower: written whole
  enc.Finish();
  return buf;
}

TEST(RecordTest, CompactAndOriginalLayoutsDecodeToTheSameEvents) {
  for (bool sparse : {false, true}) {
    bool compact = false, original = true;
    std::vector<std::string> a = DecodeAll(MixedRecord(true, sparse), &compact);
    std::vector<std::string> b = DecodeAll(MixedRecord(false, sparse), &original);
    EXPECT_TRUE(compact);
    EXPECT_FALSE(original);
    ASSERT_EQ(a.size(), 7u) << sparse;
    // The ids differ per call: compare without them.
    auto strip = [](std::string s) { return s.erase(s.find(' ', s.find(' ') + 1), 37); };
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(strip(a[i]), strip(b[i])) << i;
    const uint64_t step = sparse ? 3 : 1;
    EXPECT_EQ(strip(a[0]), "order-1/0@40 Placed ct1 d={\"k\":0} m= caller creates");
    EXPECT_EQ(strip(a[2]),
              "order-1/5@" + std::to_string(40 + 2 * step) + " Paid ct2 d={\"k\":2} m= creates");
    EXPECT_EQ(strip(a[3]),
              "order-2/0@" + std::to_string(40 + 3 * step) + " Paid ct1 d={\"k\":3} m={} creates");
    EXPECT_EQ(strip(a[5]), "order-1/" + std::to_string(StreamRevision::kTombstone) + "@" +
                               std::to_string(40 + 5 * step) +
                               " $streamDeleted ct1 d={\"k\":5} m={}");
    EXPECT_EQ(strip(a[6]),
              "order-1/3@" + std::to_string(40 + 6 * step) + " Placed ct1 d={\"k\":6} m=");
  }
}

// A scrubbed event (scavenge) has no data and no metadata, views whose
// data() is null; both layouts encode them as empty (UBSan in CI checks
// that no null pointer reaches memcpy, as it once did in the compact one).
TEST(RecordTest, EventsWithNullEmptyViewsEncodeAsEmpty) {
  for (bool compact : {true, false}) {
    std::string buf;
    CommitEncoder enc(&buf, 7, 99, /*sparse=*/false, /*continues_write=*/false, compact);
    Uuid id = Uuid::Random();
    enc.AddEvent({"s", 0, &id, "T", ContentType::kBinary, std::string_view(), std::string_view()});
    enc.AddEvent({"s", 1, &id, "T", ContentType::kJson, "{}", std::string_view()});
    enc.Finish();
    bool layout = !compact;
    std::vector<std::string> got = DecodeAll(buf, &layout);
    EXPECT_EQ(layout, compact);
    ASSERT_EQ(got.size(), 2u);
    auto strip = [](std::string s) { return s.erase(s.find(' ', s.find(' ') + 1), 37); };
    EXPECT_EQ(strip(got[0]), "s/0@7 T ct2 d= m= creates") << compact;
    EXPECT_EQ(strip(got[1]), "s/1@8 T ct1 d={} m=") << compact;
  }
}

// What the compact layout saves on a batch of one stream and one type: the
// stream, the type and 8-byte revisions are written once, lengths take 1-2
// bytes. Exact sizes, so a change of layout shows here.
TEST(RecordTest, ACompactBatchWritesTheStreamAndTypeOnce) {
  const std::string data(200, 'd'), meta(51, 'm');
  auto size_of = [&](bool compact) {
    std::string buf;
    CommitEncoder enc(&buf, 0, 1, false, false, compact);
    Uuid id = Uuid::Random();
    for (uint64_t r = 0; r < 1000; ++r) {
      enc.AddEvent({"account-7", r, &id, "MoneyDeposited", ContentType::kJson, data, meta});
    }
    return enc.Finish();
  };
  const size_t fixed = kFrameHeaderSize + kCommitFixedSize;
  // Original: 2+9 stream, 8 revision, 16 id, 2+14 type, 1 content, 4+200, 4+51.
  EXPECT_EQ(size_of(false), fixed + 1000 * 311);
  // Compact: 1 content, 1 skipped revisions, 16 id, 2+200, 1+51; the first
  // event also 1+9 stream, 1 revision (instead of the skip), 1+14 type.
  EXPECT_EQ(size_of(true), fixed + 1000 * 272 + (1 + 9 + 1 - 1) + (1 + 14));
}

// docs/format/log.md, "Worked example": the compact record byte for byte
// (but for its crc and created_ns).
TEST(RecordTest, TheCompactWorkedExampleOfTheFormatDocIsExact) {
  std::string buf;
  CommitEncoder enc(&buf, 0, 42);
  Uuid id = *Uuid::Parse("00000000-0000-4000-8000-000000000001");
  enc.AddEvent({"acc-1", 0, &id, "Opened", ContentType::kJson, "{\"n\":1}", ""});
  EXPECT_EQ(enc.Finish(), 72u);
  ASSERT_EQ(buf.size(), 72u);
  EXPECT_EQ(DecodeFixed32(buf.data()), 64u);
  EXPECT_EQ(buf.substr(8, 8), std::string("\x01\x04\x00\x00\x01\x00\x00\x00", 8));
  EXPECT_EQ(DecodeFixed64(buf.data() + 16), 0u);
  const std::string event =
      std::string(
          "\x01\x05"
          "acc-1"
          "\x00",
          8) +
      std::string("\x00\x00\x00\x00\x00\x00\x40\x00\x80\x00\x00\x00\x00\x00\x00\x01", 16) +
      "\x06"
      "Opened"
      "\x07"
      "{\"n\":1}" +
      std::string(1, '\0');
  ASSERT_EQ(event.size(), 40u);
  EXPECT_EQ(buf.substr(32), event);
}

TEST(RecordTest, ACompactFirstEventReferringToAnEarlierOneIsCorruption) {
  std::string buf = OneRecord(3);
  std::string body = buf.substr(kFrameHeaderSize);
  ASSERT_EQ(static_cast<uint8_t>(body[1]), kFlagCompact);
  body[kCommitFixedSize] |= static_cast<char>(kSameTypeFlag);  // event 0's content byte
  auto r = CommitReader::Open(body, "r");
  ASSERT_TRUE(r.has_value());
  EventView e;
  auto next = r->Next(&e);
  ASSERT_FALSE(next.has_value());
  EXPECT_EQ(next.error().code(), ErrorCode::kCorruption);
  EXPECT_EQ(next.error().message(), "r: event 0 of the commit record refers to an event before it");
}

TEST(RecordTest, VarintsRoundTripAndOverlongOnesAreRefused) {
  for (uint64_t v :
       {uint64_t{0}, uint64_t{127}, uint64_t{128}, uint64_t{300}, uint64_t{1} << 56, UINT64_MAX}) {
    std::string s;
    PutVarint64(&s, v);
    Decoder d(s);
    uint64_t back = 0;
    ASSERT_TRUE(d.GetVarint64(&back)) << v;
    EXPECT_EQ(back, v);
    EXPECT_EQ(d.remaining(), 0u);
    EXPECT_EQ(VarintLength(v), s.size()) << v;
    char raw[10];
    EXPECT_EQ(std::string_view(raw, static_cast<size_t>(EncodeVarint64(raw, v) - raw)), s) << v;
  }
  std::string too_long(10, '\xff');
  too_long.push_back('\x01');
  Decoder d(too_long);
  uint64_t v = 0;
  EXPECT_FALSE(d.GetVarint64(&v));
  std::string past_64(9, '\xff');
  past_64.push_back('\x02');  // the tenth byte may only hold bit 63
  Decoder d2(past_64);
  EXPECT_FALSE(d2.GetVarint64(&v));
  Decoder d3(std::string_view("\x80", 1));  // runs past the end
  EXPECT_FALSE(d3.GetVarint64(&v));
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
