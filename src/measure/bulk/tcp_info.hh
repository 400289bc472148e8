#pragma once
// Reading TCP_INFO from a socket into a TcpInfoSample.
#include <optional>

#include "measure/bulk/tcp_sample.hh"

namespace longhaul::measure {

/// The socket's TCP_INFO, or empty when getsockopt fails (not a TCP socket, closed).
/// Fields the running kernel does not provide (older than the one they appeared in)
/// stay zero, or empty for optional ones.
std::optional<TcpInfoSample> read_tcp_info(int fd) noexcept;

}  // namespace longhaul::measure
