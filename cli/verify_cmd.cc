// `cairn verify`: checks every record checksum and index entry (read-only)
// and prints {"ok":bool,"records":N,"events":N,"index_entries":N,
// "problems":[{"file":F,"offset":O,"what":W},...]}. Exits kExitCorruption
// when problems were found.

#include <memory>

#include "cairn/store.h"
#include "cli/command.h"
#include "cli/output.h"

namespace cairn::cli {
namespace {

class VerifyCommand : public Command {
 public:
  explicit VerifyCommand(CLI::App* app) : Command(app) {}

  int Run(const GlobalOptions& global) override {
    std::unique_ptr<Store> store;
    if (int rc = OpenStore(global, Access::kReadOnly, &store); rc != kExitOk) {
      return rc;
    }
    VerifyReport report;
    if (Status status = store->Verify(&report); !status.ok()) {
      return ReportError(status);
    }
    nlohmann::ordered_json out;
    out["ok"] = report.problems.empty();
    out["records"] = report.records_checked;
    out["events"] = report.events_checked;
    out["index_entries"] = report.index_entries_checked;
    out["problems"] = nlohmann::ordered_json::array();
    for (const VerifyProblem& problem : report.problems) {
      nlohmann::ordered_json item;
      item["file"] = problem.file;
      item["offset"] = problem.offset;
      item["what"] = problem.what;
      out["problems"].push_back(std::move(item));
    }
    WriteJsonLine(out);
    return report.problems.empty() ? kExitOk : kExitCorruption;
  }
};

}  // namespace

std::unique_ptr<Command> AddVerifyCommand(CLI::App& app) {
  return std::make_unique<VerifyCommand>(app.add_subcommand(
      "verify", "Check every record checksum and index entry"));
}

}  // namespace cairn::cli
