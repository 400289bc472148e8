#include "io/sysctl.hh"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string_view>

#include "io/error.hh"
#include "io/fd.hh"
#include "io/text_file.hh"

namespace longhaul::io {

namespace {

constexpr std::string_view kProcSys = "/proc/sys/";

// Rejects keys that would name something outside /proc/sys ("..") or nothing at all.
void check_components(const std::string& key, std::string_view relative) {
  std::size_t start = 0;
  while (start <= relative.size()) {
    const std::size_t end = std::min(relative.find('/', start), relative.size());
    const std::string_view part = relative.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      throw std::invalid_argument("invalid sysctl key '" + key + "'");
    }
    start = end + 1;
  }
}

}  // namespace

std::string sysctl_path(const std::string& key) {
  if (key.find('\0') != std::string::npos) {
    throw std::invalid_argument("invalid sysctl key '" + key + "'");
  }
  std::string relative;
  if (key.starts_with('/')) {
    if (!key.starts_with(kProcSys)) {
      throw std::invalid_argument("sysctl path '" + key + "' is not under /proc/sys");
    }
    relative = key.substr(kProcSys.size());
  } else if (key.find('/') != std::string::npos) {
    relative = key;  // already a path: its dots belong to names such as "eth0.100"
  } else {
    relative = key;
    for (char& c : relative) {
      if (c == '.') c = '/';
    }
  }
  check_components(key, relative);
  return std::string(kProcSys) + relative;
}

void write_sysctl(const std::string& key, const std::string& value) {
  const std::string path = sysctl_path(key);
  const Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) throw_errno("open(O_WRONLY)", path);
  // One write: proc_sys handlers parse the value from a single write at offset 0.
  const ssize_t written = ::write(fd.get(), value.data(), value.size());
  if (written < 0) throw_errno("write", path + " = " + value);
  if (static_cast<std::size_t>(written) != value.size())
    throw_error("write", path + " = " + value, EIO);
}

std::string read_sysctl(const std::string& key) {
  const std::string path = sysctl_path(key);
  const std::optional<std::string> contents = read_text_file(path);
  if (!contents) throw_error("open(O_RDONLY)", path, ENOENT);
  const std::string& text = *contents;
  const std::string_view whitespace = " \t\r\n";
  const std::size_t first = text.find_first_not_of(whitespace);
  if (first == std::string::npos) return {};
  const std::size_t last = text.find_last_not_of(whitespace);
  return text.substr(first, last - first + 1);
}

}  // namespace longhaul::io
