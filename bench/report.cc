#include "bench/report.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace cairn::bench {

// ---------------------------------------------------------------------------
// Histogram

Histogram::Histogram() : buckets_(kBuckets, 0) {}

int Histogram::BucketOf(uint64_t v) {
  if (v < static_cast<uint64_t>(kLinear)) return static_cast<int>(v);
  const int msb = 63 - std::countl_zero(v);                        // >= kSubBits + 1
  const int shift = msb - kSubBits;                                // >= 1
  const int sub = static_cast<int>(v >> shift) - (1 << kSubBits);  // 0..63
  return kLinear + (shift - 1) * (1 << kSubBits) + sub;
}

double Histogram::BucketMid(int bucket) {
  if (bucket < kLinear) return bucket;
  const int k = bucket - kLinear;
  const int shift = k / (1 << kSubBits) + 1;
  const int sub = k % (1 << kSubBits);
  const double low = std::ldexp(static_cast<double>((1 << kSubBits) + sub), shift);
  const double width = std::ldexp(1.0, shift);
  return low + width / 2;
}

void Histogram::Record(int64_t nanos) {
  if (nanos < 0) nanos = 0;
  ++buckets_[BucketOf(static_cast<uint64_t>(nanos))];
  ++count_;
  max_ = std::max(max_, nanos);
}

void Histogram::Merge(const Histogram& other) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

double Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(BucketMid(i), static_cast<double>(max_));
  }
  return static_cast<double>(max_);
}

// ---------------------------------------------------------------------------
// Resident set. /proc is read directly: it is process introspection, not
// store I/O, so it does not go through an Env.

namespace {

// Value in kB of a "Key:   1234 kB" line of /proc/self/status, or -1.
double StatusFieldKb(std::string_view key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 &&
        line[key.size()] == ':') {
      return std::strtod(line.c_str() + key.size() + 1, nullptr);
    }
  }
  return -1;
}

}  // namespace

void ResetPeakRss() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
}

double PeakRssMb() {
  const double kb = StatusFieldKb("VmHWM");
  return kb < 0 ? -1 : kb * 1024.0 / 1e6;
}

double CurrentRssMb() {
  const double kb = StatusFieldKb("VmRSS");
  return kb < 0 ? -1 : kb * 1024.0 / 1e6;
}

double AnonRssMb() {
  const double kb = StatusFieldKb("RssAnon");
  return kb < 0 ? -1 : kb * 1024.0 / 1e6;
}

// ---------------------------------------------------------------------------
// Measurement and the stable line

double Measurement::EventsPerSecond() const {
  return seconds > 0 ? static_cast<double>(events) / seconds : 0;
}

double Measurement::MegabytesPerSecond() const {
  return seconds > 0 ? static_cast<double>(payload_bytes) / 1e6 / seconds : 0;
}

void Measurement::SampleRss() {
  peak_rss_mb = PeakRssMb();
  anon_rss_mb = AnonRssMb();
}

void Measurement::Add(std::string key, std::string value) {
  extra.emplace_back(std::move(key), std::move(value));
}

std::string FormatFixed(double v, int decimals) {
  if (!std::isfinite(v)) return "nan";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

namespace {

void AppendPair(std::string* line, std::string_view key, std::string_view value) {
  if (!line->empty()) line->push_back(' ');
  line->append(key);
  line->push_back('=');
  if (value.empty()) value = "-";
  for (char c : value) line->push_back(c == ' ' || c == '\n' || c == '\t' ? '_' : c);
}

}  // namespace

std::string FormatLine(const Measurement& m) {
  std::string line;
  AppendPair(&line, "workload", m.workload);
  AppendPair(&line, "system", m.system);
  AppendPair(&line, "durable", m.durable ? "true" : "false");
  AppendPair(&line, "events", std::to_string(m.events));
  AppendPair(&line, "events_per_s", FormatFixed(m.EventsPerSecond(), 0));
  AppendPair(&line, "p50_us", FormatFixed(m.latency.Percentile(0.50) / 1e3, 1));
  AppendPair(&line, "p99_us", FormatFixed(m.latency.Percentile(0.99) / 1e3, 1));
  AppendPair(&line, "p999_us", FormatFixed(m.latency.Percentile(0.999) / 1e3, 1));
  AppendPair(&line, "peak_rss_mb", FormatFixed(m.peak_rss_mb, 1));
  if (m.anon_rss_mb >= 0) AppendPair(&line, "anon_rss_mb", FormatFixed(m.anon_rss_mb, 1));
  for (const auto& [key, value] : m.extra) AppendPair(&line, key, value);
  return line;
}

}  // namespace cairn::bench
