// `cairn read STREAM [--from REV] [--backwards] [--limit N]` and
// `cairn read-all [--from POS] [--backwards] [--limit N] [filter flags]`:
// print events as JSON lines (cli/json_codec.h), empty metadata as null.
// read-all's filter flags are those of cli/filter_flags.h; --limit counts
// the events printed, not those skipped by the filter. With exactly one
// --category, read-all is a category read (Store::ReadCategory); otherwise,
// with exactly one --type, an event-type read (Store::ReadEventType); the
// other flags narrow either further. Category and type reads go through the
// engine's index and, by the engine's specification, apply stream retention
// ("$maxCount", "$maxAge", "$tb") and hide soft-deleted and tombstoned
// streams (tombstones included); the $all read shows every stored event.
// Read-only opens.

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "cairn/native.h"
#include "cli/command.h"
#include "cli/filter_flags.h"
#include "cli/json_codec.h"
#include "cli/number_flags.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

// Options shared by read and read-all.
struct ReadFlags {
  std::optional<uint64_t> from;
  bool backwards = false;
  std::optional<uint64_t> limit;

  void Add(CLI::App* app, const char* from_help) {
    AddUnsignedOption(app, "--from", &from, from_help);
    app->add_flag("--backwards", backwards, "Read from newest to oldest");
    AddUnsignedOption(app, "--limit", &limit, "Return at most N events");
  }
  Direction direction() const { return backwards ? Direction::kBackwards : Direction::kForwards; }
  uint64_t max_count() const { return limit.value_or(UINT64_MAX); }
};

// Runs `read` (a call of Store::ReadStream or ReadAll with a visitor) and
// prints each event it visits.
template <typename ReadFn>
int PrintEvents(ReadFn read) {
  bool write_failed = false;
  Status status = read([&](const EventView& event) {
    std::string line = EventToJsonLine(event, LineMode::kRead);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
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
    if (stream_ == "$all") {
      return ReportUsageError("'$all' is not a stream: `cairn read-all` reads $all");
    }
    std::unique_ptr<NativeStore> store;
    if (int rc = OpenStore(global, Access::kReadOnly, &store); rc != kExitOk) {
      return rc;
    }
    ReadStreamOptions options;
    options.direction = flags_.direction();
    if (flags_.from.has_value()) options.from = StreamRevision(*flags_.from);
    options.max_count = flags_.max_count();
    return PrintEvents(
        [&](const EventVisitor& visit) { return store->ReadStream(stream_, options, visit); });
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
        "Without --category/--type: every stored event of $all, system events\n"
        "included; retention and deletes hide nothing until a scavenge.\n"
        "Exactly one --category C: a category read through the index;\n"
        "otherwise exactly one --type T: an event-type read. Like stream\n"
        "reads, these apply stream retention ($maxCount, $maxAge, $tb)\n"
        "and hide soft-deleted and tombstoned streams, tombstones included.\n"
        "The other flags narrow further. To see what they hide, scan $all\n"
        "instead: --stream-prefix C- or --type-regex '^T$'.\n");
  }

  int Run(const GlobalOptions& global) override {
    std::unique_ptr<NativeStore> store;
    if (int rc = OpenStore(global, Access::kReadOnly, &store); rc != kExitOk) {
      return rc;
    }
    ReadAllOptions options;
    options.direction = flags_.direction();
    if (flags_.from.has_value()) options.from = Position(*flags_.from);
    options.max_count = flags_.max_count();
    options.filter = filter_.ToFilter();
    if (options.filter.categories.size() == 1) {
      std::string category = std::move(options.filter.categories.front());
      options.filter.categories.clear();
      return PrintEvents(
          [&](const EventVisitor& visit) { return store->ReadCategory(category, options, visit); });
    }
    if (options.filter.types.size() == 1) {
      std::string type = std::move(options.filter.types.front());
      options.filter.types.clear();
      return PrintEvents(
          [&](const EventVisitor& visit) { return store->ReadEventType(type, options, visit); });
    }
    return PrintEvents([&](const EventVisitor& visit) { return store->ReadAll(options, visit); });
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
