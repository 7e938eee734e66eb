// A writing process for the kill -9 crash driver: kWriters threads append
// forever to a durable store (so commits group, and the commit thread takes
// over the busy queue) and each prints one line per acknowledged event,
// flushed before its next append starts:
//   E <stream> <revision> <position> <uuid>
// Usage: cairn_crash_writer DIR SEED
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cairn/native.h"

namespace {

constexpr int kWriters = 4;
std::mutex print_mu;  // whole lines, flushed, one thread at a time

// Appends until the process is killed; an error ends the process.
void Write(cairn::NativeStore* store, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (;;) {
    int nstreams = rng() % 4 == 0 ? 2 : 1;
    std::vector<cairn::StreamAppend> parts;
    for (int s = 0; s < nstreams; ++s) {
      cairn::StreamAppend a;
      a.stream = "s-" + std::to_string(rng() % 20 + s * 20);
      int n = 1 + static_cast<int>(rng() % 5);
      for (int i = 0; i < n; ++i) {
        cairn::EventData e;
        e.id = cairn::Uuid::Random();
        e.type.push_back('T');  // (a literal assignment here trips GCC 12's -Wrestrict)
        e.data = "{\"id\":\"";
        e.data += e.id->ToString();
        e.data += "\",\"pad\":\"";
        e.data.append(rng() % 300, 'x');
        e.data += "\"}";
        a.events.push_back(std::move(e));
      }
      parts.push_back(std::move(a));
    }
    auto r = store->AppendMulti(parts);
    if (!r) {
      std::fprintf(stderr, "append: %s\n", r.error().ToString().c_str());
      std::_Exit(1);
    }
    std::lock_guard l(print_mu);
    for (size_t p = 0; p < parts.size(); ++p) {
      uint64_t last_rev = (*r)[p].revision->value();
      uint64_t last_pos = (*r)[p].position.value();
      size_t n = parts[p].events.size();
      // Events of one part are contiguous in position within the record.
      for (size_t i = 0; i < n; ++i) {
        std::printf("E %s %llu %llu %s\n", parts[p].stream.c_str(),
                    static_cast<unsigned long long>(last_rev - (n - 1 - i)),
                    static_cast<unsigned long long>(last_pos - (n - 1 - i)),
                    parts[p].events[i].id->ToString().c_str());
      }
    }
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: cairn_crash_writer DIR SEED\n");
    return 2;
  }
  cairn::NativeOptions o;
  o.memtable_entries = 64;     // checkpoints happen often, so kills land in them
  o.segment_bytes = 64 << 10;  // and in segment rollovers
  auto store = cairn::NativeStore::Open(argv[1], o);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().ToString().c_str());
    return 1;
  }
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back(Write, store->get(), seed * kWriters + static_cast<uint64_t>(t));
  }
  for (auto& w : writers) w.join();
  return 1;  // a writer stopped on an error
}
