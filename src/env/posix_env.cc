// The POSIX Env: the only place the engine touches the file system and clocks.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "cairn/env.h"

namespace cairn {
namespace {

std::string DirName(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status WriteAll(int fd, const char* p, size_t n, uint64_t offset, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "write", path);
    }
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return Status::OK();
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override { (void)Close(); }

  Status Append(std::string_view data) override {
    Status s = WriteAll(fd_, data.data(), data.size(), size_, path_);
    if (s.ok()) {
      size_ += data.size();
    } else {
      // Re-read the real size: part of the data may have been written.
      struct stat st;
      if (::fstat(fd_, &st) == 0) size_ = static_cast<uint64_t>(st.st_size);
    }
    return s;
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    Status s = WriteAll(fd_, data.data(), data.size(), offset, path_);
    if (s.ok() && offset + data.size() > size_) size_ = offset + data.size();
    return s;
  }
  Status Sync() override {
    if (::fdatasync(fd_) != 0) return Status::FromErrno(errno, "fdatasync", path_);
    return Status::OK();
  }
  void StartSync() override {
    // Writeback of what was appended since the last hint; errors surface
    // at the Sync that follows.
    if (size_ > hinted_) {
      (void)::sync_file_range(fd_, static_cast<off_t>(hinted_), static_cast<off_t>(size_ - hinted_),
                              SYNC_FILE_RANGE_WRITE);
    }
    hinted_ = size_;
  }
  Status Preallocate(uint64_t size) override {
    if (size <= size_) return Status::OK();
    for (;;) {
      if (::fallocate(fd_, 0, static_cast<off_t>(size_), static_cast<off_t>(size - size_)) == 0) {
        return Status::OK();
      }
      if (errno != EINTR) return Status::FromErrno(errno, "fallocate", path_);
    }
  }
  Status WriteZeros(uint64_t size) override {
    static const std::string kZeros(1u << 20, '\0');
    const uint64_t begin = std::max(size_, zeroed_);
    for (uint64_t at = begin; at < size;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kZeros.size(), size - at));
      CAIRN_RETURN_IF_ERROR(WriteAll(fd_, kZeros.data(), n, at, path_));
      at += n;
      zeroed_ = at;
    }
    if (size > begin) {
      // Their writeback overlaps the appends until the next Sync.
      (void)::sync_file_range(fd_, static_cast<off_t>(begin), static_cast<off_t>(size - begin),
                              SYNC_FILE_RANGE_WRITE);
    }
    return Status::OK();
  }
  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return Status::FromErrno(errno, "truncate", path_);
    }
    size_ = size;
    hinted_ = std::min(hinted_, size);
    zeroed_ = std::min(zeroed_, size);
    return Status::OK();
  }
  Status Close() override {
    if (fd_ >= 0) {
      int rc = ::close(fd_);
      fd_ = -1;
      if (rc != 0) return Status::FromErrno(errno, "close", path_);
    }
    return Status::OK();
  }
  uint64_t Size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
  uint64_t hinted_ = 0;  // StartSync has covered the bytes below this
  uint64_t zeroed_ = 0;  // WriteZeros has written zeros up to here
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }
  Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* out) const override {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, scratch + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, "read", path_);
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    *out = std::string_view(scratch, got);
    return Status::OK();
  }
  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Status::FromErrno(errno, "stat", path_);
    return static_cast<uint64_t>(st.st_size);
  }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
};

class PosixMappedFile final : public MappedFile {
 public:
  PosixMappedFile(std::string path, void* base, size_t size)
      : path_(std::move(path)), base_(base), size_(size), mapped_(size) {}
  ~PosixMappedFile() override {
    if (base_ != nullptr) ::munmap(base_, mapped_);
  }
  std::string_view data() const override {
    return base_ ? std::string_view(static_cast<const char*>(base_),
                                    size_.load(std::memory_order_acquire))
                 : std::string_view();
  }
  const std::string& path() const override { return path_; }
  void Shrink(uint64_t length) override {
    const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const uint64_t keep = std::max<uint64_t>((length + page - 1) / page * page, page);
    if (base_ == nullptr || keep >= mapped_) return;
    // Shrinking never moves a mapping: views into the part kept stay valid.
    if (::mremap(base_, mapped_, keep, 0) == MAP_FAILED) return;  // keeps the longer one
    mapped_ = keep;
    size_.store(std::min<uint64_t>(length, keep), std::memory_order_release);
  }

