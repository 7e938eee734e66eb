// `cairn-bench [WORKLOAD...] [--db DIR] [--events N] [--no-sync]
// [--no-peers]`: runs the named benchmark workloads (bench/bench.h). `cairn
// bench` runs this program, so the `cairn` command does not link SQLite,
// libsodium or simdjson for the benchmarks' sake. --db is the directory for
// scratch stores. Errors as the `cairn` command prints them (cli/output.h).

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench.h"
#include "cli/number_flags.h"
#include "cli/output.h"

namespace {

int Main(int argc, char** argv) {
  using cairn::cli::ReportUsageError;
  CLI::App app("cairn-bench: Cairn's benchmark workloads (`cairn bench` runs it)", "cairn-bench");
  std::vector<std::string> workloads;
  std::string db;
  std::optional<uint64_t> events;
  bool no_sync = false;
  bool no_peers = false;
  app.add_option("workloads", workloads, "Workloads to run (default: the standard set)");
  app.add_option("--db", db, "Directory for scratch stores")->type_name("DIR");
  cairn::cli::AddUnsignedOption(&app, "--events", &events,
                                "Events per workload (default: each workload's own)");
  app.add_flag("--no-sync", no_sync, "Run the engine without fsync (figures are not durable)");
  app.add_flag("--no-peers", no_peers, "Skip the SQLite peer and the raw-disk limits");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return ReportUsageError(e.what());
  }
  // Unknown names are usage errors, reported like every other CLI error.
  const std::vector<std::string> known = cairn::bench::WorkloadNames();
  for (const std::string& name : workloads) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      return ReportUsageError("unknown workload '" + name + "' (known: " + list + ")");
    }
  }
  cairn::bench::BenchConfig config;
  config.workloads = workloads;
  config.dir = db;
  config.events = events.value_or(0);
  config.durable = !no_sync;
  config.peers = !no_peers;
  return cairn::bench::Run(config);
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
