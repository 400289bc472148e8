#include "measure/bulk/tcp_info.hh"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace longhaul::measure {

namespace {

// The kernel's struct tcp_info, declared here rather than used from
// <linux/tcp.h> because the installed header (Debian 12: Linux 6.1) stops at
// tcpi_snd_wnd, while running kernels append fields such as tcpi_rcv_wnd
// (6.2). The kernel copies min(its size, our size) bytes and reports how many
// in optlen, so one struct works on older and newer kernels: a field is valid
// when optlen covers it. The layout follows include/uapi/linux/tcp.h; the
// static_asserts below pin it to the installed header for the shared prefix.
// (The header's bit-fields tcpi_snd_wscale/tcpi_rcv_wscale are one byte here.)
struct KernelTcpInfo {
  std::uint8_t tcpi_state;
  std::uint8_t tcpi_ca_state;
  std::uint8_t tcpi_retransmits;
  std::uint8_t tcpi_probes;
  std::uint8_t tcpi_backoff;
  std::uint8_t tcpi_options;
  std::uint8_t tcpi_wscales;      // snd_wscale : 4, rcv_wscale : 4
  std::uint8_t tcpi_app_limited;  // delivery_rate_app_limited : 1, fastopen_client_fail : 2
  std::uint32_t tcpi_rto;
  std::uint32_t tcpi_ato;
  std::uint32_t tcpi_snd_mss;
  std::uint32_t tcpi_rcv_mss;
  std::uint32_t tcpi_unacked;
  std::uint32_t tcpi_sacked;
  std::uint32_t tcpi_lost;
  std::uint32_t tcpi_retrans;
  std::uint32_t tcpi_fackets;
  std::uint32_t tcpi_last_data_sent;
  std::uint32_t tcpi_last_ack_sent;
  std::uint32_t tcpi_last_data_recv;
  std::uint32_t tcpi_last_ack_recv;
  std::uint32_t tcpi_pmtu;
  std::uint32_t tcpi_rcv_ssthresh;
  std::uint32_t tcpi_rtt;
  std::uint32_t tcpi_rttvar;
  std::uint32_t tcpi_snd_ssthresh;
  std::uint32_t tcpi_snd_cwnd;
  std::uint32_t tcpi_advmss;
  std::uint32_t tcpi_reordering;
  std::uint32_t tcpi_rcv_rtt;
  std::uint32_t tcpi_rcv_space;
  std::uint32_t tcpi_total_retrans;
  std::uint64_t tcpi_pacing_rate;
  std::uint64_t tcpi_max_pacing_rate;
  std::uint64_t tcpi_bytes_acked;
  std::uint64_t tcpi_bytes_received;
  std::uint32_t tcpi_segs_out;
  std::uint32_t tcpi_segs_in;
  std::uint32_t tcpi_notsent_bytes;
  std::uint32_t tcpi_min_rtt;
  std::uint32_t tcpi_data_segs_in;
  std::uint32_t tcpi_data_segs_out;
  std::uint64_t tcpi_delivery_rate;
  std::uint64_t tcpi_busy_time;
  std::uint64_t tcpi_rwnd_limited;
  std::uint64_t tcpi_sndbuf_limited;
  std::uint32_t tcpi_delivered;
  std::uint32_t tcpi_delivered_ce;
  std::uint64_t tcpi_bytes_sent;
  std::uint64_t tcpi_bytes_retrans;
  std::uint32_t tcpi_dsack_dups;
  std::uint32_t tcpi_reord_seen;
  std::uint32_t tcpi_rcv_ooopack;
  std::uint32_t tcpi_snd_wnd;
  std::uint32_t tcpi_rcv_wnd;  // Linux 6.2
  std::uint32_t tcpi_rehash;   // Linux 6.2
  std::uint16_t tcpi_total_rto;
  std::uint16_t tcpi_total_rto_recoveries;
  std::uint32_t tcpi_total_rto_time;
};

#define LONGHAUL_SAME_OFFSET(field) \
  static_assert(offsetof(KernelTcpInfo, field) == offsetof(struct tcp_info, field), #field)
LONGHAUL_SAME_OFFSET(tcpi_rto);
LONGHAUL_SAME_OFFSET(tcpi_snd_mss);
LONGHAUL_SAME_OFFSET(tcpi_rtt);
LONGHAUL_SAME_OFFSET(tcpi_snd_cwnd);
LONGHAUL_SAME_OFFSET(tcpi_rcv_space);
LONGHAUL_SAME_OFFSET(tcpi_total_retrans);
LONGHAUL_SAME_OFFSET(tcpi_pacing_rate);
LONGHAUL_SAME_OFFSET(tcpi_bytes_acked);
LONGHAUL_SAME_OFFSET(tcpi_notsent_bytes);
LONGHAUL_SAME_OFFSET(tcpi_min_rtt);
LONGHAUL_SAME_OFFSET(tcpi_delivery_rate);
LONGHAUL_SAME_OFFSET(tcpi_busy_time);
LONGHAUL_SAME_OFFSET(tcpi_rwnd_limited);
LONGHAUL_SAME_OFFSET(tcpi_sndbuf_limited);
LONGHAUL_SAME_OFFSET(tcpi_bytes_sent);
LONGHAUL_SAME_OFFSET(tcpi_bytes_retrans);
LONGHAUL_SAME_OFFSET(tcpi_snd_wnd);
#undef LONGHAUL_SAME_OFFSET

// True when the kernel filled `field` (it copies a prefix of its struct).
#define LONGHAUL_HAS(field) \
  (length >= offsetof(KernelTcpInfo, field) + sizeof(KernelTcpInfo::field))

}  // namespace

std::optional<TcpInfoSample> read_tcp_info(int fd) noexcept {
  KernelTcpInfo info{};
  socklen_t length = sizeof(info);
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return std::nullopt;
  // Everything up to tcpi_total_retrans has existed since Linux 2.6; insist on it.
  if (!LONGHAUL_HAS(tcpi_total_retrans)) return std::nullopt;
  TcpInfoSample s;
  s.state = info.tcpi_state;
  s.ca_state = info.tcpi_ca_state;
  s.snd_mss_bytes = info.tcpi_snd_mss;
  s.rcv_mss_bytes = info.tcpi_rcv_mss;
  s.unacked_segments = info.tcpi_unacked;
  s.lost_segments = info.tcpi_lost;
  s.rtt_us = info.tcpi_rtt;
  s.rttvar_us = info.tcpi_rttvar;
  s.rcv_rtt_us = info.tcpi_rcv_rtt;
  s.snd_ssthresh_segments = info.tcpi_snd_ssthresh;
  s.snd_cwnd_segments = info.tcpi_snd_cwnd;
  s.rcv_space_bytes = info.tcpi_rcv_space;
  s.total_retrans_segments = info.tcpi_total_retrans;
  if (LONGHAUL_HAS(tcpi_max_pacing_rate)) {
    s.pacing_rate_bytes_per_s = info.tcpi_pacing_rate;
    s.max_pacing_rate_bytes_per_s = info.tcpi_max_pacing_rate;
  }
  if (LONGHAUL_HAS(tcpi_bytes_received)) {
    s.bytes_acked = info.tcpi_bytes_acked;
    s.bytes_received = info.tcpi_bytes_received;
  }
  if (LONGHAUL_HAS(tcpi_min_rtt)) {
    s.notsent_bytes = info.tcpi_notsent_bytes;
    s.min_rtt_us = info.tcpi_min_rtt;
  }
  if (LONGHAUL_HAS(tcpi_delivery_rate)) s.delivery_rate_bytes_per_s = info.tcpi_delivery_rate;
  if (LONGHAUL_HAS(tcpi_sndbuf_limited)) {
    s.busy_time_us = info.tcpi_busy_time;
    s.rwnd_limited_us = info.tcpi_rwnd_limited;
    s.sndbuf_limited_us = info.tcpi_sndbuf_limited;
  }
  if (LONGHAUL_HAS(tcpi_bytes_retrans)) {
    s.bytes_sent = info.tcpi_bytes_sent;
    s.bytes_retrans = info.tcpi_bytes_retrans;
  }
  if (LONGHAUL_HAS(tcpi_snd_wnd)) s.snd_wnd_bytes = info.tcpi_snd_wnd;
  if (LONGHAUL_HAS(tcpi_rcv_wnd)) s.rcv_wnd_bytes = info.tcpi_rcv_wnd;
  return s;
}

#undef LONGHAUL_HAS

}  // namespace longhaul::measure
