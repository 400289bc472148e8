#include "io/text_file.hh"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

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

}  // namespace longhaul::io
