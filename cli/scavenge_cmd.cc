// `cairn scavenge`: runs Store::Scavenge on a store opened for writing (it
// must exist) and prints its ScavengeReport as one JSON object:
//   {"log_bytes_before":N,"log_bytes_after":N,"index_bytes_before":N,
//    "index_bytes_after":N,"segments_rewritten":N,"records_removed":N,
//    "events_removed":N,"events_scrubbed":N,"bytes_read":N,
//    "bytes_written":N,"duration_ms":N}
// On a terminal, stderr shows a progress bar fed by the engine's progress
// callback (phase, closed segments done of total, bytes read and written).
// Errors: locked (exit 1) while another process writes the store, not_found
// (exit 4) when it does not exist, and the engine's others by the table of
// cli/output.h. An interrupted scavenge is safe: the engine commits through
// an intent file, so the store is the old or the new one at the next open.

#include <cstdio>
#include <memory>
#include <string>

#include "cairn/native.h"
#include "cli/command.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

// "1.2 GB" style figure (MB = 10^6 bytes, as in bench/).
std::string Bytes(uint64_t n) {
  char text[32];
  if (n >= 1'000'000'000) {
    std::snprintf(text, sizeof text, "%.1f GB", static_cast<double>(n) / 1e9);
  } else {
    std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(n) / 1e6);
  }
  return text;
}

nlohmann::ordered_json ReportJson(const ScavengeReport& report) {
  nlohmann::ordered_json out;
  out["log_bytes_before"] = report.log_bytes_before;
  out["log_bytes_after"] = report.log_bytes_after;
  out["index_bytes_before"] = report.index_bytes_before;
  out["index_bytes_after"] = report.index_bytes_after;
  out["segments_rewritten"] = report.segments_rewritten;
  out["records_removed"] = report.records_removed;
  out["events_removed"] = report.events_removed;
  out["events_scrubbed"] = report.events_scrubbed;
  out["bytes_read"] = report.bytes_read;
  out["bytes_written"] = report.bytes_written;
  out["duration_ms"] = report.duration_ns / 1'000'000;
  return out;
}

class ScavengeCommand : public Command {
 public:
  explicit ScavengeCommand(CLI::App* app) : Command(app) {
    app->footer(
        "Removes from the log what reads can no longer show: events of\n"
        "tombstoned streams (the tombstone stays), of soft-deleted streams,\n"
        "before \"$tb\", beyond \"$maxCount\" or \"$maxAge\", and superseded\n"
        "metadata. A stream's last event is kept with data and metadata\n"
        "emptied, so its revision survives. Closed log segments are\n"
        "rewritten (the active one is closed first); events kept keep their\n"
        "positions and revisions. Needs the write lock: fails with\n"
        "\"locked\" (exit 1) beside a running writer. Readers may go on\n"
        "reading but must reopen afterwards. Safe to interrupt: the old or\n"
        "the new store remains.\n"
        "Output: one JSON object with log_bytes_before, log_bytes_after,\n"
        "index_bytes_before, index_bytes_after, segments_rewritten,\n"
        "records_removed, events_removed, events_scrubbed, bytes_read,\n"
        "bytes_written, duration_ms. On a terminal, a progress bar on\n"
        "stderr.\n");
  }

  int Run(const GlobalOptions& global) override {
    std::unique_ptr<NativeStore> store;
    if (int rc = OpenStore(global, Access::kWriteExisting, &store); rc != kExitOk) {
      return rc;
    }
    ProgressBar bar("scavenge", 0);
    std::string phase;
    ScavengeOptions options;
    // Called on this thread (Scavenge runs synchronously).
    options.progress = [&](const ScavengeProgress& p) {
      if (phase != p.phase) {
        phase = p.phase;
        bar.Restart("scavenge " + phase, p.segments_total);
      }
      bar.Update(p.segments_done, std::to_string(p.segments_done) + "/" +
                                      std::to_string(p.segments_total) + " segments, " +
                                      Bytes(p.bytes_read) + " read, " + Bytes(p.bytes_written) +
                                      " written");
    };
    Result<ScavengeReport> report = store->Scavenge(options);
    bar.Finish();
    if (!report.has_value()) return ReportError(report.error());
    // The scavenge is committed now: report it even if closing fails below.
    WriteJsonLine(ReportJson(*report));
    return FinishStored(*store);
  }
};

}  // namespace

std::unique_ptr<Command> AddScavengeCommand(CLI::App& app) {
  return std::make_unique<ScavengeCommand>(app.add_subcommand(
      "scavenge", "Remove deleted, truncated and expired events from the log (online)"));
}

}  // namespace cairn::cli
