// `cairn import [FILE|-]`: reads JSON lines (cli/json_codec.h) and appends
// them. Consecutive lines of one stream are batched into one append (at most
// kMaxBatchEvents events or kMaxBatchBytes bytes) with ExpectedRevision::Any.
// Lines of the engine-made events that export writes are re-created through
// the engine's own calls, after the pending batch, so order is kept:
//   stream "$$S", type "$metadata"  -> SetStreamMetadata(S, Any, data)
//   type "$streamDeleted"           -> TombstoneStream(stream, Any)
// (each counts as one imported event and one batch; their "id" cannot be
// kept: the engine makes those ids). The first bad line stops the import:
// what came before it is committed first, so every line before the bad one
// is stored. Prints the summary
// {"imported":N,"lines":L,"batches":B,"last_position":P} on stdout, with
// "duplicates" (events already stored by an identical earlier append, e.g.
// a re-import of the same lines with ids) when there were any, and
// "stopped_at_line" plus an error object on stderr when stopped.

#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cairn/store.h"
#include "cli/command.h"
#include "cli/json_codec.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

constexpr size_t kMaxBatchEvents = 1000;
constexpr uint64_t kMaxBatchBytes = 4ull << 20;

// Engine-made events, as export writes them.
enum class SystemEvent { kNone, kMetadata, kTombstone };

SystemEvent SystemEventOf(const ImportEvent& event) {
  if (event.event.type == "$metadata" && event.stream.starts_with("$$")) {
    return SystemEvent::kMetadata;
  }
  if (event.event.type == "$streamDeleted") return SystemEvent::kTombstone;
  return SystemEvent::kNone;
}

// Size of `path` when it is a regular file (for the progress bar), else 0.
uint64_t RegularFileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return static_cast<uint64_t>(st.st_size);
}

// Appends batches of one stream's consecutive events and keeps the counts
// that make up the summary.
class BatchWriter {
 public:
  explicit BatchWriter(Store& store) : store_(store) {}

  // Adds `event` of `stream` read from line `line`, first flushing the
  // pending batch when the stream changes or the batch is full.
  Status Add(ImportEvent event, uint64_t line) {
    uint64_t size = event.event.data.size() + event.event.metadata.size() +
                    event.event.type.size();
    if (!events_.empty() &&
        (event.stream != stream_ || events_.size() >= kMaxBatchEvents ||
         bytes_ + size > kMaxBatchBytes)) {
      CAIRN_RETURN_IF_ERROR(Flush());
    }
    if (events_.empty()) {
      stream_ = std::move(event.stream);
      first_line_ = line;
    }
    bytes_ += size;
    events_.push_back(std::move(event.event));
    return Status::OK();
  }

  // Appends the pending batch, if any. On failure nothing of the batch is
  // stored and failed_line() / failed_what() name its first line.
  Status Flush() {
    if (events_.empty()) return Status::OK();
    failed_what_ =
        "append of the batch starting at line " + std::to_string(first_line_);
    Result<AppendResult> result =
        store_.Append(stream_, ExpectedRevision::Any(), events_);
    if (!result.has_value()) return result.error();
    // An identical earlier append (same ids) is reported, not rewritten.
    (result->duplicate ? duplicates_ : imported_) += events_.size();
    ++batches_;
    last_position_ = result->position;
    events_.clear();
    bytes_ = 0;
    return Status::OK();
  }

  // Re-creates the engine-made `event` (of kind `kind`, read from line
  // `line`) after appending the pending batch. On failure nothing of it is
  // stored and failed_line() / failed_what() name it.
  Status AddSystem(const ImportEvent& event, SystemEvent kind, uint64_t line) {
    CAIRN_RETURN_IF_ERROR(Flush());
    first_line_ = line;
    CAIRN_ASSIGN_OR_RETURN(AppendResult result, ApplySystem(event, kind, line));
    ++imported_;
    ++batches_;
    last_position_ = result.position;
    return Status::OK();
  }

  uint64_t failed_line() const { return first_line_; }
  const std::string& failed_what() const { return failed_what_; }

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
    return out;
  }

 private:
  Result<AppendResult> ApplySystem(const ImportEvent& event, SystemEvent kind,
                                   uint64_t line) {
    if (kind == SystemEvent::kTombstone) {
      failed_what_ = "line " + std::to_string(line) + ": tombstoning stream '" +
                     event.stream + "'";
      return store_.TombstoneStream(event.stream, ExpectedRevision::Any());
    }
    const std::string stream = event.stream.substr(2);
    failed_what_ = "line " + std::to_string(line) +
                   ": setting the metadata of stream '" + stream + "'";
    CAIRN_ASSIGN_OR_RETURN(StreamMetadata metadata,
                           StreamMetadata::Parse(event.event.data));
    return store_.SetStreamMetadata(stream, ExpectedRevision::Any(), metadata);
  }

  Store& store_;
  std::string stream_;
  std::vector<EventData> events_;
  uint64_t bytes_ = 0;
  uint64_t first_line_ = 0;
  std::string failed_what_;  // what Flush() or AddSystem() tried last
  uint64_t imported_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t batches_ = 0;
  std::optional<Position> last_position_;
};

