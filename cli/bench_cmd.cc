// `cairn bench [WORKLOAD...] [--db DIR] [--events N] [--no-sync]
// [--no-peers]`: runs the named benchmark workloads (bench/bench.h). The
// global --db, when given, is the directory for scratch stores.

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/number_flags.h"
#include "cli/output.h"

#if CAIRN_CLI_HAVE_BENCH
#include "bench/bench.h"
#endif

namespace cairn::cli {
namespace {

class BenchCommand : public Command {
 public:
  explicit BenchCommand(CLI::App* app) : Command(app) {
    app->add_option("workloads", workloads_,
                    "Workloads to run (default: the standard set)");
    AddUnsignedOption(app, "--events", &events_,
                      "Events per workload (default: each workload's own)");
    app->add_flag("--no-sync", no_sync_,
                  "Run the engine without fsync (figures are not durable)");
    app->add_flag("--no-peers", no_peers_,
                  "Skip the SQLite peer and the raw-disk limits");
  }

  int Run(const GlobalOptions& global) override {
#if CAIRN_CLI_HAVE_BENCH
    // Unknown names are usage errors reported like every other CLI error.
    std::vector<std::string> known = bench::WorkloadNames();
    for (const std::string& name : workloads_) {
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (const std::string& k : known) {
          list += (list.empty() ? "" : ", ") + k;
        }
        return ReportUsageError("unknown workload '" + name +
                                "' (known: " + list + ")");
      }
    }
    bench::BenchConfig config;
    config.workloads = workloads_;
    config.dir = global.db;
    config.events = events_.value_or(0);
    config.durable = !no_sync_;
    config.peers = !no_peers_;
    return bench::Run(config);
#else
    return ReportError(
        Status(ErrorCode::kFailedPrecondition,
               "this cairn was built without the bench library"));
#endif
  }

 private:
  std::vector<std::string> workloads_;
  std::optional<uint64_t> events_;
  bool no_sync_ = false;
  bool no_peers_ = false;
};

}  // namespace

std::unique_ptr<Command> AddBenchCommand(CLI::App& app) {
  return std::make_unique<BenchCommand>(app.add_subcommand(
      "bench", "Run benchmark workloads (scratch stores under --db DIR)"));
}

}  // namespace cairn::cli
