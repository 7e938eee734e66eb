// `cairn tail [STREAM | --all | --category C | --type T] [--from N |
// --from-end] [--until-caught-up] [filter flags]`: prints the events of a
// catch-up subscription as JSON lines (the form of `read`), history first,
// then live as they are appended, flushing stdout after each line. Opens the
// store read-only, so it follows a writer running in another process.
// SIGINT or SIGTERM cancels the subscription and exits 0; --until-caught-up
// exits 0 once the history is printed. Caught-up and fell-behind signals
// print nothing on stdout, only a note on stderr when it is a terminal.

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cairn/native.h"
#include "cairn/subscription.h"
#include "cli/command.h"
#include "cli/filter_flags.h"
#include "cli/interrupt.h"
#include "cli/json_codec.h"
#include "cli/number_flags.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

// How long one Next() waits for live events. A signal cancels the wait at
// once; this only bounds how long a missed wake-up could delay the exit.
constexpr std::chrono::milliseconds kWaitSlice(200);

// A view of `event` for EventToJsonLine; valid while `event` is.
EventView ViewOf(const RecordedEvent& event) {
  EventView view;
  view.stream = event.stream;
  view.revision = event.revision;
  view.position = event.position;
  view.id = event.id;
  view.type = event.type;
  view.content_type = event.content_type;
  view.data = event.data;
  view.metadata = event.metadata;
  view.created_ns = event.created_ns;
  view.caller_id = event.caller_id;
  return view;
}

class TailCommand : public Command {
 public:
  explicit TailCommand(CLI::App* app) : Command(app) {
    CLI::Option* stream =
        app->add_option("stream", stream_, "Stream to follow (--from counts its revisions)")
            ->type_name("STREAM");
    CLI::Option* all = app->add_flag("--all", all_,
                                     "Follow $all (--from counts positions), narrowed by "
                                     "the filter flags when given");
    stream->excludes(all);
    CLI::Option* from =
        AddUnsignedOption(app, "--from", &from_,
                          "Start after position N ($all, category, type) or revision N "
                          "(STREAM), exclusive: pass the last one already seen");
    CLI::Option* from_end =
        app->add_flag("--from-end", from_end_, "Skip history: only events appended from now");
    from->excludes(from_end);
    app->add_flag("--until-caught-up", until_caught_up_,
                  "Exit 0 once history is printed instead of following live");
    filter_.Add(app);
    app->footer(
        "What to follow: STREAM, or $all with --all, a category with\n"
        "--category C, or an event type with --type T. --category and\n"
        "--type are filters too: given several times they narrow $all to\n"
        "any of them, and with STREAM or --all they narrow those. Every\n"
        "filter flag given must hold.\n"
        "Output: the JSON lines of read, flushed as events arrive. SIGINT\n"
        "(Ctrl-C) or SIGTERM stops with exit status 0. Errors: one JSON\n"
        "object on stderr, exit status as for every command (cairn --help).\n");
  }

  int Run(const GlobalOptions& global) override {
    if (stream_ == "$all") {
      return ReportUsageError("'$all' is not a stream: `cairn tail --all` follows $all");
    }
    SubscribeOptions options;
    if (int rc = BuildOptions(&options); rc != kExitOk) return rc;
    // Before the store opens, so every engine thread inherits the blocked
    // signals and only the watcher ever takes them.
    InterruptWatcher watcher;
    std::unique_ptr<NativeStore> store;
    if (int rc = OpenStore(global, Access::kReadOnly, &store); rc != kExitOk) {
      return rc;
    }
    Result<std::unique_ptr<Subscription>> subscribed = store->Subscribe(options);
    if (!subscribed.has_value()) return ReportError(subscribed.error());
    // Declared after `store`, so destroyed before it, as the engine requires.
    std::unique_ptr<Subscription> subscription = *std::move(subscribed);
    watcher.Attach(subscription.get());
    int rc = Follow(*subscription, watcher);
    watcher.Attach(nullptr);
    return rc;
  }

 private:
  // Fills `*options` from the flags; returns kExitOk or reports a usage
  // error and returns kExitUsage.
  int BuildOptions(SubscribeOptions* options) const {
    EventFilter filter = filter_.ToFilter();
    if (stream_.has_value()) {
      *options = SubscribeOptions::Stream(*stream_);
    } else if (all_) {
      *options = SubscribeOptions::All();
    } else if (filter.categories.size() == 1) {
      *options = SubscribeOptions::Category(filter.categories.front());
      filter.categories.clear();
    } else if (filter.types.size() == 1 && filter.categories.empty()) {
      *options = SubscribeOptions::EventType(filter.types.front());
      filter.types.clear();
    } else if (!filter.categories.empty() || !filter.types.empty()) {
      // Several categories or types: $all with any of them.
      *options = SubscribeOptions::All();
    } else {
      return ReportUsageError("tail needs what to follow: STREAM, --all, --category C or --type T");
    }
    options->filter = std::move(filter);
    if (from_) {
      if (options->target == SubscribeOptions::Target::kStream) {
        options->after_revision = StreamRevision(*from_);
      } else {
        options->after = Position(*from_);
      }
    }
    options->from_end = from_end_;
    return kExitOk;
  }

  // Prints messages until caught up (--until-caught-up), interrupted or
  // failed; returns the exit status.
  int Follow(Subscription& subscription, const InterruptWatcher& watcher) {
    const bool note = isatty(STDERR_FILENO) == 1;
    for (;;) {
      Result<std::optional<SubscriptionMessage>> next = subscription.Next(kWaitSlice);
      // An interrupted tail exits 0, whatever Next() returned (kCancelled).
      if (watcher.interrupted()) return kExitOk;
      if (!next.has_value()) return ReportError(next.error());
      if (!next->has_value()) continue;
      const SubscriptionMessage& message = **next;
      switch (message.kind) {
        case SubscriptionMessage::Kind::kEvent: {
          std::string line = EventToJsonLine(ViewOf(message.event), LineMode::kRead);
          line.push_back('\n');
          std::fwrite(line.data(), 1, line.size(), stdout);
          if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
            return ReportError(Status::FromErrno(errno, "write", "stdout"));
          }
          break;
        }
        case SubscriptionMessage::Kind::kCaughtUp:
          if (until_caught_up_) return kExitOk;
          if (note) {
            std::fprintf(stderr,
                         "cairn tail: caught up (head position %llu); "
                         "following, Ctrl-C to stop\n",
                         static_cast<unsigned long long>(message.position.value()));
          }
          break;
        case SubscriptionMessage::Kind::kFellBehind:
          if (note) {
            std::fprintf(stderr,
                         "cairn tail: fell behind (head position %llu); "
                         "reading history\n",
                         static_cast<unsigned long long>(message.position.value()));
          }
          break;
        case SubscriptionMessage::Kind::kCheckpoint:
          break;  // nothing passed the filter so far: nothing to print
      }
    }
  }

  std::optional<std::string> stream_;
  bool all_ = false;
  std::optional<uint64_t> from_;
  bool from_end_ = false;
  bool until_caught_up_ = false;
  FilterFlags filter_;
};

}  // namespace

std::unique_ptr<Command> AddTailCommand(CLI::App& app) {
  return std::make_unique<TailCommand>(
      app.add_subcommand("tail",
                         "Print the events of a stream, $all, a category or a type, "
                         "then follow live ones until interrupted"));
}

}  // namespace cairn::cli
