#pragma once
// Socket options of data connections: buffer sizes (with what the kernel
// really granted), congestion control and pacing.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "measure/bench_config.hh"
#include "measure/bench_result.hh"

namespace longhaul::measure {

/// Sets SO_SNDBUF (`send`) or SO_RCVBUF to `requested` when given, and reports what the
/// kernel holds afterwards with the sysctl limits that explain it.
BufferReport apply_buffer(int fd, bool send, std::optional<std::uint64_t> requested);

/// Congestion controls this host offers (net.ipv4.tcp_available_congestion_control).
std::vector<std::string> available_congestion_controls();
/// Sets TCP_CONGESTION; throws BenchError naming what is available when `name` is not.
void apply_congestion(int fd, const std::string& name);
/// The congestion control in effect on `fd` ("" if unreadable).
std::string congestion_of(int fd);
/// Throws BenchError when `name` cannot be used on this host (checked on a scratch socket).
void check_congestion(const std::string& name);

/// Sets SO_MAX_PACING_RATE (the kernel takes bytes per second).
void apply_pacing(int fd, std::uint64_t rate_bps);

/// Applies every option of `config` to a data socket of `side`; pacing only when the socket
/// sends. Returns what is in effect.
SocketReport configure_data_socket(int fd, Side side, const BenchConfig& config, bool sends);

/// Warnings worth printing about a side's settings (clamped buffers, autotuning off).
std::vector<std::string> socket_warnings(const SocketReport& report);

}  // namespace longhaul::measure
