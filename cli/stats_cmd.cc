// `cairn stats`: prints the store's StoreStats as one JSON object
// (read-only open).

#include <memory>

#include "cairn/native.h"
#include "cli/command.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

class StatsCommand : public Command {
 public:
  explicit StatsCommand(CLI::App* app) : Command(app) {}

  int Run(const GlobalOptions& global) override {
    std::unique_ptr<NativeStore> store;
    if (int rc = OpenStore(global, Access::kReadOnly, &store); rc != kExitOk) {
      return rc;
    }
    Result<StoreStats> stats = store->Stats();
    if (!stats.has_value()) return ReportError(stats.error());
    nlohmann::ordered_json out;
    out["events"] = stats->events;
    out["streams"] = stats->streams;
    out["log_bytes"] = stats->log_bytes;
    out["segments"] = stats->segments;
    out["index_runs"] = stats->index_runs;
    out["index_bytes"] = stats->index_bytes;
    out["memtable_entries"] = stats->memtable_entries;
    out["indexed_through"] = stats->indexed_through;
    out["read_only"] = stats->read_only;
    WriteJsonLine(out);
    return FinishStdout(Written::kNothing);
  }
};

}  // namespace

std::unique_ptr<Command> AddStatsCommand(CLI::App& app) {
  return std::make_unique<StatsCommand>(
      app.add_subcommand("stats", "Print store statistics as JSON"));
}

}  // namespace cairn::cli