 private:
  std::string path_;
  void* base_;
  std::atomic<size_t> size_;  // what data() shows
  size_t mapped_;             // what munmap releases
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

// inotify on the directory, and an eventfd that Wake makes readable for
// good.
class PosixDirectoryWatch final : public DirectoryWatch {
 public:
  PosixDirectoryWatch(int inotify_fd, int wake_fd) : inotify_fd_(inotify_fd), wake_fd_(wake_fd) {}
  ~PosixDirectoryWatch() override {
    ::close(inotify_fd_);
    ::close(wake_fd_);
  }

  Event Wait(int64_t timeout_micros) override {
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int timeout_ms =
        static_cast<int>(std::clamp<int64_t>((timeout_micros + 999) / 1000, 0, INT32_MAX));
    const int n = ::poll(fds, 2, timeout_ms);
    if (n < 0) {
      // EINTR: a signal. Anything else cannot happen with these arguments;
      // should it, wait out the timeout rather than spin. Either way the
      // caller treats it as a timeout and looks for itself.
      if (errno != EINTR) std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
      return Event::kTimedOut;
    }
    if (fds[1].revents != 0) return Event::kWoken;  // never read: Wake is final
    if (n == 0) return Event::kTimedOut;
    char buf[4096];
    while (::read(inotify_fd_, buf, sizeof buf) > 0) {
    }
    return Event::kChanged;
  }

  void Wake() override {
    const uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }

