#include <charconv>
#include <random>

#include "cairn/types.h"

namespace cairn {

Result<ExpectedRevision> ExpectedRevision::Parse(std::string_view text) {
  if (text == "any") return Any();
  if (text == "no-stream" || text == "no_stream") return NoStream();
  if (text == "exists" || text == "stream-exists") return StreamExists();
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return Status::InvalidArgument("expected revision '" + std::string(text) +
                                   "' is not any, no-stream, exists or a revision number");
  }
  return Exact(StreamRevision(v));
}

std::string ExpectedRevision::ToString() const {
  switch (kind_) {
    case Kind::kAny: return "any";
    case Kind::kNoStream: return "no_stream";
    case Kind::kStreamExists: return "exists";
    case Kind::kExact: return std::to_string(revision_);
  }
  return "?";
}

Uuid Uuid::Random() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::array<uint8_t, 16> b{};
  uint64_t a = rng(), c = rng();
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<uint8_t>(a >> (8 * i));
    b[8 + i] = static_cast<uint8_t>(c >> (8 * i));
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return Uuid(b);
}

Result<Uuid> Uuid::Parse(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a UUID (expected 8-4-4-4-12 hex digits)");
  };
  if (text.size() != 36) return bad();
  std::array<uint8_t, 16> b{};
  int nib = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (ch != '-') return bad();
      continue;
    }
    int v;
    if (ch >= '0' && ch <= '9') v = ch - '0';
    else if (ch >= 'a' && ch <= 'f') v = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F') v = ch - 'A' + 10;
    else return bad();
    b[nib / 2] = static_cast<uint8_t>(b[nib / 2] | (nib % 2 == 0 ? v << 4 : v));
    ++nib;
  }
  return Uuid(b);
}

std::string Uuid::ToString() const {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[bytes_[i] >> 4]);
    s.push_back(kHex[bytes_[i] & 0xf]);
  }
  return s;
}

bool Uuid::IsNil() const {
  for (uint8_t x : bytes_) {
    if (x != 0) return false;
  }
  return true;
}

RecordedEvent EventView::ToRecorded() const {
  RecordedEvent e;
  e.stream = std::string(stream);
  e.revision = revision;
  e.position = position;
  e.id = id;
  e.type = std::string(type);
  e.content_type = content_type;
  e.data = std::string(data);
  e.metadata = std::string(metadata);
  e.created_ns = created_ns;
  return e;
}

}  // namespace cairn
