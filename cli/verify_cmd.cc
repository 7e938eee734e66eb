// `cairn verify`: checks every record checksum and index entry (read-only)
// and prints {"ok":bool,"records":N,"events":N,"index_entries":N,
// "problems":[{"file":F,"offset":O,"what":W},...]}. Exits kExitCorruption
// when problems were found. Every damaged place is listed, past the first
// one. A store that refuses to open (damage in the middle of its log, lost
// segments, a damaged index) is still checked: its log is read without the
// index (SalvageLog), the reason it does not open is the first problem, and
// "opens":false says so.

#include <memory>

#include "cairn/native.h"
#include "cairn/salvage.h"
#include "cli/command.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

nlohmann::ordered_json Problem(const std::string& file, uint64_t offset, const std::string& what) {
  nlohmann::ordered_json item;
  item["file"] = file;
  item["offset"] = offset;
  item["what"] = what;
  return item;
}

class VerifyCommand : public Command {
 public:
  explicit VerifyCommand(CLI::App* app) : Command(app) {
    app->footer(
        "Lists every damaged place (file, offset, what), also in a store that\n"
        "does not open. Next steps on exit 6: docs/operations.md.\n");
  }

  int Run(const GlobalOptions& global) override {
    if (global.db.empty()) return ReportUsageError("--db DIR is required for this command");
    NativeOptions options;
    options.read_only = true;
    options.create_if_missing = false;
    Result<std::unique_ptr<NativeStore>> store = NativeStore::Open(global.db, options);
    if (!store.has_value()) {
      if (store.error().code() == ErrorCode::kNotFound) return ReportError(store.error());
      return VerifyUnopened(global.db, store.error());
    }
    VerifyReport report;
    if (Status status = (*store)->Verify(&report); !status.ok()) {
      return ReportError(status);
    }
    nlohmann::ordered_json out;
    out["ok"] = report.problems.empty();
    out["records"] = report.records_checked;
    out["events"] = report.events_checked;
    out["index_entries"] = report.index_entries_checked;
    out["problems"] = nlohmann::ordered_json::array();
    for (const VerifyProblem& problem : report.problems) {
      out["problems"].push_back(Problem(problem.file, problem.offset, problem.what));
    }
    WriteJsonLine(out);
    if (int rc = FinishStdout(Written::kNothing); rc != kExitOk) return rc;
    return report.problems.empty() ? kExitOk : kExitCorruption;
  }

 private:
  // The store does not open: say why, and list what the log itself shows.
  static int VerifyUnopened(const std::string& dir, const Status& why) {
    nlohmann::ordered_json out;
    out["ok"] = false;
    out["opens"] = false;
    nlohmann::ordered_json problems = nlohmann::ordered_json::array();
    problems.push_back(Problem(dir, 0, "the store does not open: " + why.message()));
    Result<SalvageReport> log = SalvageLog(dir, [](const EventView&) { return true; });
    if (log.has_value()) {
      out["records"] = log->records;
      out["events"] = log->events;
      for (const SalvageDamage& d : log->damage) {
        problems.push_back(Problem(d.file, d.offset,
                                   d.what + " (" + std::to_string(d.bytes) +
                                       " bytes hold no whole record" +
                                       (d.torn_tail ? "; an unfinished last write" : "") + ")"));
      }
    } else {
      problems.push_back(
          Problem(dir + "/log", 0, "the log cannot be read: " + log.error().message()));
    }
    out["problems"] = std::move(problems);
    WriteJsonLine(out);
    if (int rc = FinishStdout(Written::kNothing); rc != kExitOk) return rc;
    // Not opening is a problem of its own kind when nothing is damaged (a
    // lock, a permission): its own exit status.
    return why.code() == ErrorCode::kCorruption ? kExitCorruption : ExitStatusFor(why.code());
  }
};

}  // namespace

std::unique_ptr<Command> AddVerifyCommand(CLI::App& app) {
  return std::make_unique<VerifyCommand>(
      app.add_subcommand("verify", "Check every record checksum and index entry"));
}

}  // namespace cairn::cli
