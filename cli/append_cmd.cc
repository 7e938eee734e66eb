// `cairn append STREAM --type T [--data JSON | --data - | --data-file PATH]
// [--metadata JSON] [--id UUID] [--expect any|no-stream|exists|N]`: appends
// one JSON event and prints {"stream":S,"revision":N,"position":P} (plus
// "duplicate":true when an earlier append stored an event with this --id:
// as in KurrentDB, a retry is recognised by its id alone, so a different
// --data with the same --id stores nothing). `--data -` reads the data from
// stdin and --data-file from a file: arguments cannot carry more than the
// system's argument limit (about 128 KiB).

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cairn/native.h"
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
    CLI::Option* data = app->add_option(
        "--data", data_, "Event data, a JSON value (default {}); - reads it from stdin");
    app->add_option("--data-file", data_file_, "Read the event data (a JSON value) from this file")
        ->type_name("PATH")
        ->excludes(data);
    app->add_option("--metadata", metadata_, "Event metadata, a JSON value (default: none)");
    app->add_option("--id", id_, "Event id, a UUID (default: random)");
    app->add_option("--expect", expect_, "Expected revision: any, no-stream, exists or a number")
        ->default_val("any");
  }

  int Run(const GlobalOptions& global) override {
    EventData event;
    event.type = type_;
    event.content_type = ContentType::kJson;
    std::string text = data_.value_or("{}");
    std::string source = "--data";
    if (data_file_.has_value() || text == "-") {
      source = data_file_.has_value() ? "--data-file '" + *data_file_ + "'" : "stdin";
      Result<std::string> read = ReadAllOf(data_file_.value_or("-"));
      if (!read.has_value()) return ReportError(read.error());
      text = *std::move(read);
    }
    Result<std::string> data = CompactJson(text);
    if (!data.has_value()) {
      return ReportUsageError(source + " is not valid JSON: " + data.error().message());
    }
    event.data = *std::move(data);
    if (metadata_.has_value()) {
      Result<std::string> metadata = CompactJson(*metadata_);
      if (!metadata.has_value()) {
        return ReportUsageError("--metadata is not valid JSON: " + metadata.error().message());
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

    std::unique_ptr<NativeStore> store;
    if (int rc = OpenStore(global, Access::kReadWrite, &store); rc != kExitOk) {
      return rc;
    }
    Result<AppendResult> result =
        store->Append(stream_, *expected, std::span<const EventData>(&event, 1));
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
    return FinishStored(*store);
  }

 private:
  std::string stream_;
  std::string type_;
  // The whole of `path` ("-": stdin), at most a little more than one event
  // may hold (NativeOptions::max_event_bytes, 16 MiB).
  static Result<std::string> ReadAllOf(const std::string& path) {
    constexpr size_t kMaxBytes = (16u << 20) + (1u << 20);
    FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
      const int err = errno;
      if (err == ENOENT) {
        return Status::InvalidArgument("--data-file '" + path + "' does not exist");
      }
      return Status::FromErrno(err, "open", path);
    }
    std::string out;
    char buf[1 << 16];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
      out.append(buf, n);
      if (out.size() > kMaxBytes) {
        if (f != stdin) std::fclose(f);
        return Status::InvalidArgument(
            (path == "-" ? std::string("the data on stdin") : "--data-file '" + path + "'") +
            " is larger than " + std::to_string(kMaxBytes) +
            " bytes: more than one event may hold (max_event_bytes)");
      }
    }
    const bool failed = std::ferror(f) != 0;
    const int err = errno;
    if (f != stdin) std::fclose(f);
    if (failed) return Status::FromErrno(err, "read", path == "-" ? "stdin" : path);
    return out;
  }

  std::optional<std::string> data_;
  std::optional<std::string> data_file_;
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
