#pragma once
// TCP plumbing for the tester: listening, connecting with a deadline, bounded
// sends and waits. Errors are io::SystemError naming the call and the peer,
// or BenchError for timeouts.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hh"
#include "io/fd.hh"

namespace longhaul::measure {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

struct Endpoint {
  std::string host;  ///< numeric address, IPv4-mapped IPv6 shown as IPv4
  std::uint16_t port = 0;
};

/// A listening TCP socket on `port` (0: any free port) of `bind_address`, or of
/// every address (IPv6 and IPv4 on one dual-stack socket; IPv4 only when IPv6 is off).
io::Fd listen_tcp(const std::optional<std::string>& bind_address, std::uint16_t port);

/// Connects to `host`:`port` (a name or a numeric address; each resolved address in turn)
/// within `timeout`. `prepare` is called on each new socket before connecting (socket
/// options that must precede the handshake). Returns a blocking socket.
io::Fd connect_tcp(const std::string& host, std::uint16_t port, core::Nanos timeout,
                   const std::function<void(int)>& prepare = {});

/// Accepts one pending connection (the listener is readable); invalid Fd when none was pending.
io::Fd accept_tcp(int listen_fd);

Endpoint local_endpoint(int fd);
Endpoint peer_endpoint(int fd);

/// Waits until `fd` is readable or `deadline`; false on timeout.
bool wait_readable(int fd, SteadyTime deadline);
/// Sends all of `data` before `deadline` (MSG_NOSIGNAL); throws on error or timeout.
void send_all(int fd, std::string_view data, SteadyTime deadline, std::string_view what);

/// Sets SO_SNDTIMEO and SO_RCVTIMEO, so blocking calls return within `timeout`.
void set_io_timeouts(int fd, core::Nanos timeout);
/// TCP_NODELAY on (control messages are small and latency-sensitive).
void set_nodelay(int fd);

}  // namespace longhaul::measure
