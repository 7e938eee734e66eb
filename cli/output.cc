#include "cli/output.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

namespace cairn::cli {
namespace {

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int kBarWidth = 30;
constexpr int64_t kRedrawIntervalNs = 100'000'000;

}  // namespace

int ExitStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return kExitOk;
    case ErrorCode::kWrongExpectedRevision:
      return kExitWrongRevision;
    case ErrorCode::kNotFound:
      return kExitNotFound;
    case ErrorCode::kStreamDeleted:
      return kExitStreamDeleted;
    case ErrorCode::kCorruption:
      return kExitCorruption;
    case ErrorCode::kInvalidArgument:
      return kExitUsage;
    case ErrorCode::kIdempotencyConflict:
    case ErrorCode::kIOError:
    case ErrorCode::kNoSpace:
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kLocked:
    case ErrorCode::kReadOnly:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kCancelled:
    case ErrorCode::kUnavailable:
    case ErrorCode::kDeadlineExceeded:
    case ErrorCode::kUnimplemented:
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kClosed:
    case ErrorCode::kBusy:
    case ErrorCode::kReentrantCall:
    case ErrorCode::kSubjectErased:
      return kExitError;
  }
  return kExitError;
}

namespace {
std::string& CommandName() {
  static std::string name;
  return name;
}
}  // namespace

void SetCommandName(std::string_view name) { CommandName() = std::string(name); }

nlohmann::ordered_json ErrorJson(const Status& status) {
  nlohmann::ordered_json error;
  error["error"] = ErrorCodeName(status.code());
  error["message"] = status.message();
  if (const RevisionConflict* conflict = status.conflict()) {
    error["stream"] = conflict->stream;
    error["expected"] = conflict->expected;
    if (conflict->actual.has_value()) {
      error["actual"] = *conflict->actual;
    } else {
      error["actual"] = nullptr;
    }
  }
  if (status.code() == ErrorCode::kCorruption) {
    // The next steps of docs/operations.md ("Exit status 6").
    const std::string salvage =
        "`cairn export --salvage > saved.jsonl` writes every event still "
        "readable; damage to a file under index/ (runs, positions.idx, "
        "MANIFEST) is repaired by removing the index directory and opening "
        "the store for writing, which rebuilds it from the log";
    error["hint"] = CommandName() == "verify"
                        ? salvage
                        : "`cairn verify` lists every damaged place; " + salvage;
  }
  return error;
}

void WriteWarning(const Status& status, std::string_view context) {
  nlohmann::ordered_json warning;
  warning["warning"] = ErrorCodeName(status.code());
  warning["message"] = std::string(context) + ": " + status.message();
  WriteErrorLine(warning);
}

std::string DumpJson(const nlohmann::ordered_json& value) {
  return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void WriteErrorLine(const nlohmann::ordered_json& error) {
  std::string line = DumpJson(error);
  line.push_back('\n');
  std::fflush(stdout);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

int ReportError(const Status& status) {
  WriteErrorLine(ErrorJson(status));
  return ExitStatusFor(status.code());
}

int ReportUsageError(std::string_view message) {
  nlohmann::ordered_json error;
  error["error"] = ErrorCodeName(ErrorCode::kInvalidArgument);
  error["message"] = std::string(message);
  WriteErrorLine(error);
  return kExitUsage;
}

void WriteJsonLine(const nlohmann::ordered_json& value) {
  std::string line = DumpJson(value);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stdout);
}

ProgressBar::ProgressBar(std::string label, uint64_t total)
    : label_(std::move(label)), total_(total), enabled_(total > 0 && isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(uint64_t done, std::string_view detail) {
  if (!enabled_) return;
  int64_t now = SteadyNanos();
  if (drawn_ && last_draw_ns_ != 0 && now - last_draw_ns_ < kRedrawIntervalNs) {
    return;
  }
  last_draw_ns_ = now;
  Draw(done, detail);
}

void ProgressBar::Restart(std::string label, uint64_t total) {
  if (finished_) return;
  label_ = std::move(label);
  total_ = total;
  bool was_enabled = enabled_;
  enabled_ = total > 0 && isatty(STDERR_FILENO) == 1;
  if (was_enabled && !enabled_ && drawn_) {
    std::fputs("\r\033[2K", stderr);
    std::fflush(stderr);
    drawn_ = false;
  }
  last_draw_ns_ = 0;  // the new label shows at the next Update()
}

void ProgressBar::Draw(uint64_t done, std::string_view detail) {
  if (done > total_) done = total_;
  int filled = static_cast<int>(static_cast<double>(done) / total_ * kBarWidth);
  int percent = static_cast<int>(static_cast<double>(done) / total_ * 100);
  std::string bar(filled, '#');
  bar.append(kBarWidth - filled, '.');
  // \033[K clears what a longer earlier line left to the right.
  std::fprintf(stderr, "\r%s [%s] %3d%% %.*s\033[K", label_.c_str(), bar.c_str(), percent,
               static_cast<int>(detail.size()), detail.data());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Finish() {
  finished_ = true;
  if (!enabled_) return;
  enabled_ = false;
  if (drawn_) {
    // Erase the whole line so the next output starts clean.
    std::fputs("\r\033[2K", stderr);
    std::fflush(stderr);
  }
}

}  // namespace cairn::cli
