// `cairn backup DEST`: copies the store into DEST while it stays in use
// (Store::Backup: the store as of its durable head; closed log segments
// and index runs hard-linked, the rest copied) and prints
//   {"backup":DEST,"head":N,"events":N,"segments_linked":N,
//    "segments_copied":N,"bytes_copied":N}
// The store is opened read-only, so the backup runs beside its writer (an
// application, `cairn import`, `cairn scavenge`). DEST must not exist or
// be an empty directory (invalid_argument otherwise); on failure nothing is
// left in it. Restore: open the copy (docs/operations.md).

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "cairn/native.h"
#include "cli/command.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

// A read-only open refuses a store while a scavenge's intent file exists
// (failed_precondition): during a running scavenge's swap, which lasts
// milliseconds, or after a crash interrupted one. Retrying for this long
// outlasts any swap; an interrupted scavenge is then reported.
constexpr int kOpenTries = 200;
constexpr auto kOpenRetryPause = std::chrono::milliseconds(50);

class BackupCommand : public Command {
 public:
  explicit BackupCommand(CLI::App* app) : Command(app) {
    app->add_option("dest", dest_, "Directory to create the copy in (missing or empty)")
        ->type_name("DEST")
        ->required();
    app->footer(
        "Copies the store while its writer runs: the copy holds every event\n"
        "below \"head\", exactly as stored, and opens as a store of its own\n"
        "(check it with `cairn verify --db DEST`). Closed log segments and\n"
        "index runs are hard-linked when DEST is on the same file system.\n"
        "Output: {\"backup\":DEST,\"head\":N,\"events\":N,\"segments_linked\":N,\n"
        "\"segments_copied\":N,\"bytes_copied\":N}.\n");
  }

  int Run(const GlobalOptions& global) override {
    if (global.db.empty()) return ReportUsageError("--db DIR is required for this command");
    NativeOptions options;
    options.read_only = true;
    options.create_if_missing = false;
    Result<std::unique_ptr<NativeStore>> opened = NativeStore::Open(global.db, options);
    for (int i = 1; i < kOpenTries && !opened.has_value() &&
                    opened.error().code() == ErrorCode::kFailedPrecondition;
         ++i) {
      std::this_thread::sleep_for(kOpenRetryPause);
      opened = NativeStore::Open(global.db, options);
    }
    if (!opened.has_value()) return ReportError(opened.error());
    std::unique_ptr<NativeStore> store = std::move(opened).value();
    Result<BackupReport> report = store->Backup(dest_);
    if (!report.has_value()) return ReportError(report.error());
    nlohmann::ordered_json out;
    out["backup"] = dest_;
    out["head"] = report->head.value();
    out["events"] = report->events;
    out["segments_linked"] = report->segments_linked;
    out["segments_copied"] = report->segments_copied;
    out["bytes_copied"] = report->bytes_copied;
    WriteJsonLine(out);
    return kExitOk;
  }

 private:
  std::string dest_;
};

}  // namespace

std::unique_ptr<Command> AddBackupCommand(CLI::App& app) {
  return std::make_unique<BackupCommand>(
      app.add_subcommand("backup", "Copy the store into DEST while it is in use"));
}

}  // namespace cairn::cli
