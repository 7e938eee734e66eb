// `cairn count [--stream S | --category C]`: counts events and prints one of
//   {"count":N}                  every event in $all, system events
//                                (metadata, tombstones) included
//   {"count":N,"stream":S}       the events reads of S show (retention
//                                applied; not_found / stream_deleted as
//                                for `read`)
//   {"count":N,"category":C}     the events reads of category C show
// Read-only open.

#include <memory>
#include <optional>
#include <string>

#include "cairn/native.h"
#include "cli/command.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

class CountCommand : public Command {
 public:
  explicit CountCommand(CLI::App* app) : Command(app) {
    CLI::Option* stream =
        app->add_option("--stream", stream_, "Count the events of stream S that reads show")
            ->type_name("S");
    CLI::Option* category = app->add_option("--category", category_,
                                            "Count the events of category C (streams \"C-...\") "
                                            "that reads show")
                                ->type_name("C");
    stream->excludes(category);
    app->footer(
        "Output: {\"count\":N} for all of $all (system events included),\n"
        "{\"count\":N,\"stream\":S} or {\"count\":N,\"category\":C}.\n");
  }

  int Run(const GlobalOptions& global) override {
    std::unique_ptr<NativeStore> store;
    if (int rc = OpenStore(global, Access::kReadOnly, &store); rc != kExitOk) {
      return rc;
    }
    Result<uint64_t> count = stream_.has_value()     ? store->Count(CountOf::Stream(*stream_))
                             : category_.has_value() ? store->Count(CountOf::Category(*category_))
                                                     : store->Count(CountOf::All());
    if (!count.has_value()) return ReportError(count.error());
    nlohmann::ordered_json out;
    out["count"] = *count;
    if (stream_.has_value()) out["stream"] = *stream_;
    if (category_.has_value()) out["category"] = *category_;
    WriteJsonLine(out);
    return FinishStdout(Written::kNothing);
  }

 private:
  std::optional<std::string> stream_;
  std::optional<std::string> category_;
};

}  // namespace

std::unique_ptr<Command> AddCountCommand(CLI::App& app) {
  return std::make_unique<CountCommand>(
      app.add_subcommand("count", "Count the events of $all, a stream or a category"));
}

}  // namespace cairn::cli
