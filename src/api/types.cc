#include "cairn/types.h"

#include <pthread.h>
#include <sys/random.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <random>

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
    case Kind::kAny:
      return "any";
    case Kind::kNoStream:
      return "no_stream";
    case Kind::kStreamExists:
      return "exists";
    case Kind::kExact:
      return std::to_string(revision_);
  }
  return "?";
}

namespace {

// Random ids come from a per-thread xoshiro256** generator (Blackman and
// Vigna's design: 256 bits of state, period 2^256 - 1) seeded with 256 bits
// from getrandom, so no two threads or processes share a sequence. A
// forked child re-seeds (fork bumps the generation), or parent and child
// would hand out the same ids.
std::atomic<uint64_t> g_fork_generation{0};

struct IdGenerator {
  uint64_t s[4] = {0, 0, 0, 0};
  uint64_t generation = UINT64_MAX;

  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t Next() {
    const uint64_t out = Rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = Rotl(s[3], 45);
    return out;
  }
  void Seed() {
    size_t got = 0;
    auto* bytes = reinterpret_cast<unsigned char*>(s);
    while (got < sizeof s) {
      ssize_t n = ::getrandom(bytes + got, sizeof s - got, 0);
      if (n > 0) {
        got += static_cast<size_t>(n);
      } else if (n < 0 && errno != EINTR) {
        break;
      }
    }
    if (got < sizeof s) {  // no getrandom: the C++ library's entropy source
      std::random_device rd;
      for (uint64_t& w : s) w = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    }
    if ((s[0] | s[1] | s[2] | s[3]) == 0) s[0] = 1;  // the one state it must not have
    generation = g_fork_generation.load(std::memory_order_relaxed);
  }
};

void OnForkChild() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

Uuid Uuid::Random() {
  static const bool registered = (::pthread_atfork(nullptr, nullptr, &OnForkChild), true);
  (void)registered;
  thread_local IdGenerator gen;
  if (gen.generation != g_fork_generation.load(std::memory_order_relaxed)) gen.Seed();
  const uint64_t a = gen.Next();
  const uint64_t c = gen.Next();
  std::array<uint8_t, 16> b;
  std::memcpy(b.data(), &a, 8);
  std::memcpy(b.data() + 8, &c, 8);
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return Uuid(b);
}

Result<Uuid> Uuid::Parse(std::string_view text) {
  auto bad = [&] {
    std::string m = "'";  // built by appending: GCC 12 warns on the + chain
    m.append(text).append("' is not a UUID (expected 8-4-4-4-12 hex digits)");
    return Status::InvalidArgument(std::move(m));
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
    if (ch >= '0' && ch <= '9')
      v = ch - '0';
    else if (ch >= 'a' && ch <= 'f')
      v = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F')
      v = ch - 'A' + 10;
    else
      return bad();
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
  e.caller_id = caller_id;
  return e;
}

}  // namespace cairn
