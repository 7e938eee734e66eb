#include "cli/line_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace cairn::cli {
namespace {
constexpr size_t kReadBytes = 1u << 20;
}  // namespace

Result<LineReader> LineReader::Open(const std::string& path, size_t max_line_bytes) {
  if (path == "-") return LineReader(STDIN_FILENO, false, "stdin", max_line_bytes);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::InvalidArgument("import file '" + path + "' does not exist");
    return Status::FromErrno(err, "open", path);
  }
  return LineReader(fd, true, path, max_line_bytes);
}

LineReader::LineReader(int fd, bool owned, std::string name, size_t max_line_bytes)
    : fd_(fd), owned_(owned), name_(std::move(name)), max_line_bytes_(max_line_bytes) {}

LineReader::LineReader(LineReader&& other) noexcept
    : fd_(other.fd_),
      owned_(other.owned_),
      name_(std::move(other.name_)),
      max_line_bytes_(other.max_line_bytes_),
      buf_(std::move(other.buf_)),
      start_(other.start_),
      eof_(other.eof_),
      line_number_(other.line_number_),
      consumed_(other.consumed_),
      wake_fd_(other.wake_fd_) {
  other.owned_ = false;
}

LineReader::~LineReader() {
  if (owned_) ::close(fd_);
}

bool LineReader::WouldWait() const {
  if (eof_) return false;
  if (std::memchr(buf_.data() + start_, '\n', buf_.size() - start_) != nullptr) return false;
  pollfd fd = {fd_, POLLIN, 0};
  return ::poll(&fd, 1, 0) == 0;
}

Result<bool> LineReader::Fill() {
  if (eof_) return false;
  // Drop what was consumed before growing the buffer.
  if (start_ > 0) {
    buf_.erase(0, start_);
    start_ = 0;
  }
  if (wake_fd_ >= 0) {
    // Wait for input or the wake-up, whichever comes first.
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int ready;
    do {
      ready = ::poll(fds, 2, -1);
    } while (ready < 0 && errno == EINTR);
    if (ready > 0 && (fds[1].revents & POLLIN) != 0) {
      return Status(ErrorCode::kCancelled, "interrupted by a signal while reading " + name_);
    }
  }
  const size_t old = buf_.size();
  buf_.resize(old + kReadBytes);
  ssize_t n;
  do {
    n = ::read(fd_, buf_.data() + old, kReadBytes);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    const int err = errno;
    buf_.resize(old);
    return Status::FromErrno(err, "read", name_);
  }
  buf_.resize(old + static_cast<size_t>(n));
  if (n == 0) eof_ = true;
  return n > 0;
}

Result<std::optional<std::string_view>> LineReader::Next() {
  size_t scanned = 0;  // bytes of the current line already searched for '\n'
  for (;;) {
    const char* begin = buf_.data() + start_;
    const size_t avail = buf_.size() - start_;
    const void* nl =
        avail > scanned ? std::memchr(begin + scanned, '\n', avail - scanned) : nullptr;
    if (nl != nullptr) {
      const size_t len = static_cast<size_t>(static_cast<const char*>(nl) - begin);
      ++line_number_;
      if (len > max_line_bytes_) break;
      start_ += len + 1;
      consumed_ += len + 1;
      return std::optional<std::string_view>(std::string_view(begin, len));
    }
    scanned = avail;
    if (avail > max_line_bytes_) {
      ++line_number_;
      break;
    }
    CAIRN_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) {
      const size_t rest = buf_.size() - start_;
      if (rest == 0) return std::optional<std::string_view>();
      ++line_number_;
      if (rest > max_line_bytes_) break;
      std::string_view last(buf_.data() + start_, rest);
      start_ = buf_.size();
      consumed_ += rest;
      return std::optional<std::string_view>(last);
    }
  }
  return Status::InvalidArgument("line " + std::to_string(line_number_) + " is longer than " +
                                 std::to_string(max_line_bytes_) +
                                 " bytes (a line holds one event, of at most 16 MiB of data)");
}

}  // namespace cairn::cli
