#include "cli/command.h"

#include "cli/output.h"

namespace cairn::cli {

int OpenStore(const GlobalOptions& global, Access access,
              std::unique_ptr<Store>* store) {
  if (global.db.empty()) {
    return ReportUsageError("--db DIR is required for this command");
  }
  StoreOptions options;
  if (access == Access::kReadOnly) options.read_only = true;
  if (access != Access::kReadWrite) options.create_if_missing = false;
  Result<std::unique_ptr<Store>> opened = Store::Open(global.db, options);
  if (!opened.has_value()) return ReportError(opened.error());
  *store = std::move(opened).value();
  return kExitOk;
}

int CloseStore(Store& store) {
  Status status = store.Close();
  if (!status.ok()) return ReportError(status);
  return kExitOk;
}

}  // namespace cairn::cli
