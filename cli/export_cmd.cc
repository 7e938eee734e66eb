// `cairn export [--from POS] [--salvage]`: writes every event of $all, in
// order, as JSON lines (docs/format/jsonl.md) that `cairn import` reads back
// into the same store: streams, revisions, positions, ids, creation times,
// data and metadata, stream metadata and tombstones included. Opens the
// store read-only, so it works beside a running writer.
//
// --salvage reads the log without opening the store (SalvageLog): for a
// store that refuses to open, it writes every event still readable, on both
// sides of any damage, reports each damaged place on stderr as
// {"skipped":{"file":F,"offset":O,"bytes":N,"what":W}} and exits 6 when
// something was damaged (0 when nothing was).

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cairn/native.h"
#include "cairn/salvage.h"
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
    app->add_flag("--salvage", salvage_,
                  "Read the log without opening the store: every event still readable, "
                  "past damage (exit 6 when something was skipped)");
    app->footer(
        "Every event of $all, stream metadata (\"$$S\", \"$metadata\") and\n"
        "tombstones (\"$streamDeleted\") included: import restores them with\n"
        "their revisions, positions, ids and creation times.\n");
  }

  int Run(const GlobalOptions& global) override {
    if (salvage_) return Salvage(global);
    std::unique_ptr<NativeStore> store;
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
      write_failed = !Write(event);
      progress.Update(event.position.value() - start + 1);
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
  // Writes one export line; false once stdout fails.
  static bool Write(const EventView& event) {
    std::string line = EventToJsonLine(event, LineMode::kExport);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
    return std::ferror(stdout) == 0;
  }

  int Salvage(const GlobalOptions& global) {
    if (global.db.empty()) return ReportUsageError("--db DIR is required for this command");
    const uint64_t from = from_.value_or(0);
    bool write_failed = false;
    Result<SalvageReport> report = SalvageLog(global.db, [&](const EventView& event) {
      if (event.position.value() < from) return true;
      write_failed = !Write(event);
      return !write_failed;
    });
    if (!report.has_value()) return ReportError(report.error());
    if (std::fflush(stdout) != 0 || write_failed) {
      return ReportError(Status::FromErrno(errno, "write", "stdout"));
    }
    for (const SalvageDamage& d : report->damage) {
      nlohmann::ordered_json skipped;
      skipped["file"] = d.file;
      skipped["offset"] = d.offset;
      skipped["bytes"] = d.bytes;
      skipped["what"] = d.what;
      if (d.torn_tail) skipped["torn_tail"] = true;
      nlohmann::ordered_json line;
      line["skipped"] = std::move(skipped);
      WriteErrorLine(line);
    }
    if (!report->damaged()) return kExitOk;
    nlohmann::ordered_json error = ErrorJson(
        Status::Corruption("the log is damaged: " + std::to_string(report->events) +
                           " readable events were written, the places listed above were skipped"));
    error.erase("hint");
    error["hint"] =
        "`cairn import` the saved lines into a new store; lines restore their revisions "
        "and positions";
    WriteErrorLine(error);
    return kExitCorruption;
  }

  std::optional<uint64_t> from_;
  bool salvage_ = false;
};

}  // namespace

std::unique_ptr<Command> AddExportCommand(CLI::App& app) {
  return std::make_unique<ExportCommand>(
      app.add_subcommand("export", "Write all events as JSON lines, in $all order"));
}

}  // namespace cairn::cli
