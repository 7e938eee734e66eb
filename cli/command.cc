#include "cli/command.h"

#include <cerrno>
#include <cstdio>

#include "cli/output.h"

namespace cairn::cli {

int OpenStore(const GlobalOptions& global, Access access, std::unique_ptr<NativeStore>* store) {
  if (global.db.empty()) {
    return ReportUsageError("--db DIR is required for this command");
  }
  NativeOptions options;
  if (access == Access::kReadOnly) options.read_only = true;
  if (access != Access::kReadWrite) options.create_if_missing = false;
  Result<std::unique_ptr<NativeStore>> opened = NativeStore::Open(global.db, options);
  if (!opened.has_value()) return ReportError(opened.error());
  *store = std::move(opened).value();
  return kExitOk;
}

int CloseStore(NativeStore& store, Written written) {
  Status status = store.Close();
  if (status.ok()) return kExitOk;
  if (written == Written::kStored) {
    WriteWarning(status,
                 "the events are stored (durable in the log), but closing the store "
                 "failed; its next open indexes them again");
    return kExitOk;
  }
  return ReportError(status);
}

int FinishStored(NativeStore& store) {
  (void)FinishStdout(Written::kStored);
  return CloseStore(store, Written::kStored);
}

int FinishStdout(Written written) {
  const bool failed = std::fflush(stdout) != 0 || std::ferror(stdout) != 0;
  if (!failed) return kExitOk;
  const Status status = Status::FromErrno(errno, "write", "stdout");
  if (written == Written::kStored) {
    WriteWarning(status, "the events are stored, but the result could not be written");
    return kExitOk;
  }
  return ReportError(status);
}

}  // namespace cairn::cli
