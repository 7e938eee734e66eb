#pragma once
// The subcommands of `cairn`. Each lives in its own file and registers
// itself on the top-level CLI11 app; main.cc parses the command line, then
// runs the one subcommand that was selected.
//
// Thread safety: used from the main thread only.

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "cairn/native.h"

namespace cairn::cli {

// Options that apply to every subcommand (given before or after it).
struct GlobalOptions {
  std::string db;  // store directory (--db); empty when not given
};

// A registered subcommand: its options are bound to the object's fields,
// filled in by CLI11 during parsing.
class Command {
 public:
  explicit Command(CLI::App* app) : app_(app) {}
  virtual ~Command() = default;
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;

  // True when this subcommand appeared on the command line.
  bool selected() const { return app_->parsed(); }
  // Its name on the command line ("append", "export", ...).
  std::string name() const { return app_->get_name(); }

  // Runs the subcommand; returns the process exit status (cli/output.h).
  // Reports its own errors on stderr.
  virtual int Run(const GlobalOptions& global) = 0;

 private:
  CLI::App* app_;  // owned by the top-level app, which outlives the command
};

enum class Access {
  kReadWrite,      // takes the write lock; creates the store when missing
  kWriteExisting,  // takes the write lock; the store must exist (not_found)
  kReadOnly,       // works beside a running writer; the store must exist
};

// Opens the store named by --db into `*store`. Returns kExitOk, or reports
// the problem on stderr and returns its exit status (kExitUsage when --db is
// missing).
int OpenStore(const GlobalOptions& global, Access access, std::unique_ptr<NativeStore>* store);

// Whether a command's data is stored (durable) by the time it finishes.
enum class Written {
  kNothing,  // read-only, or nothing was stored
  kStored,   // some or all of its writes are durable
};

// Closes `store` (persisting its index). A failure is reported; once the
// command's writes are durable (`written` is kStored) it is a warning and
// the status stays kExitOk: the events are in the log, the next open
// re-indexes them, and a caller that retried on a failure status would
// store them twice. Otherwise returns the error's exit status.
int CloseStore(NativeStore& store, Written written);

// Flushes stdout and checks that every write to it succeeded (a full disk,
// a closed pipe). A failure is an error (exit 1) for a command that stored
// nothing, and a warning for one whose writes are durable (its result line
// is lost, its data is not). Returns kExitOk otherwise.
int FinishStdout(Written written);

// The end of a command whose writes are durable: FinishStdout and
// CloseStore with Written::kStored (warnings only). Always kExitOk.
int FinishStored(NativeStore& store);

// Runs `program`, a companion binary of the cairn tools (cairn-bench,
// cairn-serve), with `args` (args[0] is its name), replacing this process:
// looked for next to this binary, then on PATH. Returns only when it cannot
// be run: reports kUnimplemented naming where it looked and `what` it is,
// and returns that exit status.
int ExecCompanion(const std::string& program, std::vector<std::string> args,
                  const std::string& what);

// Each function adds one subcommand to `app`.
std::unique_ptr<Command> AddAppendCommand(CLI::App& app);
std::unique_ptr<Command> AddImportCommand(CLI::App& app);
std::unique_ptr<Command> AddExportCommand(CLI::App& app);
std::unique_ptr<Command> AddReadCommand(CLI::App& app);
std::unique_ptr<Command> AddReadAllCommand(CLI::App& app);
std::unique_ptr<Command> AddTailCommand(CLI::App& app);
std::unique_ptr<Command> AddVerifyCommand(CLI::App& app);
std::unique_ptr<Command> AddStatsCommand(CLI::App& app);
std::unique_ptr<Command> AddStreamsCommand(CLI::App& app);
std::unique_ptr<Command> AddMetadataCommand(CLI::App& app);
std::unique_ptr<Command> AddDeleteCommand(CLI::App& app);
std::unique_ptr<Command> AddCountCommand(CLI::App& app);
std::unique_ptr<Command> AddScavengeCommand(CLI::App& app);
std::unique_ptr<Command> AddBackupCommand(CLI::App& app);
std::unique_ptr<Command> AddBenchCommand(CLI::App& app);
std::unique_ptr<Command> AddServeCommand(CLI::App& app);

}  // namespace cairn::cli
