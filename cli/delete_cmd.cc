// `cairn delete STREAM [--hard] [--expect any|no-stream|exists|N]`:
// soft-deletes a stream (Store::DeleteStream: its events disappear from
// reads, metadata "$tb" is set past its last revision, and a later append
// recreates it with revisions continuing), or with --hard tombstones it
// (Store::TombstoneStream: a "$streamDeleted" event; reads, appends and
// metadata writes then fail with stream_deleted forever). Prints
//   {"stream":S,"deleted":"soft"|"hard","position":P}
// where P is the position of the metadata event (soft) or the tombstone.
// Errors: not_found (exit 4: soft delete of a missing or already
// soft-deleted stream), stream_deleted (exit 5: already tombstoned),
// wrong_expected_revision (exit 3, with stream/expected/actual).
// A stream that never existed can be tombstoned: it can then never be
// created (the engine's rule).

#include <memory>
#include <string>

#include "cairn/native.h"
#include "cli/command.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

class DeleteCommand : public Command {
 public:
  explicit DeleteCommand(CLI::App* app) : Command(app) {
    app->add_option("stream", stream_, "Stream to delete")->required();
    app->add_flag("--hard", hard_,
                  "Tombstone the stream: it can never be read or written "
                  "again (default: soft delete, a later append recreates it)");
    app->add_option("--expect", expect_,
                    "Expected revision of the stream: any, no-stream, exists "
                    "or a number")
        ->default_val("any");
    app->footer(
        "Output: {\"stream\":S,\"deleted\":\"soft\"|\"hard\",\"position\":P}\n"
        "Errors: not_found (exit 4), stream_deleted (exit 5: tombstoned),\n"
        "wrong_expected_revision (exit 3).\n");
  }

  int Run(const GlobalOptions& global) override {
    Result<ExpectedRevision> expected = ExpectedRevision::Parse(expect_);
    if (!expected.has_value()) {
      return ReportUsageError("--expect: " + expected.error().message());
    }
    std::unique_ptr<NativeStore> store;
    if (int rc = OpenStore(global, Access::kReadWrite, &store); rc != kExitOk) {
      return rc;
    }
    Result<AppendResult> result = hard_ ? store->TombstoneStream(stream_, *expected)
                                        : store->DeleteStream(stream_, *expected);
    if (!result.has_value()) return ReportError(result.error());
    // The delete is durable now: report it even if closing fails below.
    nlohmann::ordered_json out;
    out["stream"] = stream_;
    out["deleted"] = hard_ ? "hard" : "soft";
    out["position"] = result->position.value();
    WriteJsonLine(out);
    return FinishStored(*store);
  }

 private:
  std::string stream_;
  bool hard_ = false;
  std::string expect_;
};

}  // namespace

std::unique_ptr<Command> AddDeleteCommand(CLI::App& app) {
  return std::make_unique<DeleteCommand>(
      app.add_subcommand("delete", "Soft-delete a stream, or tombstone it with --hard"));
}

}  // namespace cairn::cli
