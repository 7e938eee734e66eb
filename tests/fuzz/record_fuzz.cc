// Fuzz target for the log record decoder (src/log/record.h).
//
// One input is read three ways, as the engine meets such bytes:
//   1. a log region: frames checked with CheckFrame one after another, each
//      good frame's body decoded with CommitReader (recovery and Scan);
//   2. a bare commit body handed to CommitReader, as if its checksum held
//      (a record whose CRC matches but whose grammar is wrong);
//   3. a segment header (DecodeSegmentHeader), then frames after it.
// The decoder must never crash or read outside the input, and every failure
// must be kCorruption. Any other outcome traps, so a fuzzer records it.
//
// Built with libFuzzer (-fsanitize=fuzzer) or linked with fuzz_driver.cc.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cairn/status.h"
#include "cairn/types.h"
#include "src/log/record.h"

namespace cairn::log {
namespace {

// Reports a broken decoder contract and aborts the run.
[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "record_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

void ExpectCorruption(const Status& s, const char* where) {
  if (s.code() != ErrorCode::kCorruption) Fail(where, "non-corruption error " + s.ToString());
  if (s.message().empty()) Fail(where, "corruption without a message");
}

// True when `part` lies inside `whole` (an empty view anywhere is fine).
bool Inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  const char* b = whole.data();
  return part.data() >= b && part.data() + part.size() <= b + whole.size();
}

// Decodes every event of `body`; checks the reader's own promises.
void DecodeBody(std::string_view body) {
  auto reader = CommitReader::Open(body, "fuzz body");
  if (!reader) {
    ExpectCorruption(reader.error(), "CommitReader::Open");
    if (body.size() >= kCommitFixedSize && static_cast<uint8_t>(body[0]) == kRecordCommit &&
        (static_cast<uint8_t>(body[1]) & ~(kFlagSparse | kFlagContinuesWrite | kFlagCompact)) ==
            0) {
      Fail("CommitReader::Open", "rejected a well-formed fixed part");
    }
    return;
  }
  if (body.size() < kCommitFixedSize) Fail("CommitReader::Open", "accepted a short body");
  const uint8_t flags = static_cast<uint8_t>(body[1]);
  if (reader->sparse() != ((flags & kFlagSparse) != 0) ||
      reader->continues_write() != ((flags & kFlagContinuesWrite) != 0)) {
    Fail("CommitReader::Open", "flags read back differently from the body");
  }
  const uint32_t count = reader->event_count();
  uint32_t decoded = 0;
  uint64_t previous = 0;
  EventView e;
  for (;;) {
    auto more = reader->Next(&e);
    if (!more) {
      ExpectCorruption(more.error(), "CommitReader::Next");
      return;
    }
    if (!*more) break;
    if (!Inside(e.stream, body) || !Inside(e.type, body) || !Inside(e.data, body) ||
        !Inside(e.metadata, body)) {
      Fail("CommitReader::Next", "event field points outside the body");
    }
    if (e.content_type != ContentType::kJson && e.content_type != ContentType::kBinary) {
      Fail("CommitReader::Next", "returned an unknown content type");
    }
    // Dense records: first_position + index. Sparse ones (scavenged): the
    // first event at first_position, then strictly increasing.
    if (!reader->sparse() && e.position.value() != reader->first_position() + decoded) {
      Fail("CommitReader::Next", "position is not first_position + index");
    }
    if (reader->sparse() && (decoded == 0 ? e.position.value() != reader->first_position()
                                          : e.position.value() <= previous)) {
      Fail("CommitReader::Next", "sparse positions out of order");
    }
    previous = e.position.value();
    if (e.created_ns != reader->created_ns()) Fail("CommitReader::Next", "created_ns differs");
    ++decoded;
    if (decoded > count) Fail("CommitReader::Next", "more events than the count says");
    if (reader->next_index() != decoded) Fail("CommitReader::Next", "next_index out of step");
  }
  if (decoded != count) Fail("CommitReader::Next", "ended before the count was reached");
  // The end is sticky: asking again must not move.
  auto again = reader->Next(&e);
  if (!again || *again) Fail("CommitReader::Next", "did not stay at the end");
}

// Walks frames from the start of `region` as Log::Scan does.
void DecodeFrames(std::string_view region, uint64_t max_body) {
  size_t offset = 0;
  while (offset < region.size()) {
    std::string_view rest = region.substr(offset);
    std::string_view body;
    size_t framed = 0;
    FrameState state = CheckFrame(rest, max_body, &body, &framed);
    if (state != FrameState::kOk) return;
    if (framed < kFrameHeaderSize + kCommitFixedSize || framed > rest.size()) {
      Fail("CheckFrame", "framed size outside the input");
    }
    if (body.size() + kFrameHeaderSize != framed || body.size() > max_body ||
        body.data() != rest.data() + kFrameHeaderSize) {
      Fail("CheckFrame", "body does not match the frame");
    }
    DecodeBody(body);
    offset += framed;
  }
}

void DecodeHeader(std::string_view bytes) {
  auto h = DecodeSegmentHeader(bytes, "fuzz.log");
  if (!h) {
    ExpectCorruption(h.error(), "DecodeSegmentHeader");
    return;
  }
  if (bytes.size() < kSegmentHeaderSize) Fail("DecodeSegmentHeader", "accepted a short header");
  if (bytes.substr(0, sizeof kSegmentMagic) != std::string_view(kSegmentMagic, 8)) {
    Fail("DecodeSegmentHeader", "accepted a bad magic");
  }
}

}  // namespace
}  // namespace cairn::log

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn::log;  // NOLINT: a C entry point
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  DecodeFrames(in, UINT32_MAX);
  DecodeFrames(in, 1024);  // a small max_record_bytes, as a tight store sets
  DecodeBody(in);
  DecodeHeader(in);
  if (in.size() >= kSegmentHeaderSize) DecodeFrames(in.substr(kSegmentHeaderSize), UINT32_MAX);
  return 0;
}
