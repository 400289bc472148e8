#pragma once
// Counting a namespace's TCP sockets the way connection churn needs:
// TIME_WAIT sockets, and the local ports in use (all of them, and toward one
// server). Read from /proc/net/tcp and /proc/net/tcp6, which list every TCP
// socket of the reading process's network namespace, TIME_WAIT ones included;
// a text file is simpler here than a sock_diag dump and costs a few ms per
// 10 000 sockets. The parsing and counting are pure (text in, counts out).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace longhaul::measure {

/// Kernel TCP states as /proc/net/tcp prints them (include/net/tcp_states.h).
inline constexpr std::uint8_t kTcpEstablished = 0x01;
inline constexpr std::uint8_t kTcpTimeWait = 0x06;
inline constexpr std::uint8_t kTcpListen = 0x0A;

struct ProcTcpEntry {
  std::string local_address;  ///< hex, as the kernel prints it ("0100007F")
  std::uint16_t local_port = 0;
  std::string remote_address;  ///< hex
  std::uint16_t remote_port = 0;
  std::uint8_t state = 0;
};

/// The entries of one /proc/net/tcp or /proc/net/tcp6 text (the header and malformed
/// lines are skipped).
std::vector<ProcTcpEntry> parse_proc_net_tcp(std::string_view text);

/// A remote endpoint in /proc/net/tcp's notation: the address's 32-bit words printed in
/// host byte order with %08X (8 hex digits for IPv4, 32 for IPv6), the port as a number.
struct ProcEndpoint {
  std::string address;
  std::uint16_t port = 0;
};

struct SocketCensus {
  std::uint64_t sockets = 0;              ///< every TCP socket but listeners
  std::uint64_t time_wait = 0;            ///< in TIME_WAIT, toward anyone
  std::uint64_t time_wait_to_server = 0;  ///< in TIME_WAIT toward the server's address and port
  std::uint64_t to_server = 0;            ///< any state toward the server (the 4-tuples it limits)
  std::uint64_t ephemeral_ports_in_use = 0;  ///< distinct local ports inside the ephemeral range
};

/// Counts `entries` (tcp and tcp6 together); ports in [range_low, range_high] are ephemeral.
SocketCensus count_sockets(const std::vector<ProcTcpEntry>& entries,
                           const std::optional<ProcEndpoint>& server, std::uint16_t range_low,
                           std::uint16_t range_high);

/// Reads /proc/net/tcp and /proc/net/tcp6 of the calling process's namespace and counts
/// them; empty when neither can be read.
std::optional<SocketCensus> take_socket_census(const std::optional<ProcEndpoint>& server,
                                               std::uint16_t range_low, std::uint16_t range_high);

/// The server's endpoint in /proc notation, from a connected socket's peer address.
std::optional<ProcEndpoint> proc_endpoint_of_peer(int fd);

}  // namespace longhaul::measure
