// `cairn bench [WORKLOAD...] [--db DIR] [--events N] [--no-sync]
// [--no-peers]`: runs the benchmark workloads by executing `cairn-bench`
// (bench/main.cc) with the same arguments, so that this binary stays lean
// (the workloads link SQLite, the toolkit, libsodium and simdjson).
// `cairn-bench` is looked for next to this binary, then on PATH.

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/number_flags.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

// The directory of the running binary ("" when /proc does not say).
std::string OwnDirectory() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

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
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    const std::string dir = OwnDirectory();
    if (!dir.empty()) {
      const std::string beside = dir + "/cairn-bench";
      ::execv(beside.c_str(), argv.data());  // returns only on failure
    }
    ::execvp("cairn-bench", argv.data());
    const int err = errno;
    return ReportError(
        Status(ErrorCode::kUnimplemented,
               "cannot run cairn-bench (" + std::string(std::strerror(err)) + "; looked in " +
                   (dir.empty() ? std::string("PATH") : "'" + dir + "' and PATH") +
                   "): the benchmarks are a separate program, built as bench/cairn-bench and "
                   "installed with the cairn tools"));
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
