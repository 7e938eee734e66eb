// `cairn`: the command-line tool of the Cairn event store. Parses the global
// options and the subcommand, runs it, and exits with the status of the
// table in cli/output.h (0 ok, 1 error, 2 usage, 3 wrong expected revision,
// 4 not found, 5 stream deleted, 6 corruption).

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/version.h"
#include "cli/command.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

// `cairn [--db DIR] serve ARGS...` runs cairn-serve with every argument
// untouched (the options are its own; CLI11 here would refuse them).
// Returns -1 when the command line is not a serve command.
int MaybeServe(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "serve") {
      std::vector<std::string> args = {"cairn-serve"};
      for (int j = 1; j < argc; ++j) {
        if (j != i) args.emplace_back(argv[j]);
      }
      return ExecCompanion("cairn-serve", std::move(args),
                           "the server is a separate program, built as server/cairn-serve with "
                           "CAIRN_BUILD_SERVER (needs gRPC)");
    }
    if (a == "--db") {
      ++i;
    } else if (!a.starts_with("--db=")) {
      return -1;
    }
  }
  return -1;
}

int Main(int argc, char** argv) {
  if (int served = MaybeServe(argc, argv); served >= 0) return served;
  CLI::App app("cairn: an embedded event store", "cairn");
  GlobalOptions global;
  app.add_option("--db", global.db, "Store directory")->type_name("DIR");
  app.set_version_flag("--version", std::string("cairn ") + CAIRN_VERSION_STRING);
  app.require_subcommand(1);
  app.footer(
      "Output: JSON lines on stdout; errors: one JSON object on stderr.\n"
      "Exit status: 0 ok (a write command: its data is stored), 1 error,\n"
      "2 bad input (usage, arguments, JSON, names, limits), 3 wrong expected\n"
      "revision, 4 not found, 5 stream deleted, 6 corruption.");
  // Global options may also follow the subcommand: `cairn read s --db d`.
  app.fallthrough();

  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(AddAppendCommand(app));
  commands.push_back(AddImportCommand(app));
  commands.push_back(AddExportCommand(app));
  commands.push_back(AddReadCommand(app));
  commands.push_back(AddReadAllCommand(app));
  commands.push_back(AddTailCommand(app));
  commands.push_back(AddVerifyCommand(app));
  commands.push_back(AddStatsCommand(app));
  commands.push_back(AddStreamsCommand(app));
  commands.push_back(AddMetadataCommand(app));
  commands.push_back(AddDeleteCommand(app));
  commands.push_back(AddCountCommand(app));
  commands.push_back(AddScavengeCommand(app));
  commands.push_back(AddBackupCommand(app));
  commands.push_back(AddBenchCommand(app));
  commands.push_back(AddServeCommand(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help (and friends) exit 0 and print to stdout; the rest is usage.
    if (e.get_exit_code() == 0) return app.exit(e);
    return ReportUsageError(e.what());
  }

  for (const std::unique_ptr<Command>& command : commands) {
    if (!command->selected()) continue;
    SetCommandName(command->name());
    // Exceptions never leave the CLI: an unexpected one (out of memory, a
    // library bug) becomes an error object like any other failure.
    try {
      return command->Run(global);
    } catch (const std::bad_alloc&) {
      return ReportError(Status(ErrorCode::kResourceExhausted, "out of memory"));
    } catch (const std::exception& e) {
      return ReportError(
          Status(ErrorCode::kFailedPrecondition, std::string("unexpected error: ") + e.what()));
    }
  }
  return ReportUsageError("no subcommand given");
}

}  // namespace
}  // namespace cairn::cli

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  // Lines go out in large writes unless a person is watching.
  if (isatty(STDOUT_FILENO) != 1) std::setvbuf(stdout, nullptr, _IOFBF, 1 << 16);
  return cairn::cli::Main(argc, argv);
}