 private:
  const int inotify_fd_;
  const int wake_fd_;
};

// A watch the system refused: the directory is gone (kNotFound), the
// user's inotify instances or watches, or the process's descriptors, are
// used up (kResourceExhausted: ENOSPC here means the watch limit, not a full
// disk), or anything else (kIOError).
Status WatchError(int err, const char* op, const std::string& path) {
  std::string msg = std::string(op) + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) return Status(ErrorCode::kNotFound, std::move(msg));
  if (err == ENOSPC || err == EMFILE || err == ENFILE || err == ENOMEM) {
    return Status(ErrorCode::kResourceExhausted,
                  std::move(msg) +
                      " (the inotify limits: fs.inotify.max_user_watches and "
                      "max_user_instances, or the open-file limit)");
  }
  return Status(ErrorCode::kIOError, std::move(msg));
}

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<DirectoryWatch>> WatchDirectory(const std::string& path) override {
    const int ifd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (ifd < 0) return WatchError(errno, "inotify_init1 for a watch of", path);
    if (::inotify_add_watch(ifd, path.c_str(),
                            IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO) < 0) {
      const int err = errno;
      ::close(ifd);
      return WatchError(err, "inotify watch on", path);
    }
    const int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
      const int err = errno;
      ::close(ifd);
      return WatchError(err, "eventfd for a watch of", path);
    }
    return std::unique_ptr<DirectoryWatch>(new PosixDirectoryWatch(ifd, efd));
  }

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno(errno, "open", path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, "stat", path);
    }
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open", path);
    return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(path, fd));
  }

  Result<std::unique_ptr<MappedFile>> MapFile(const std::string& path, uint64_t length,
                                              bool random_access) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open", path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, "stat", path);
    }
    void* base = nullptr;
    auto size = static_cast<size_t>(length > 0 ? length : static_cast<uint64_t>(st.st_size));
    if (size > 0) {
      base = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
      if (base == MAP_FAILED) {
        int err = errno;
        ::close(fd);
        return Status::FromErrno(err, "mmap", path);
      }
      if (random_access) (void)::madvise(base, size, MADV_RANDOM);  // advice only
    }
    ::close(fd);
    return std::unique_ptr<MappedFile>(new PosixMappedFile(path, base, size));
  }

  Status WriteFileAtomic(const std::string& path, std::string_view data) override {
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno(errno, "open", tmp);
    Status s = WriteAll(fd, data.data(), data.size(), 0, tmp);
    if (s.ok() && ::fdatasync(fd) != 0) s = Status::FromErrno(errno, "fdatasync", tmp);
    ::close(fd);
    if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
      s = Status::FromErrno(errno, "rename", tmp);
    }
    if (!s.ok()) {
      ::unlink(tmp.c_str());  // no scratch left holding the space of a full disk
      return s;
    }
    return SyncDir(DirName(path));
  }

  Result<std::string> ReadFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open", path);
    std::string out;
    char buf[65536];
    for (;;) {
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        return Status::FromErrno(err, "read", path);
      }
      if (r == 0) break;
      out.append(buf, static_cast<size_t>(r));
    }
    ::close(fd);
    return out;
  }

  Status WriteAt(const std::string& path, uint64_t offset, std::string_view data) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno(errno, "open", path);
    Status s = WriteAll(fd, data.data(), data.size(), offset, path);
    ::close(fd);
    return s;
  }

  Status CreateDirs(const std::string& path) override {
    std::string cur;
    size_t i = 0;
    while (i <= path.size()) {
      size_t next = path.find('/', i);
      if (next == std::string::npos) next = path.size();
      cur = path.substr(0, next);
      if (!cur.empty() && ::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::FromErrno(errno, "mkdir", cur);
      }
      i = next + 1;
    }
    return Status::OK();
  }

  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "open dir", path);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return Status::FromErrno(err, "fsync dir", path);
    return Status::OK();
  }

  Result<bool> FileExists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    return Status::FromErrno(errno, "stat", path);
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) return Status::FromErrno(errno, "opendir", path);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    ::closedir(d);
    return names;
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return Status::FromErrno(errno, "unlink", path);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Status::FromErrno(errno, "rename", from);
    return Status::OK();
  }

  Result<bool> LinkFile(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) == 0) return true;
    const int err = errno;
    // The file system cannot give the file a second name: the caller copies.
    if (err == EXDEV || err == EPERM || err == EOPNOTSUPP || err == EMLINK) {
      return false;
    }
    return Status::FromErrno(err, "link", from + "' -> '" + to);
  }

  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return Status::FromErrno(errno, "rmdir", path);
    return Status::OK();
  }

  Status TruncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return Status::FromErrno(errno, "truncate", path);
    }
    return Status::OK();
  }

  Result<std::string> FileIdentity(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "stat", path);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(errno, "stat", path);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno(errno, "open", path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      std::string holder;
      char buf[32];
      ssize_t r = ::pread(fd, buf, sizeof buf - 1, 0);
      if (r > 0) holder.assign(buf, static_cast<size_t>(r));
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return Status(ErrorCode::kLocked, "store is locked by pid " +
                                              (holder.empty() ? std::string("?") : holder) + " (" +
                                              path + ")");
      }
      return Status::FromErrno(err, "flock", path);
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno(err, "write pid", path);
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(fd));
  }

  int64_t NowNanos() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t MonotonicNanos() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void SleepForMicroseconds(int64_t micros) override {
    if (micros > 0) std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();  // never destroyed: outlives all stores
  return env;
}

Result<std::unique_ptr<DirectoryWatch>> Env::WatchDirectory(const std::string& path) {
  return Default()->WatchDirectory(path);
}

std::thread Env::StartThread(std::string name, std::function<void()> body) {
  return std::thread([name = std::move(name), body = std::move(body)] {
    // The kernel keeps 15 bytes of a thread's name.
    (void)::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
    body();
  });
}

}  // namespace cairn
