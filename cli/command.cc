#include "cli/command.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "cli/output.h"

namespace cairn::cli {
namespace {

// The directory of the running binary ("" when /proc does not say).
std::string OwnDirectory() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

}  // namespace

int ExecCompanion(const std::string& program, std::vector<std::string> args,
                  const std::string& what) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  const std::string dir = OwnDirectory();
  if (!dir.empty()) {
    const std::string beside = dir + "/" + program;
    ::execv(beside.c_str(), argv.data());  // returns only on failure
  }
  ::execvp(program.c_str(), argv.data());
  const int err = errno;
  return ReportError(
      Status(ErrorCode::kUnimplemented,
             "cannot run " + program + " (" + std::string(std::strerror(err)) + "; looked in " +
                 (dir.empty() ? std::string("PATH") : "'" + dir + "' and PATH") + "): " + what));
}

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
