#pragma once
// The subcommands of `cairn`. Each lives in its own file and registers
// itself on the top-level CLI11 app; main.cc parses the command line, then
// runs the one subcommand that was selected.
//
// Thread safety: used from the main thread only.

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cairn/store.h"

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
int OpenStore(const GlobalOptions& global, Access access,
              std::unique_ptr<Store>* store);

// Closes `store` (persisting its index); returns kExitOk, or reports the
// error and returns its exit status.
int CloseStore(Store& store);

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

}  // namespace cairn::cli
