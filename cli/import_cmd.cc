// `cairn import [FILE|-]`: reads JSON lines (docs/format/jsonl.md) and
// stores them with Store::Restore, so an export imported into an empty
// store gives back the same store: a line's revision, position, id,
// creation time and bytes are kept (a position the store has passed goes to
// the next one; a line without a revision goes after its stream's last
// event). Lines are batched whatever their streams (up to kMaxBatchEvents
// events or kMaxBatchBytes bytes): one write and one fsync per batch.
//
// The first bad line stops the import, and every line before it is stored
// (a batch the engine refused because of one event is stored up to it).
// SIGINT and SIGTERM stop it the same way between two lines. The summary
// {"imported":N,"lines":L,"batches":B,"last_position":P} goes to stdout in
// every case, with "duplicates" (lines already stored: a re-run of an
// interrupted import) and "moved" (positions already passed) when not 0, and
// "stopped_at_line" when it stopped early, followed by the error on stderr.
// Exit status: 0 when every line is stored, else the error's (2 for a bad
// line).

#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cairn/native.h"
#include "cli/command.h"
#include "cli/interrupt.h"
#include "cli/json_codec.h"
#include "cli/line_reader.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

constexpr size_t kMaxBatchEvents = 1000;
constexpr uint64_t kMaxBatchBytes = 4ull << 20;
// A line holds one event: at most 16 MiB of stored bytes, some of them as
// base64 (4/3 longer), and whitespace that import removes.
constexpr size_t kMaxLineBytes = 2 * (16u << 20) + (1u << 20);

// Where an import stopped, and why.
struct Stop {
  uint64_t line = 0;
  Status error;
};

// Batches restored events and keeps the counts of the summary.
class Batcher {
 public:
  explicit Batcher(NativeStore& store) : store_(store) {}

  // Adds the event of line `line`, first storing the pending batch when it
  // is full. On failure, what was stored is counted and `*stop` says where
  // the import stops.
  bool Add(ImportEvent parsed, uint64_t line, Stop* stop) {
    const uint64_t size = parsed.event.data.size() + parsed.event.metadata.size() +
                          parsed.event.type.size() + parsed.stream.size();
    if (!events_.empty() && (events_.size() >= kMaxBatchEvents || bytes_ + size > kMaxBatchBytes)) {
      if (!Flush(stop)) return false;
    }
    RestoreEvent r;
    r.stream = std::move(parsed.stream);
    r.event = std::move(parsed.event);
    if (parsed.revision) {
      // Restored as it was: its revision, position and creation time.
      r.revision = StreamRevision(*parsed.revision);
      if (parsed.position) r.position = Position(*parsed.position);
      r.created_ns = parsed.created_ns;
    }
    r.caller_id = !parsed.id_generated;
    events_.push_back(std::move(r));
    lines_.push_back(line);
    bytes_ += size;
    return true;
  }

  // Stores the pending batch. On failure stores the events before the one
  // the engine refused, if it named one, and sets *stop.
  bool Flush(Stop* stop) {
    if (events_.empty()) return true;
    size_t failed = SIZE_MAX;
    Result<RestoreResult> r = store_.Restore(events_, &failed);
    if (r.has_value()) {
      Count(*r);
      Clear();
      return true;
    }
    Status error = r.error();
    if (failed < events_.size()) {
      stop->line = lines_[failed];
      stop->error =
          Status(error.code(), "line " + std::to_string(stop->line) + ": " + error.message());
      if (failed > 0) {
        Result<RestoreResult> before =
            store_.Restore(std::span<const RestoreEvent>(events_).first(failed));
        if (!before.has_value()) {
          stop->line = lines_[0];
          stop->error =
              Status(before.error().code(), "storing lines " + std::to_string(lines_[0]) + " to " +
                                                std::to_string(lines_[failed] - 1) +
                                                " failed: " + before.error().message());
        } else {
          Count(*before);
        }
      }
    } else {
      stop->line = lines_[0];
      stop->error =
          Status(error.code(), "storing the batch of lines " + std::to_string(lines_[0]) + " to " +
                                   std::to_string(lines_.back()) +
                                   " failed (none of them is stored): " + error.message());
    }
    Clear();
    return false;
  }

  bool stored_any() const { return imported_ > 0; }

  nlohmann::ordered_json Summary(uint64_t lines) const {
    nlohmann::ordered_json out;
    out["imported"] = imported_;
    out["lines"] = lines;
    out["batches"] = batches_;
    if (last_position_.has_value()) {
      out["last_position"] = last_position_->value();
    } else {
      out["last_position"] = nullptr;
    }
    if (duplicates_ > 0) out["duplicates"] = duplicates_;
    if (moved_ > 0) out["moved"] = moved_;
    return out;
  }

 private:
  void Count(const RestoreResult& r) {
    imported_ += r.written;
    duplicates_ += r.duplicates;
    moved_ += r.moved;
    ++batches_;
    if (r.last_position) last_position_ = r.last_position;
  }
  void Clear() {
    events_.clear();
    lines_.clear();
    bytes_ = 0;
  }