class ImportCommand : public Command {
 public:
  explicit ImportCommand(CLI::App* app) : Command(app) {
    app->add_option("file", file_, "JSON-lines file to read; - for stdin")
        ->default_val("-");
    app->footer(
        "Input: the lines of export (or read). A line of stream \"$$S\" and\n"
        "type \"$metadata\" sets the metadata of S; a line of type\n"
        "\"$streamDeleted\" tombstones its stream (both get new ids).\n"
        "Output: {\"imported\":N,\"lines\":L,\"batches\":B,"
        "\"last_position\":P}\n");
  }

  int Run(const GlobalOptions& global) override {
    std::ifstream file;
    std::istream* input = &std::cin;
    if (file_ != "-") {
      file.open(file_, std::ios::binary);
      if (!file.is_open()) {
        int err = errno;
        return ReportError(
            err == ENOENT
                ? Status::NotFound("import file '" + file_ + "' does not exist")
                : Status::FromErrno(err, "open", file_));
      }
      input = &file;
    }
    std::unique_ptr<Store> store;
    if (int rc = OpenStore(global, Access::kReadWrite, &store); rc != kExitOk) {
      return rc;
    }
    int rc = Import(*input, *store);
    int close_rc = CloseStore(*store);
    return rc != kExitOk ? rc : close_rc;
  }

 private:
  // Prints the summary, then `error` (with the line it concerns) on stderr,
  // its message prefixed by `what` + " failed: " when `what` is given.
  // Nothing from line `stopped_at` on is stored.
  int Stop(const BatchWriter& writer, uint64_t lines, uint64_t stopped_at,
           const Status& error, const std::string& what = "") {
    nlohmann::ordered_json summary = writer.Summary(lines);
    summary["stopped_at_line"] = stopped_at;
    WriteJsonLine(summary);
    nlohmann::ordered_json error_json = ErrorJson(error);
    if (!what.empty()) {
      error_json["message"] = what + " failed: " + error.message();
    }
    error_json["line"] = stopped_at;
    WriteErrorLine(error_json);
    return ExitStatusFor(error.code());
  }

  // Stops at what the writer failed to store.
  int StopAtBatch(const BatchWriter& writer, uint64_t lines,
                  const Status& error) {
    return Stop(writer, lines, writer.failed_line(), error,
                writer.failed_what());
  }

  int Import(std::istream& input, Store& store) {
    BatchWriter writer(store);
    ProgressBar progress("import", file_ == "-" ? 0 : RegularFileSize(file_));
    uint64_t lines = 0;
    uint64_t bytes_read = 0;
    std::string line;
    while (std::getline(input, line)) {
      ++lines;
      bytes_read += line.size() + 1;
      progress.Update(bytes_read);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      Result<ImportEvent> event = ParseImportLine(line);
      if (!event.has_value()) {
        Status flushed = writer.Flush();
        progress.Finish();
        if (!flushed.ok()) {
          return StopAtBatch(writer, lines, flushed);
        }
        return Stop(writer, lines, lines,
                    Status::InvalidArgument("line " + std::to_string(lines) +
                                            ": " + event.error().message()));
      }
      Status added = Status::OK();
      if (SystemEvent kind = SystemEventOf(*event);
          kind != SystemEvent::kNone) {
        added = writer.AddSystem(*event, kind, lines);
      } else {
        added = writer.Add(*std::move(event), lines);
      }
      if (!added.ok()) {
        progress.Finish();
        return StopAtBatch(writer, lines, added);
      }
    }
    Status flushed = writer.Flush();
    progress.Finish();
    if (!flushed.ok()) {
      return StopAtBatch(writer, lines, flushed);
    }
    if (input.bad()) {
      return Stop(writer, lines, lines + 1,
                  Status::IOError("reading " + file_ + " failed"));
    }
    WriteJsonLine(writer.Summary(lines));
    return kExitOk;
  }

  std::string file_;
};

}  // namespace

std::unique_ptr<Command> AddImportCommand(CLI::App& app) {
  return std::make_unique<ImportCommand>(app.add_subcommand(
      "import", "Append events from a JSON-lines file (or stdin)"));
}

}  // namespace cairn::cli
