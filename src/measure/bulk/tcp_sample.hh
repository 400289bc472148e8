#pragma once
// The fields of the kernel's TCP_INFO that the tester uses, as a plain struct
// the pure code (interval statistics, classification) works on. Reading it from
// a socket is tcp_info.hh's job; tests build samples by hand.
#include <cstdint>
#include <optional>

namespace longhaul::measure {

struct TcpInfoSample {
  std::uint8_t state = 0;     ///< tcpi_state (TCP_ESTABLISHED = 1)
  std::uint8_t ca_state = 0;  ///< tcpi_ca_state (0 open, 1 disorder, 2 CWR, 3 recovery, 4 loss)
  std::uint32_t snd_mss_bytes = 0;
  std::uint32_t rcv_mss_bytes = 0;
  std::uint32_t unacked_segments = 0;  ///< segments in flight
  std::uint32_t lost_segments = 0;
  std::uint32_t rtt_us = 0;     ///< smoothed RTT
  std::uint32_t rttvar_us = 0;  ///< RTT variation
  std::uint32_t min_rtt_us = 0;
  std::uint32_t rcv_rtt_us = 0;  ///< the receiver's RTT estimate
  std::uint32_t snd_ssthresh_segments = 0;
  std::uint32_t snd_cwnd_segments = 0;
  std::uint32_t rcv_space_bytes = 0;  ///< the receiver's autotuning estimate of a window's worth
  std::uint32_t total_retrans_segments = 0;
  std::uint32_t notsent_bytes = 0;
  std::uint32_t snd_wnd_bytes = 0;             ///< the peer's advertised window (Linux 5.4+)
  std::optional<std::uint32_t> rcv_wnd_bytes;  ///< our advertised window (Linux 6.2+)
  std::uint64_t pacing_rate_bytes_per_s = 0;
  std::uint64_t max_pacing_rate_bytes_per_s = 0;  ///< ~0 when unlimited
  std::uint64_t bytes_acked = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;  ///< including retransmissions
  std::uint64_t bytes_retrans = 0;
  std::uint64_t delivery_rate_bytes_per_s = 0;
  /// Time with data outstanding or queued, in µs; includes the two limited times below.
  std::uint64_t busy_time_us = 0;
  std::uint64_t rwnd_limited_us = 0;    ///< time stalled by the peer's receive window
  std::uint64_t sndbuf_limited_us = 0;  ///< time starved by a full send buffer

  friend bool operator==(const TcpInfoSample&, const TcpInfoSample&) = default;
};

}  // namespace longhaul::measure
