#pragma once
// What limited a sending flow during an interval, from the kernel's own
// accounting of where the sender's time went.
//
// Why these fields: Linux keeps "chrono" timers per socket (tcp_chrono_start /
// tcp_chrono_stop) and exposes them in TCP_INFO as cumulative microseconds:
//   tcpi_busy_time      - time with data in flight or queued (every state below);
//   tcpi_rwnd_limited   - part of it the sender had data but the peer's receive
//                         window was full;
//   tcpi_sndbuf_limited - part of it the network was not cwnd-limited but the
//                         write queue ran dry while the application was blocked
//                         on a full send buffer (the buffer is too small for the
//                         window).
// The rest of the busy time is the congestion window (or pacing) holding the
// sender back, which is the normal state of a bulk flow that fills its path;
// it includes time in loss recovery. Time not busy at all is time the
// application gave TCP nothing to send. The timers count in jiffies (1-4 ms),
// so per-interval fractions are approximate for short intervals.
//
// The timers miss one case that matters on long paths: a paced sender (BBR, or
// any flow under the fq qdisc) leaves the transmit loop on the pacing check
// before it reaches the window test, which stops the rwnd timer even though
// the window is what holds it back. So the busy remainder is cross-checked
// with Little's law: a flow that delivers (nearly) a whole advertised window
// per round trip is window-limited, whatever the timers say. The same check
// against a send buffer the user fixed (SO_SNDBUF; autotuned buffers grow as
// needed) names the send buffer.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace longhaul::measure {

enum class Limit { application, congestion, receive_window, send_buffer, pacing };

/// JSON name: "application", "cwnd", "rwnd", "sndbuf", "pacing".
std::string_view limit_name(Limit limit);
/// Words for people: "application", "congestion window", "receive window", ...
std::string_view limit_description(Limit limit);

/// Deltas over one interval of the kernel's timers (µs) and what else classification needs.
struct ChronoDelta {
  std::uint64_t interval_us = 0;
  std::uint64_t busy_us = 0;
  std::uint64_t rwnd_limited_us = 0;
  std::uint64_t sndbuf_limited_us = 0;
  std::uint32_t retransmits = 0;
  /// Goodput and the configured pacing cap (bit/s), to tell pacing from the congestion window.
  double goodput_bps = 0;
  std::uint64_t pacing_cap_bps = 0;  ///< 0: no pacing cap configured
  /// Bytes delivered per smoothed RTT over the peer's advertised window (0: unknown).
  double rwnd_utilization = 0;
  /// The same over the send buffer size the user set (empty: autotuned).
  std::optional<double> sndbuf_utilization;
};

/// Delivered per round trip at or above this share of a window means that window limits.
inline constexpr double kWindowFull = 0.9;

/// Fractions of the interval (each 0..1, summing to 1) and the dominant limit.
struct LimitedBy {
  double receive_window = 0;
  double send_buffer = 0;
  double congestion = 0;  ///< congestion window, loss recovery or pacing
  double application = 1;
  double rwnd_utilization = 0;               ///< see ChronoDelta
  std::optional<double> sndbuf_utilization;  ///< see ChronoDelta
  Limit dominant = Limit::application;
  bool loss = false;  ///< segments were retransmitted in the interval

  friend bool operator==(const LimitedBy&, const LimitedBy&) = default;
};

/// Classifies one interval. The dominant limit is the largest share; when that is
/// the busy remainder, a window the flow fills (utilization >= kWindowFull; the
/// fuller of the two) is named instead, else pacing when a pacing cap is set and
/// the flow ran at 90 % of it or more. An interval of zero length is application-limited.
LimitedBy classify_limits(const ChronoDelta& delta);

/// Time-weighted combination: `a` covering `a_us`, `b` covering `b_us`.
LimitedBy combine_limits(const LimitedBy& a, double a_us, const LimitedBy& b, double b_us);

/// Compact text such as "cwnd 97%", "rwnd 88%", "cwnd+loss 60%".
std::string format_limits(const LimitedBy& limits);

}  // namespace longhaul::measure
