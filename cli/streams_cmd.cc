// `cairn streams [--prefix P] [--limit N] [--after POS] [--live-only]`:
// lists streams in creation order (Store::ListStreams), one JSON line each:
// {"stream":S,"created":P,"last_revision":N,"last_position":P,
//  "event_count":N,"state":"live"|"soft_deleted"|"tombstoned"}.
// A tombstoned stream's last_revision is 9223372036854775807
// (StreamRevision::kTombstone). System streams ("$$<stream>") are not
// listed. Pages through
// the engine kPageStreams at a time, so memory stays bounded however many
// streams there are. Read-only open.

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cairn/native.h"
#include "cli/command.h"
#include "cli/number_flags.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

constexpr uint64_t kPageStreams = 1000;

const char* StateName(StreamState state) {
  switch (state) {
    case StreamState::kLive:
      return "live";
    case StreamState::kSoftDeleted:
      return "soft_deleted";
    case StreamState::kTombstoned:
      return "tombstoned";
  }
  return "unknown";
}

class StreamsCommand : public Command {
 public:
  explicit StreamsCommand(CLI::App* app) : Command(app) {
    app->add_option("--prefix", prefix_,
                    "Only streams whose name starts with P (a prefix holding "
                    "'-' walks only that category's streams)")
        ->type_name("P");
    AddUnsignedOption(app, "--limit", &limit_, "Print at most N streams (default: all)");
    AddUnsignedOption(app, "--after", &after_,
                      "Only streams created after position POS (exclusive): "
                      "pass the \"created\" of the last stream already seen")
        ->type_name("POS");
    app->add_flag("--live-only", live_only_, "Leave out soft-deleted and tombstoned streams");
    app->footer(
        "Output: one JSON line per stream, in creation order:\n"
        "{\"stream\":S,\"created\":P,\"last_revision\":N,"
        "\"last_position\":P,\n"
        " \"event_count\":N,\"state\":\"live\"|\"soft_deleted\"|"
        "\"tombstoned\"}\n"
        "event_count counts the events reads show (retention applied); a\n"
        "tombstoned stream has last_revision 9223372036854775807.\n");
  }

  int Run(const GlobalOptions& global) override {
    std::unique_ptr<NativeStore> store;
    if (int rc = OpenStore(global, Access::kReadOnly, &store); rc != kExitOk) {
      return rc;
    }
    ListStreamsOptions options;
    options.prefix = prefix_;
    options.include_deleted = !live_only_;
    if (after_.has_value()) options.after = Position(*after_);
    uint64_t remaining = limit_.value_or(UINT64_MAX);
    while (remaining > 0) {
      options.limit = std::min(remaining, kPageStreams);
      Result<std::vector<StreamSummary>> page = store->ListStreams(options);
      if (!page.has_value()) return ReportError(page.error());
      for (const StreamSummary& summary : *page) {
        nlohmann::ordered_json out;
        out["stream"] = summary.stream;
        out["created"] = summary.created.value();
        out["last_revision"] = summary.last_revision.value();
        out["last_position"] = summary.last_position.value();
        out["event_count"] = summary.event_count;
        out["state"] = StateName(summary.state);
        WriteJsonLine(out);
      }
      if (std::ferror(stdout) != 0) break;
      remaining -= page->size();
      // A short page is the last one.
      if (page->size() < options.limit) break;
      options.after = page->back().created;
    }
    if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
      return ReportError(Status::FromErrno(errno, "write", "stdout"));
    }
    return kExitOk;
  }

 private:
  std::string prefix_;
  std::optional<uint64_t> limit_;
  std::optional<uint64_t> after_;
  bool live_only_ = false;
};

}  // namespace

std::unique_ptr<Command> AddStreamsCommand(CLI::App& app) {
  return std::make_unique<StreamsCommand>(
      app.add_subcommand("streams", "List streams in creation order, with their state"));
}

}  // namespace cairn::cli
