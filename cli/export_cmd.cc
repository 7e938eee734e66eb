// `cairn export [--from POS]`: writes every event of $all, in order, as JSON
// lines that `cairn import` reads back into an identical store (same
// streams, types, data, metadata and ids; stream metadata and tombstones
// are re-created with new ids). Opens the store read-only, so it works
// beside a running writer.

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cairn/store.h"
#include "cli/command.h"
#include "cli/json_codec.h"
#include "cli/number_flags.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

class ExportCommand : public Command {
 public:
  explicit ExportCommand(CLI::App* app) : Command(app) {
    AddUnsignedOption(app, "--from", &from_, "First position to export (inclusive)");
    app->footer(
        "Every event of $all, stream metadata (\"$$S\", \"$metadata\") and\n"
        "tombstones (\"$streamDeleted\") included: import re-creates them.\n");
  }

  int Run(const GlobalOptions& global) override {
    std::unique_ptr<Store> store;
    if (int rc = OpenStore(global, Access::kReadOnly, &store); rc != kExitOk) {
      return rc;
    }
    ReadAllOptions options;
    if (from_.has_value()) options.from = Position(*from_);
    Result<Position> head_position = store->HeadPosition();
    if (!head_position.has_value()) return ReportError(head_position.error());
    const uint64_t head = head_position->value();
    uint64_t start = from_.value_or(0);
    ProgressBar progress("export", head > start ? head - start : 0);
    bool write_failed = false;
    Status status = store->ReadAll(options, [&](const EventView& event) {
      std::string line = EventToJsonLine(event, LineMode::kExport);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), stdout);
      progress.Update(event.position.value() - start + 1);
      write_failed = std::ferror(stdout) != 0;
      return !write_failed;
    });
    progress.Finish();
    if (!status.ok()) return ReportError(status);
    if (std::fflush(stdout) != 0 || write_failed) {
      return ReportError(Status::FromErrno(errno, "write", "stdout"));
    }
    return kExitOk;
  }

 private:
  std::optional<uint64_t> from_;
};

}  // namespace

std::unique_ptr<Command> AddExportCommand(CLI::App& app) {
  return std::make_unique<ExportCommand>(app.add_subcommand(
      "export", "Write all events as JSON lines, in $all order"));
}

}  // namespace cairn::cli
