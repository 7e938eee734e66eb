#pragma once
// Entry point of `cairn bench`: named workloads that print one stable
// `key=value` line each. Uses only the public engine API (include/cairn/).

#include <cstdint>
#include <string>
#include <vector>

namespace cairn::bench {

struct BenchConfig {
  // Workload names to run; empty means the default set.
  std::vector<std::string> workloads;
  // Directory under which scratch stores are created (and removed after).
  // Empty: a fresh directory under $TMPDIR or /tmp.
  std::string dir;
  // Events per workload; 0 means each workload's default.
  uint64_t events = 0;
  // Durability of the engine runs: true = fsync (default), false = no-sync.
  bool durable = true;
  // Also run the SQLite peer and the raw-disk limits. Default true.
  bool peers = true;
};

// Runs the workloads, printing one line per workload (and per peer) to
// stdout. Returns a process exit status (0 ok, 1 error, 2 unknown workload).
int Run(const BenchConfig& config);

// Names of all workloads, in the default order.
std::vector<std::string> WorkloadNames();

}  // namespace cairn::bench
