// `cairn metadata STREAM [--set JSON] [--expect any|no-stream|exists|N]`:
// prints or writes a stream's metadata (Store::GetStreamMetadata /
// SetStreamMetadata), the JSON document kept in the system stream
// "$$<STREAM>" with the KurrentDB keys "$maxCount", "$maxAge" and "$tb".
//
// Without --set (read-only open):
//   {"stream":S,"revision":N|null,"metadata":{...}}
// where revision is that of the metadata itself (null: never set).
// With --set: the document is checked with CompactJson (cli/json_text.h)
// and StreamMetadata::Parse before the store opens (invalid_argument, exit
// 2, when it is not strict JSON, not an object or a recognized key is not a
// valid count), written if --expect holds for the metadata's own revision
// (default any), and the append is printed:
//   {"stream":S,"metadata_revision":N,"position":P}

#include <memory>
#include <optional>
#include <string>

#include "cairn/native.h"
#include "cli/command.h"
#include "cli/json_text.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

class MetadataCommand : public Command {
 public:
  explicit MetadataCommand(CLI::App* app) : Command(app) {
    app->add_option("stream", stream_, "Stream whose metadata to print or set")->required();
    CLI::Option* set = app->add_option("--set", set_,
                                       "Replace the metadata by this JSON object (\"$maxCount\", "
                                       "\"$maxAge\" seconds, \"$tb\" truncate-before revision, "
                                       "any other key kept as given)")
                           ->type_name("JSON");
    app->add_option("--expect", expect_,
                    "With --set: expected revision of the metadata itself: "
                    "any, no-stream (never set), exists or a number")
        ->default_val("any")
        ->needs(set);
    app->footer(
        "Output without --set: {\"stream\":S,\"revision\":N|null,"
        "\"metadata\":{...}}\n"
        "Output with --set: {\"stream\":S,\"metadata_revision\":N,"
        "\"position\":P}\n"
        "A tombstoned stream: stream_deleted (exit 5).\n");
  }

  int Run(const GlobalOptions& global) override {
    if (!set_.has_value()) return Print(global);
    // Strict first (one value, no duplicate keys, bounded nesting), so the
    // engine only ever parses a document that every reader agrees on.
    Result<std::string> compact = CompactJson(*set_);
    if (!compact.has_value()) {
      return ReportError(
          Status::InvalidArgument("--set: not valid JSON: " + compact.error().message()));
    }
    Result<StreamMetadata> metadata = StreamMetadata::Parse(*compact);
    if (!metadata.has_value()) {
      return ReportError(Status::InvalidArgument("--set: " + metadata.error().message()));
    }
    Result<ExpectedRevision> expected = ExpectedRevision::Parse(expect_);
    if (!expected.has_value()) {
      return ReportUsageError("--expect: " + expected.error().message());
    }
    std::unique_ptr<NativeStore> store;
    if (int rc = OpenStore(global, Access::kReadWrite, &store); rc != kExitOk) {
      return rc;
    }
    Result<AppendResult> result = store->SetStreamMetadata(stream_, *expected, *metadata);
    if (!result.has_value()) return ReportError(result.error());
    // The write is durable now: report it even if closing fails below.
    nlohmann::ordered_json out;
    out["stream"] = stream_;
    // A metadata write appends one event, so it always has a revision.
    out["metadata_revision"] = result->revision.value_or(StreamRevision()).value();
    out["position"] = result->position.value();
    WriteJsonLine(out);
    return FinishStored(*store);
  }

 private:
  int Print(const GlobalOptions& global) {
    std::unique_ptr<NativeStore> store;
    if (int rc = OpenStore(global, Access::kReadOnly, &store); rc != kExitOk) {
      return rc;
    }
    Result<StreamMetadataResult> result = store->GetStreamMetadata(stream_);
    if (!result.has_value()) return ReportError(result.error());
    nlohmann::ordered_json out;
    out["stream"] = stream_;
    if (result->revision.has_value()) {
      out["revision"] = result->revision->value();
    } else {
      out["revision"] = nullptr;
    }
    // ToJson() is the engine's own document: always a JSON object.
    out["metadata"] = nlohmann::ordered_json::parse(result->metadata.ToJson());
    WriteJsonLine(out);
    return FinishStdout(Written::kNothing);
  }

  std::string stream_;
  std::optional<std::string> set_;
  std::string expect_;
};

}  // namespace

std::unique_ptr<Command> AddMetadataCommand(CLI::App& app) {
  return std::make_unique<MetadataCommand>(
      app.add_subcommand("metadata", "Print or set a stream's metadata (retention, custom keys)"));
}

}  // namespace cairn::cli
