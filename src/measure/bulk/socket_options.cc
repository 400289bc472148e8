#include "measure/bulk/socket_options.hh"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>

#include "io/error.hh"
#include "io/fd.hh"
#include "io/sysctl.hh"
#include "measure/bench_error.hh"

namespace longhaul::measure {

namespace {

std::optional<std::uint64_t> sysctl_number(const std::string& key, std::size_t field = 0) {
  try {
    std::istringstream words(io::read_sysctl(key));
    std::string word;
    for (std::size_t i = 0; i <= field; ++i) {
      if (!(words >> word)) return std::nullopt;
    }
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), value);
    if (error != std::errc() || end != word.data() + word.size()) return std::nullopt;
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) out += (out.empty() ? "" : " ") + word;
  return out;
}

}  // namespace

BufferReport apply_buffer(int fd, bool send, std::optional<std::uint64_t> requested) {
  BufferReport report;
  report.option = send ? "SO_SNDBUF" : "SO_RCVBUF";
  report.limit_sysctl = send ? "net.core.wmem_max" : "net.core.rmem_max";
  const int option = send ? SO_SNDBUF : SO_RCVBUF;
  report.requested_bytes = requested;
  if (requested) {
    // The kernel takes an int and clamps it to the sysctl limit, then doubles it.
    const int value = static_cast<int>(std::min<std::uint64_t>(*requested, 0x7fffffff));
    if (::setsockopt(fd, SOL_SOCKET, option, &value, sizeof(value)) != 0) {
      io::throw_errno(fmt::format("setsockopt({})", report.option), "data socket");
    }
  }
  int kernel = 0;
  socklen_t length = sizeof(kernel);
  if (::getsockopt(fd, SOL_SOCKET, option, &kernel, &length) != 0) {
    io::throw_errno(fmt::format("getsockopt({})", report.option), "data socket");
  }
  report.kernel_bytes = static_cast<std::uint64_t>(kernel < 0 ? 0 : kernel);
  report.limit_bytes = sysctl_number(report.limit_sysctl);
  // tcp_wmem / tcp_rmem: "min default max"; autotuning grows a buffer up to max.
  report.autotune_max_bytes = sysctl_number(send ? "net.ipv4.tcp_wmem" : "net.ipv4.tcp_rmem", 2);
  return report;
}

std::vector<std::string> available_congestion_controls() {
  std::vector<std::string> names;
  try {
    std::istringstream words(io::read_sysctl("net.ipv4.tcp_available_congestion_control"));
    for (std::string word; words >> word;) names.push_back(word);
  } catch (const std::exception&) {
  }
  return names;
}

void apply_congestion(int fd, const std::string& name) {
  if (::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name.data(),
                   static_cast<socklen_t>(name.size())) == 0) {
    return;
  }
  const int error = errno;
  const auto available = available_congestion_controls();
  if (error == ENOENT) {
    throw BenchError(fmt::format(
        "congestion control '{}' is not available on this host; available "
        "(net.ipv4.tcp_available_congestion_control): {} (a module such as tcp_{} may need "
        "loading)",
        name, available.empty() ? "unknown" : join(available), name));
  }
  if (error == EPERM) {
    throw BenchError(
        fmt::format("congestion control '{}' is not allowed for this user; allowed: "
                    "net.ipv4.tcp_allowed_congestion_control (available: {})",
                    name, available.empty() ? "unknown" : join(available)));
  }
  io::throw_error("setsockopt(TCP_CONGESTION)", name, error);
}

std::string congestion_of(int fd) {
  char name[32] = {};
  socklen_t length = sizeof(name) - 1;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &length) != 0) return {};
  return std::string(name, ::strnlen(name, length));
}

void check_congestion(const std::string& name) {
  io::Fd scratch(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!scratch.valid()) io::throw_errno("socket", "TCP");
  apply_congestion(scratch.get(), name);
}

void apply_pacing(int fd, std::uint64_t rate_bps) {
  // A 64-bit value is accepted since Linux 4.13; it is bytes per second.
  const std::uint64_t bytes_per_s = rate_bps / 8;
  if (::setsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &bytes_per_s, sizeof(bytes_per_s)) != 0) {
    io::throw_errno("setsockopt(SO_MAX_PACING_RATE)", "data socket");
  }
}

SocketReport configure_data_socket(int fd, Side side, const BenchConfig& config, bool sends) {
  SocketReport report;
  report.side = side;
  if (config.congestion) apply_congestion(fd, *config.congestion);
  report.sndbuf = apply_buffer(fd, true, config.sndbuf_bytes);
  report.rcvbuf = apply_buffer(fd, false, config.rcvbuf_bytes);
  if (config.pacing_rate_bps && sends) {
    apply_pacing(fd, *config.pacing_rate_bps);
    report.pacing_rate_bps = config.pacing_rate_bps;
  }
  report.congestion = congestion_of(fd);
  return report;
}

std::vector<std::string> socket_warnings(const SocketReport& report) {
  std::vector<std::string> warnings;
  for (const BufferReport* buffer : {&report.sndbuf, &report.rcvbuf}) {
    if (buffer->clamped()) {
      warnings.push_back(fmt::format("{} {}", side_name(report.side), describe(*buffer)));
    }
  }
  return warnings;
}

}  // namespace longhaul::measure
