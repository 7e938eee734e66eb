// `cairn serve [--db DIR] [OPTIONS]`: serves the store over KurrentDB's v1
// gRPC protocol by executing `cairn-serve` (server/main.cc, which owns the
// options and documents them: `cairn serve --help`), so that this binary
// links no gRPC. `cairn-serve` is looked for next to this binary, then on
// PATH. main.cc hands a serve command line to cairn-serve before parsing
// (MaybeServe); this subcommand lists `serve` in `cairn --help` and runs
// when options of its own precede it.

#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"

namespace cairn::cli {
namespace {

class ServeCommand : public Command {
 public:
  explicit ServeCommand(CLI::App* app) : Command(app) {
    // Every option is cairn-serve's: pass them through untouched.
    app->allow_extras();
    app->prefix_command();
    app->set_help_flag();
    app_ = app;
  }

  int Run(const GlobalOptions& global) override {
    std::vector<std::string> args = {"cairn-serve"};
    if (!global.db.empty()) args.insert(args.end(), {"--db", global.db});
    for (const std::string& a : app_->remaining()) args.push_back(a);
    return ExecCompanion("cairn-serve", std::move(args),
                         "the server is a separate program, built as server/cairn-serve with "
                         "CAIRN_BUILD_SERVER (needs gRPC)");
  }

 private:
  CLI::App* app_ = nullptr;
};

}  // namespace

std::unique_ptr<Command> AddServeCommand(CLI::App& app) {
  return std::make_unique<ServeCommand>(app.add_subcommand(
      "serve", "Serve the store over KurrentDB's gRPC protocol (see cairn serve --help)"));
}

}  // namespace cairn::cli
