#include "tests/e2e/cli_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace cairn::e2e {
namespace {

void WriteWholeFile(const std::string& path, const std::string& data) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << data;
  if (!file) throw std::runtime_error("cannot write " + path);
}

// fork + exec with RLIMIT_NOFILE set in the child (posix_spawn cannot set
// limits). Between fork and exec only async-signal-safe calls are made.
pid_t ForkWithFileLimit(char* const* argv, const char* stdin_path, const char* stdout_path,
                        const char* stderr_path, bool stderr_is_terminal, uint64_t max_open_files) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;  // the parent, or -1
  auto redirect = [](const char* path, int flags, int target) {
    const int fd = ::open(path, flags, 0644);
    if (fd < 0) ::_exit(127);
    if (fd != target) {
      if (::dup2(fd, target) < 0) ::_exit(127);
      ::close(fd);
    }
  };
  redirect(stdin_path, O_RDONLY, STDIN_FILENO);
  redirect(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, STDOUT_FILENO);
  redirect(stderr_path, stderr_is_terminal ? O_WRONLY | O_NOCTTY : O_WRONLY | O_CREAT | O_TRUNC,
           STDERR_FILENO);
  ::close_range(3, ~0u, 0);
  const rlimit limit = {static_cast<rlim_t>(max_open_files), static_cast<rlim_t>(max_open_files)};
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(127);
  ::execve(argv[0], argv, environ);
  ::_exit(127);
}

}  // namespace

std::string ReadWholeFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream out;
  out << file.rdbuf();
  return out.str();
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

CliRunner::CliRunner() : CliRunner(CAIRN_BINARY) {}

CliRunner::CliRunner(std::string binary) : binary_(std::move(binary)) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/cairn-e2e-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  }
  dir_ = pattern;
}

CliRunner::~CliRunner() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string CliRunner::Path(const std::string& name) const { return dir_ + "/" + name; }

pid_t CliRunner::Start(const std::vector<std::string>& args, const std::string& stdin_path,
                       const std::string& name, const std::string& stderr_path,
                       const ChildOptions& child) const {
  std::string out_path = child.stdout_path.empty() ? Path(name + ".stdout") : child.stdout_path;
  std::string err_path = Path(name + ".stderr");
  std::vector<std::string> argv_strings = {binary_};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  // A stale capture would be reported as this child's stdout.
  if (!child.stdout_path.empty()) ::unlink(Path(name + ".stdout").c_str());
  if (child.max_open_files != 0) {
    const pid_t pid =
        ForkWithFileLimit(argv.data(), stdin_path.c_str(), out_path.c_str(),
                          stderr_path.empty() ? err_path.c_str() : stderr_path.c_str(),
                          !stderr_path.empty(), child.max_open_files);
    if (pid < 0) {
      throw std::runtime_error("fork failed: " + std::string(std::strerror(errno)));
    }
    return pid;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                     O_WRONLY | O_NOCTTY, 0);
  }
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("posix_spawn " + argv_strings[0] + ": " + std::strerror(rc));
  }
  return pid;
}

RunResult CliRunner::Wait(pid_t pid, const std::string& name) const {
  int wait_status = 0;
  rusage usage{};
  while (::wait4(pid, &wait_status, 0, &usage) < 0) {
    if (errno != EINTR) throw std::runtime_error("wait4 failed");
  }
  RunResult result;
  result.max_rss_kib = usage.ru_maxrss;
  if (WIFEXITED(wait_status)) {
    result.exit_status = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    result.exit_status = 128 + WTERMSIG(wait_status);
  }
  result.out = ReadWholeFile(Path(name + ".stdout"));
  result.err = ReadWholeFile(Path(name + ".stderr"));
  return result;
}

std::string CliRunner::WaitForLines(pid_t pid, const std::string& name, size_t lines,
                                    std::chrono::seconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::string out = ReadWholeFile(Path(name + ".stdout"));
    if (static_cast<size_t>(std::count(out.begin(), out.end(), '\n')) >= lines) {
      return out;
    }
    // WNOWAIT: look without reaping, so Wait() still collects the status.
    siginfo_t info{};
    bool exited =
        ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid;
    if (exited || std::chrono::steady_clock::now() >= deadline) {
      return ReadWholeFile(Path(name + ".stdout"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ChildGuard::~ChildGuard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

RunResult CliRunner::Run(const std::vector<std::string>& args, const std::string& input) const {
  return Run(args, input, ChildOptions{});
}

RunResult CliRunner::Run(const std::vector<std::string>& args, const std::string& input,
                         const ChildOptions& child) const {
  std::string in_path = Path(".stdin");
  WriteWholeFile(in_path, input);
  return Wait(Start(args, in_path, ".run", "", child), ".run");
}

RunResult CliRunner::RunDb(const std::string& db, const std::vector<std::string>& args,
                           const std::string& input) const {
  std::vector<std::string> full = {"--db", Path(db)};
  full.insert(full.end(), args.begin(), args.end());
  return Run(full, input);
}

}  // namespace cairn::e2e
