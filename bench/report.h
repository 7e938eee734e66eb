#pragma once
// Measurement plumbing shared by every workload: a log-bucketed latency
// histogram, the process's peak resident set, and the one stable output line.
//
// Thread safety: a Histogram is used by one thread at a time; concurrent
// workloads give each thread its own and Merge() them afterwards. The peak-RSS
// helpers read and reset process-wide state and must not race each other.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::bench {

// Latency histogram with log-linear buckets: exact below 128 ns, then 64
// sub-buckets per power of two, so any percentile is within ~1.6% of the true
// value. Constant memory (~30 KiB) however many samples are recorded.
class Histogram {
 public:
  Histogram();

  // Records one sample in nanoseconds; negative samples count as 0.
  void Record(int64_t nanos);
  // Adds every sample of `other` to this histogram.
  void Merge(const Histogram& other);

  uint64_t count() const { return count_; }
  int64_t max() const { return max_; }
  // The value below which a fraction `q` (0..1) of the samples fall, in
  // nanoseconds; 0 when the histogram is empty. The top bucket is clamped to
  // the largest sample seen.
  double Percentile(double q) const;

 private:
  static constexpr int kSubBits = 6;                   // 64 sub-buckets
  static constexpr int kLinear = 1 << (kSubBits + 1);  // exact below 128 ns
  static constexpr int kBuckets = kLinear + (64 - kSubBits - 1) * (1 << kSubBits);

  static int BucketOf(uint64_t v);
  static double BucketMid(int bucket);

  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  int64_t max_ = 0;
};

// Peak resident set ("VmHWM" of /proc/self/status). ResetPeakRss() returns
// memory freed by earlier work to the OS where the allocator allows it and
// then sets the high-water mark to the current RSS (writes "5" to
// /proc/self/clear_refs), so the next PeakRssMb() reflects only what ran in
// between. Both are best effort: PeakRssMb() is -1 when /proc is unreadable.
void ResetPeakRss();
double PeakRssMb();
// Current resident set ("VmRSS"), in MB (10^6 bytes); -1 when unknown.
double CurrentRssMb();
// Current anonymous resident memory ("RssAnon": heap, stacks; not mapped
// files), in MB; -1 when unknown. Separates the engine's own memory from log
// pages it maps, which count in VmHWM too.
double AnonRssMb();

// What one run of one workload against one system measured.
struct Measurement {
  std::string workload;  // "append-batch"
  std::string system;    // "cairn", "sqlite" or "disk"
  bool durable = true;   // every acknowledged write was fdatasync'ed
  uint64_t events = 0;   // events (or raw operations) measured
  double seconds = 0;    // wall time of the measured phase
  Histogram latency;     // per call: one append, one page read, one open
  double peak_rss_mb = -1;
  double anon_rss_mb = -1;     // RssAnon at the end of the measured phase
  uint64_t payload_bytes = 0;  // bytes moved; basis of mb_per_s / gb_per_s
  // Extra keys in the order they are printed after the fixed prefix.
  std::vector<std::pair<std::string, std::string>> extra;

  double EventsPerSecond() const;
  // Payload bytes per second in MB (10^6 bytes); 0 when unknown.
  double MegabytesPerSecond() const;
  void Add(std::string key, std::string value);
  // Sets peak_rss_mb and anon_rss_mb; call at the end of the measured phase,
  // before the store is closed.
  void SampleRss();
};

// Formatting of numbers in the stable line: fixed decimals, no exponent.
std::string FormatFixed(double v, int decimals);

// "workload=... system=... durable=... events=... events_per_s=... p50_us=...
// p99_us=... p999_us=... peak_rss_mb=..." followed by anon_rss_mb= (when
// known) and the extra keys. Keys and
// values never contain spaces (spaces in a value become '_').
std::string FormatLine(const Measurement& m);

}  // namespace cairn::bench
