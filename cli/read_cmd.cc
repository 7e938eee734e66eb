// `cairn read STREAM [--from REV] [--backwards] [--limit N]` and
// `cairn read-all [--from POS] [--backwards] [--limit N] [filter flags]`:
// print events as JSON lines (cli/json_codec.h), empty metadata as null.
// read-all's filter flags are those of cli/filter_flags.h; --limit counts
// the events printed, not those skipped by the filter. One --category or one
// --type is read through the engine's index when that gives $all's output
// (cli/index_read.h). Read-only opens.

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cairn/store.h"
#include "cli/command.h"
#include "cli/filter_flags.h"
#include "cli/index_read.h"
#include "cli/json_codec.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

// Options shared by read and read-all.
struct ReadFlags {
  std::optional<uint64_t> from;
  bool backwards = false;
  std::optional<uint64_t> limit;

  void Add(CLI::App* app, const char* from_help) {
    app->add_option("--from", from, from_help);
    app->add_flag("--backwards", backwards, "Read from newest to oldest");
    app->add_option("--limit", limit, "Return at most N events");
  }
  Direction direction() const {
    return backwards ? Direction::kBackwards : Direction::kForwards;
  }
  uint64_t max_count() const { return limit.value_or(UINT64_MAX); }
};

// Runs `read` (a call of Store::ReadStream or ReadAll with a visitor) and
// prints each event it visits.
template <typename ReadFn>
int PrintEvents(ReadFn read) {
  bool write_failed = false;
  Status status = read([&](const EventView& event) {
    WriteJsonLine(EventToJson(event, EmptyMetadata::kNull));
    write_failed = std::ferror(stdout) != 0;
    return !write_failed;
  });
  if (!status.ok()) return ReportError(status);
  if (std::fflush(stdout) != 0 || write_failed) {
    return ReportError(Status::FromErrno(errno, "write", "stdout"));
  }
  return kExitOk;
}

class ReadCommand : public Command {
 public:
  explicit ReadCommand(CLI::App* app) : Command(app) {
    app->add_option("stream", stream_, "Stream to read")->required();
    flags_.Add(app, "First revision to return (inclusive)");
  }

  int Run(const GlobalOptions& global) override {
    std::unique_ptr<Store> store;
    if (int rc = OpenStore(global, Access::kReadOnly, &store); rc != kExitOk) {
      return rc;
    }
    ReadStreamOptions options;
    options.direction = flags_.direction();
    if (flags_.from.has_value()) options.from = StreamRevision(*flags_.from);
    options.max_count = flags_.max_count();
    return PrintEvents([&](const EventVisitor& visit) {
      return store->ReadStream(stream_, options, visit);
    });
  }

 private:
  std::string stream_;
  ReadFlags flags_;
};

class ReadAllCommand : public Command {
 public:
  explicit ReadAllCommand(CLI::App* app) : Command(app) {
    flags_.Add(app, "First position to return (inclusive)");
    filter_.Add(app);
    app->footer(
        "Every stored event, system events included (retention and deletes\n"
        "hide nothing here). One --category (or one --type) is read through\n"
        "the category (type) index when a check shows that gives the same\n"
        "output; otherwise $all is scanned.\n");
  }

  int Run(const GlobalOptions& global) override {
    std::unique_ptr<Store> store;
    if (int rc = OpenStore(global, Access::kReadOnly, &store); rc != kExitOk) {
      return rc;
    }
    ReadAllOptions options;
    options.direction = flags_.direction();
    if (flags_.from.has_value()) options.from = Position(*flags_.from);
    options.max_count = flags_.max_count();
    Result<ReadAllPlan> plan = PlanReadAll(*store, filter_.ToFilter());
    if (!plan.has_value()) return ReportError(plan.error());
    return PrintEvents([&](const EventVisitor& visit) {
      return RunReadAll(*store, *plan, options, visit);
    });
  }

 private:
  ReadFlags flags_;
  FilterFlags filter_;
};

}  // namespace

std::unique_ptr<Command> AddReadCommand(CLI::App& app) {
  return std::make_unique<ReadCommand>(
      app.add_subcommand("read", "Print the events of one stream"));
}

std::unique_ptr<Command> AddReadAllCommand(CLI::App& app) {
  return std::make_unique<ReadAllCommand>(
      app.add_subcommand("read-all", "Print the events of $all"));
}

}  // namespace cairn::cli
