// `cairn bench [WORKLOAD...] [--db DIR] [--events N] [--no-sync]
// [--no-peers]`: runs the benchmark workloads by executing `cairn-bench`
// (bench/main.cc) with the same arguments, so that this binary stays lean
// (the workloads link SQLite, the toolkit, libsodium and simdjson).
// `cairn-bench` is looked for next to this binary, then on PATH.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/number_flags.h"

namespace cairn::cli {
namespace {

class BenchCommand : public Command {
 public:
  explicit BenchCommand(CLI::App* app) : Command(app) {
    app->add_option("workloads", workloads_, "Workloads to run (default: the standard set)");
    AddUnsignedOption(app, "--events", &events_,
                      "Events per workload (default: each workload's own)");
    app->add_flag("--no-sync", no_sync_, "Run the engine without fsync (figures are not durable)");
    app->add_flag("--no-peers", no_peers_, "Skip the SQLite peer and the raw-disk limits");
  }

  int Run(const GlobalOptions& global) override {
    std::vector<std::string> args = {"cairn-bench"};
    if (!global.db.empty()) args.insert(args.end(), {"--db", global.db});
    if (events_) args.insert(args.end(), {"--events", std::to_string(*events_)});
    if (no_sync_) args.push_back("--no-sync");
    if (no_peers_) args.push_back("--no-peers");
    if (!workloads_.empty()) args.push_back("--");
    args.insert(args.end(), workloads_.begin(), workloads_.end());
    return ExecCompanion("cairn-bench", std::move(args),
                         "the benchmarks are a separate program, built as bench/cairn-bench and "
                         "installed with the cairn tools");
  }

 private:
  std::vector<std::string> workloads_;
  std::optional<uint64_t> events_;
  bool no_sync_ = false;
  bool no_peers_ = false;
};

}  // namespace

std::unique_ptr<Command> AddBenchCommand(CLI::App& app) {
  return std::make_unique<BenchCommand>(
      app.add_subcommand("bench", "Run benchmark workloads (scratch stores under --db DIR)"));
}

}  // namespace cairn::cli
