// `cairn append STREAM --type T [--data JSON] [--metadata JSON] [--id UUID]
// [--expect any|no-stream|exists|N]`: appends one JSON event and prints
// {"stream":S,"revision":N,"position":P} (plus "duplicate":true when the
// same event was already stored by an identical earlier append).

#include <memory>
#include <optional>
#include <string>

#include "cairn/store.h"
#include "cli/command.h"
#include "cli/json_text.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

class AppendCommand : public Command {
 public:
  explicit AppendCommand(CLI::App* app) : Command(app) {
    app->add_option("stream", stream_, "Stream to append to")->required();
    app->add_option("--type", type_, "Event type")->required();
    app->add_option("--data", data_, "Event data, a JSON value (default {})");
    app->add_option("--metadata", metadata_,
                    "Event metadata, a JSON value (default: none)");
    app->add_option("--id", id_, "Event id, a UUID (default: random)");
    app->add_option("--expect", expect_,
                    "Expected revision: any, no-stream, exists or a number")
        ->default_val("any");
  }

  int Run(const GlobalOptions& global) override {
    EventData event;
    event.type = type_;
    event.content_type = ContentType::kJson;
    Result<std::string> data = CompactJson(data_.value_or("{}"));
    if (!data.has_value()) {
      return ReportUsageError("--data is not valid JSON: " +
                              data.error().message());
    }
    event.data = *std::move(data);
    if (metadata_.has_value()) {
      Result<std::string> metadata = CompactJson(*metadata_);
      if (!metadata.has_value()) {
        return ReportUsageError("--metadata is not valid JSON: " +
                                metadata.error().message());
      }
      event.metadata = *std::move(metadata);
    }
    if (id_.has_value()) {
      Result<Uuid> id = Uuid::Parse(*id_);
      if (!id.has_value()) {
        return ReportUsageError("--id: " + id.error().message());
      }
      event.id = *id;
    }
    Result<ExpectedRevision> expected = ExpectedRevision::Parse(expect_);
    if (!expected.has_value()) {
      return ReportUsageError("--expect: " + expected.error().message());
    }

    std::unique_ptr<Store> store;
    if (int rc = OpenStore(global, Access::kReadWrite, &store); rc != kExitOk) {
      return rc;
    }
    Result<AppendResult> result = store->Append(
        stream_, *expected, std::span<const EventData>(&event, 1));
    if (!result.has_value()) return ReportError(result.error());

    // The append is durable now: report it even if closing fails below.
    nlohmann::ordered_json out;
    out["stream"] = result->stream;
    if (result->revision.has_value()) {
      out["revision"] = result->revision->value();
    } else {
      out["revision"] = nullptr;
    }
    out["position"] = result->position.value();
    if (result->duplicate) out["duplicate"] = true;
    WriteJsonLine(out);
    return CloseStore(*store);
  }

 private:
  std::string stream_;
  std::string type_;
  std::optional<std::string> data_;
  std::optional<std::string> metadata_;
  std::optional<std::string> id_;
  std::string expect_;
};

}  // namespace

std::unique_ptr<Command> AddAppendCommand(CLI::App& app) {
  return std::make_unique<AppendCommand>(
      app.add_subcommand("append", "Append one JSON event to a stream"));
}

}  // namespace cairn::cli