  NativeStore& store_;
  std::vector<RestoreEvent> events_;
  std::vector<uint64_t> lines_;  // the line of each pending event
  uint64_t bytes_ = 0;
  uint64_t imported_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t moved_ = 0;
  uint64_t batches_ = 0;
  std::optional<Position> last_position_;
};

class ImportCommand : public Command {
 public:
  explicit ImportCommand(CLI::App* app) : Command(app) {
    app->add_option("file", file_, "JSON-lines file to read; - for stdin")->default_val("-");
    app->footer(
        "Input: the lines of export (docs/format/jsonl.md). A line with a\n"
        "revision is restored as it was (revision, position, id, creation\n"
        "time); one without goes after its stream's last event. Lines\n"
        "already stored (same stream, revision and id) count as duplicates:\n"
        "an interrupted import can be run again.\n"
        "Output: {\"imported\":N,\"lines\":L,\"batches\":B,"
        "\"last_position\":P}\n"
        "(+ \"duplicates\", \"moved\", and \"stopped_at_line\" with an error\n"
        "on stderr when it stops early). SIGINT/SIGTERM stop it between\n"
        "lines with every line before stored.\n");
  }

  int Run(const GlobalOptions& global) override {
    // Before the store opens, so that the engine's threads start with the
    // signals blocked and only the watcher takes them.
    InterruptWatcher interrupts;
    Result<LineReader> input = LineReader::Open(file_, kMaxLineBytes);
    if (!input.has_value()) return ReportError(input.error());
    input->set_wake_fd(interrupts.wake_fd());
    std::unique_ptr<NativeStore> store;
    if (int rc = OpenStore(global, Access::kReadWrite, &store); rc != kExitOk) {
      return rc;
    }
    Batcher batcher(*store);
    const int rc = Import(*input, batcher, interrupts);
    const Written written = batcher.stored_any() ? Written::kStored : Written::kNothing;
    if (int out = FinishStdout(written); out != kExitOk && rc == kExitOk) return out;
    const int close_rc = CloseStore(*store, written);
    return rc != kExitOk ? rc : close_rc;
  }

 private:
  // Prints the summary and the error of `stop` (every line before
  // stop.line is stored) and returns its exit status.
  static int Report(const Batcher& batcher, uint64_t lines, const Stop& stop) {
    // Lines read past the one it stopped at (a batch is checked when it is
    // stored) do not count.
    nlohmann::ordered_json summary = batcher.Summary(std::min(lines, stop.line));
    summary["stopped_at_line"] = stop.line;
    WriteJsonLine(summary);
    nlohmann::ordered_json error = ErrorJson(stop.error);
    error["line"] = stop.line;
    WriteErrorLine(error);
    return ExitStatusFor(stop.error.code());
  }

  int Import(LineReader& input, Batcher& batcher, const InterruptWatcher& interrupts) {
    ProgressBar progress("import", file_ == "-" ? 0 : FileSize(file_));
    uint64_t lines = 0;
    Stop stop;
    auto stop_here = [&](uint64_t line, Status error) {
      progress.Finish();
      // What is pending is stored first: every line before `line` is.
      if (!batcher.Flush(&stop)) return Report(batcher, lines, stop);
      stop.line = line;
      stop.error = std::move(error);
      return Report(batcher, lines, stop);
    };
    for (;;) {
      if (interrupts.interrupted()) {
        return stop_here(lines + 1,
                         Status(ErrorCode::kCancelled,
                                "interrupted by a signal before line " + std::to_string(lines + 1) +
                                    ": every line before it is stored; run the same import "
                                    "again to go on (stored lines count as duplicates)"));
      }
      // A slow producer (a pipe from a live feed): store what is pending
      // before waiting for more, so readers see it now.
      if (input.WouldWait() && !batcher.Flush(&stop)) {
        progress.Finish();
        return Report(batcher, lines, stop);
      }
      Result<std::optional<std::string_view>> next = input.Next();
      if (!next.has_value()) {
        if (next.error().code() == ErrorCode::kCancelled) continue;  // reported above
        lines = input.line_number();  // the line it stopped at counts as read
        return stop_here(lines, next.error());
      }
      if (!next->has_value()) break;
      std::string_view line = **next;
      lines = input.line_number();
      progress.Update(input.bytes_read());
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
      Result<ImportEvent> event = ParseImportLine(line);
      if (!event.has_value()) {
        return stop_here(lines, Status::InvalidArgument("line " + std::to_string(lines) + ": " +
                                                        event.error().message()));
      }
      if (!batcher.Add(*std::move(event), lines, &stop)) {
        progress.Finish();
        return Report(batcher, lines, stop);
      }
    }
    progress.Finish();
    if (!batcher.Flush(&stop)) return Report(batcher, lines, stop);
    WriteJsonLine(batcher.Summary(lines));
    return kExitOk;
  }

  // Size of `path` when it is a regular file (for the progress bar), else 0.
  static uint64_t FileSize(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    return static_cast<uint64_t>(st.st_size);
  }

  std::string file_;
};

}  // namespace

std::unique_ptr<Command> AddImportCommand(CLI::App& app) {
  return std::make_unique<ImportCommand>(app.add_subcommand(
      "import", "Store events from a JSON-lines file (or stdin), as export wrote them"));
}

}  // namespace cairn::cli
