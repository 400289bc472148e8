#include "io/text_file.hh"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "io/error.hh"
#include "io/fd.hh"

namespace longhaul::io {

std::optional<std::string> read_text_file(const std::string& path) {
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("open(O_RDONLY)", path);
  }
  std::string text;
  char chunk[4096];
  for (;;) {
    const ssize_t got = ::read(fd.get(), chunk, sizeof chunk);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw_errno("read", path);
    }
    if (got == 0) return text;
    text.append(chunk, static_cast<std::size_t>(got));
  }
}

std::string describe_size(std::uint64_t bytes) {
  if (bytes >= (1ULL << 20) && bytes % (1ULL << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
  if (bytes >= (1ULL << 10) && bytes % (1ULL << 10) == 0) return fmt::format("{} KiB", bytes >> 10);
  return fmt::format("{} bytes", bytes);
}

namespace {

/// What a non-regular file is, as a user would call it.
const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISCHR(mode)) return "is a character device";
  if (S_ISBLK(mode)) return "is a block device";
  if (S_ISFIFO(mode)) return "is a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "is a socket";
  return "is not a regular file";
}

InputFile refused(const std::string& path, std::string reason) {
  return InputFile{{}, fmt::format("{}: {}", path, reason)};
}

/// Reads `fd` to its end, at most `max_bytes` + 1 bytes (one more tells "too large").
InputFile read_bounded(int fd, const std::string& path, std::string_view what,
                       std::uint64_t max_bytes) {
  InputFile file;
  char chunk[65536];
  for (;;) {
    const std::uint64_t room = max_bytes + 1 - file.text.size();
    const ssize_t got =
        ::read(fd, chunk, static_cast<std::size_t>(std::min<std::uint64_t>(room, sizeof chunk)));
    if (got < 0) {
      if (errno == EINTR) continue;
      return refused(path, fmt::format("cannot read: {}; give a readable {} file",
                                       std::strerror(errno), what));
    }
    if (got == 0) return file;
    file.text.append(chunk, static_cast<std::size_t>(got));
    if (file.text.size() > max_bytes) {
      return refused(path, fmt::format("more than {}, the limit for a {} file; give a smaller file",
                                       describe_size(max_bytes), what));
    }
  }
}

}  // namespace

InputFile read_input_file(const std::string& path, std::string_view what, std::uint64_t max_bytes,
                          bool allow_stdin) {
  if (path.empty())
    return InputFile{{}, fmt::format("the {} file name is empty; give a path", what)};
  if (path == "-" && allow_stdin)
    return read_bounded(STDIN_FILENO, "standard input", what, max_bytes);
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below anyway.
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) {
    const int error = errno;
    if (error == EISDIR) return refused(path, fmt::format("is a directory; give a {} file", what));
    return refused(
        path, fmt::format("cannot open: {}; give a readable {} file", std::strerror(error), what));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    return refused(path, fmt::format("cannot stat: {}", std::strerror(errno)));
  }
  if (S_ISDIR(info.st_mode))
    return refused(path, fmt::format("is a directory; give a {} file", what));
  if (!S_ISREG(info.st_mode)) {
    return refused(path, fmt::format("{}; give a regular {} file", file_kind(info.st_mode), what));
  }
  if (static_cast<std::uint64_t>(info.st_size) > max_bytes) {
    return refused(
        path, fmt::format("{} bytes, more than {}, the limit for a {} file; give a smaller file",
                          info.st_size, describe_size(max_bytes), what));
  }
  // A regular file reads without blocking; clear O_NONBLOCK anyway for network filesystems.
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  return read_bounded(fd.get(), path, what, max_bytes);
}

}  // namespace longhaul::io

namespace longhaul::io {

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = fmt::format("{}.{}.tmp", path, ::getpid());
  {
    const Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) throw_errno("open(O_CREAT)", temporary);
    std::size_t written = 0;
    while (written < text.size()) {
      const ssize_t put = ::write(fd.get(), text.data() + written, text.size() - written);
      if (put < 0 && errno == EINTR) continue;
      if (put <= 0) {
        const int error = put < 0 ? errno : ENOSPC;
        ::unlink(temporary.c_str());
        throw_error("write", temporary, error);
      }
      written += static_cast<std::size_t>(put);
    }
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    throw_error("rename", path, error);
  }
}

std::vector<std::string> remove_orphan_temporaries(const std::string& directory) noexcept {
  std::vector<std::string> removed;
  try {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
      const std::string name = entry.path().filename().string();
      if (!name.ends_with(".tmp")) continue;
      // NAME.PID.tmp: the writer's pid sits between the last two dots. Files of the older
      // NAME.tmp form carry no pid.
      const std::string stem = name.substr(0, name.size() - 4);
      const auto dot = stem.rfind('.');
      pid_t writer = 0;
      if (dot != std::string::npos) {
        const std::string digits = stem.substr(dot + 1);
        if (!digits.empty() && digits.size() < 10 &&
            digits.find_first_not_of("0123456789") == std::string::npos) {
          writer = static_cast<pid_t>(std::stol(digits));
        }
      }
      if (writer > 0 && (::kill(writer, 0) == 0 || errno != ESRCH)) continue;
      if (writer == 0) {
        // No pid to ask: an older longhaul may be between its write and its rename right now.
        // A temporary that old is abandoned; a fresh one is left for a later sweep.
        std::error_code age_error;
        const auto written = std::filesystem::last_write_time(entry.path(), age_error);
        if (age_error ||
            std::filesystem::file_time_type::clock::now() - written < std::chrono::seconds(10)) {
          continue;
        }
      }
      std::error_code ignored;
      if (std::filesystem::remove(entry.path(), ignored)) removed.push_back(entry.path().string());
    }
  } catch (...) {
    // Cleaning up is a courtesy; it must not stop the caller.
  }
  return removed;
}

}  // namespace longhaul::io

namespace longhaul::io {

std::string output_path_problem(const std::string& path) {
  if (path == "-") return {};
  if (path.empty()) return "the file name is empty; give a path, or - for standard output";
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) {
      return fmt::format("{}: is a directory; give a file name (in it, if you like)", path);
    }
    // /dev/null (1,3) swallows the output as asked; other devices (/dev/full, a disk) do not take
    // a report, except a terminal.
    const bool dev_null =
        S_ISCHR(info.st_mode) && major(info.st_rdev) == 1 && minor(info.st_rdev) == 3;
    const bool terminal =
        S_ISCHR(info.st_mode) &&
        (major(info.st_rdev) == 136 || major(info.st_rdev) == 4 || major(info.st_rdev) == 5);
    if (!S_ISREG(info.st_mode) && !S_ISFIFO(info.st_mode) && !dev_null && !terminal) {
      return fmt::format("{}: {}; give a regular file, or - for standard output", path,
                         file_kind(info.st_mode));
    }
    if (::access(path.c_str(), W_OK) != 0) {
      return fmt::format("{}: cannot be written: {}", path, std::strerror(errno));
    }
    return {};
  }
  if (errno != ENOENT) return fmt::format("{}: {}", path, std::strerror(errno));
  const std::filesystem::path parent = std::filesystem::path(path).has_parent_path()
                                           ? std::filesystem::path(path).parent_path()
                                           : std::filesystem::path(".");
  if (::stat(parent.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return fmt::format("{}: the directory {} does not exist; create it or write elsewhere", path,
                       parent.string());
  }
  if (::access(parent.c_str(), W_OK | X_OK) != 0) {
    return fmt::format("{}: cannot create a file in {}: {}", path, parent.string(),
                       std::strerror(errno));
  }
  return {};
}

}  // namespace longhaul::io
