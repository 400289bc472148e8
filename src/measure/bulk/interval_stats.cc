#include "measure/bulk/interval_stats.hh"

#include <algorithm>

namespace longhaul::measure {

namespace {

double rate_bps(std::uint64_t bytes, Nanos duration) {
  if (duration <= Nanos{0}) return 0;
  return static_cast<double>(bytes) * 8.0 / to_seconds(duration);
}

// A counter's increase; zero if it went backwards (it never should).
template <class T>
T increase(T before, T after) {
  return after >= before ? static_cast<T>(after - before) : T{0};
}

}  // namespace

StreamInterval compute_interval(const StreamIdentity& who, const StreamSnapshot& begin,
                                const StreamSnapshot& end, bool omitted) {
  StreamInterval out;
  out.id = who.id;
  out.side = who.side;
  out.direction = who.direction;
  out.role = role_of(who.side, who.direction);
  out.start = begin.at;
  out.end = end.at;
  out.omitted = omitted;
  const Nanos duration = end.at - begin.at;
  const std::uint64_t app = increase(begin.app_bytes, end.app_bytes);
  const bool both = begin.tcp.has_value() && end.tcp.has_value();
  if (out.role == Role::receiver) {
    out.bytes = app;
  } else {
    out.bytes_written = app;
    out.bytes = both ? increase(begin.tcp->bytes_acked, end.tcp->bytes_acked) : app;
  }
  out.bits_per_second = rate_bps(out.bytes, duration);
  if (!end.tcp) return out;
  const TcpInfoSample& now = *end.tcp;
  if (out.role == Role::receiver) {
    out.rcv_rtt_us = now.rcv_rtt_us;
    out.rcv_space_bytes = now.rcv_space_bytes;
    out.rcv_wnd_bytes = now.rcv_wnd_bytes;
    return out;
  }
  out.rtt_us = now.rtt_us;
  out.rttvar_us = now.rttvar_us;
  out.min_rtt_us = now.min_rtt_us;
  out.snd_mss_bytes = now.snd_mss_bytes;
  out.snd_cwnd_segments = now.snd_cwnd_segments;
  out.snd_cwnd_bytes = std::uint64_t{now.snd_cwnd_segments} * now.snd_mss_bytes;
  out.snd_wnd_bytes = now.snd_wnd_bytes;
  out.pacing_rate_bps = now.pacing_rate_bytes_per_s * 8;
  out.delivery_rate_bps = now.delivery_rate_bytes_per_s * 8;
  if (!both) return out;
  const TcpInfoSample& then = *begin.tcp;
  out.retransmits = increase(then.total_retrans_segments, now.total_retrans_segments);
  out.bytes_retransmitted = increase(then.bytes_retrans, now.bytes_retrans);
  ChronoDelta delta;
  delta.interval_us = duration > Nanos{0} ? static_cast<std::uint64_t>(duration.count() / 1000) : 0;
  delta.busy_us = increase(then.busy_time_us, now.busy_time_us);
  delta.rwnd_limited_us = increase(then.rwnd_limited_us, now.rwnd_limited_us);
  delta.sndbuf_limited_us = increase(then.sndbuf_limited_us, now.sndbuf_limited_us);
  delta.retransmits = out.retransmits;
  delta.goodput_bps = out.bits_per_second;
  delta.pacing_cap_bps = who.pacing_cap_bps;
  // Little's law: bytes in flight = delivery rate x round-trip time.
  const double per_rtt = out.bits_per_second / 8.0 * static_cast<double>(now.rtt_us) / 1e6;
  if (now.snd_wnd_bytes > 0) delta.rwnd_utilization = per_rtt / now.snd_wnd_bytes;
  if (who.sndbuf_set_bytes && *who.sndbuf_set_bytes > 0) {
    delta.sndbuf_utilization = per_rtt / static_cast<double>(*who.sndbuf_set_bytes);
  }
  out.limited_by = classify_limits(delta);
  return out;
}

std::optional<IntervalSum> sum_interval(std::span<const StreamInterval> streams,
                                        Direction direction, Role role) {
  IntervalSum sum;
  sum.direction = direction;
  sum.role = role;
  double rtt_total = 0;
  std::uint32_t rtt_count = 0;
  double limits_weight = 0;
  for (const StreamInterval& s : streams) {
    if (s.direction != direction || s.role != role) continue;
    if (sum.streams == 0) {
      sum.start = s.start;
      sum.end = s.end;
      sum.omitted = s.omitted;
    }
    sum.start = std::min(sum.start, s.start);
    sum.end = std::max(sum.end, s.end);
    sum.omitted = sum.omitted && s.omitted;
    ++sum.streams;
    sum.bytes += s.bytes;
    sum.retransmits += s.retransmits;
    sum.snd_cwnd_bytes += s.snd_cwnd_bytes;
    sum.snd_wnd_bytes += s.snd_wnd_bytes;
    if (s.rtt_us > 0) {
      rtt_total += s.rtt_us;
      ++rtt_count;
    }
    if (s.limited_by) {
      sum.limited_by = sum.limited_by
                           ? combine_limits(*sum.limited_by, limits_weight, *s.limited_by, 1.0)
                           : *s.limited_by;
      limits_weight += 1.0;
    }
  }
  if (sum.streams == 0) return std::nullopt;
  sum.bits_per_second = rate_bps(sum.bytes, sum.end - sum.start);
  if (rtt_count > 0) sum.mean_rtt_us = static_cast<std::uint32_t>(rtt_total / rtt_count);
  return sum;
}

std::optional<Totals> summarize(std::span<const SideInterval> intervals, Direction direction,
                                Role role) {
  Totals totals;
  totals.direction = direction;
  totals.role = role;
  bool any = false;
  double rtt_weighted = 0, rtt_weight = 0, wnd_weighted = 0, limits_weight = 0;
  for (const SideInterval& interval : intervals) {
    for (const StreamInterval& s : interval.streams) {
      if (s.direction != direction || s.role != role || s.omitted) continue;
      if (!any) {
        totals.start = s.start;
        totals.end = s.end;
        any = true;
      }
      totals.start = std::min(totals.start, s.start);
      totals.end = std::max(totals.end, s.end);
      totals.bytes += s.bytes;
      totals.retransmits += s.retransmits;
      const double weight = to_seconds(s.end - s.start);
      if (s.rtt_us > 0) {
        rtt_weighted += s.rtt_us * weight;
        rtt_weight += weight;
      }
      wnd_weighted += s.snd_wnd_bytes * weight;
      if (s.limited_by && weight > 0) {
        totals.limited_by = totals.limited_by ? combine_limits(*totals.limited_by, limits_weight,
                                                               *s.limited_by, weight)
                                              : *s.limited_by;
        limits_weight += weight;
      }
    }
  }
  if (!any) return std::nullopt;
  totals.bits_per_second = rate_bps(totals.bytes, totals.end - totals.start);
  if (rtt_weight > 0) totals.mean_rtt_us = static_cast<std::uint32_t>(rtt_weighted / rtt_weight);
  const double span = to_seconds(totals.end - totals.start);
  if (span > 0) totals.mean_snd_wnd_bytes = wnd_weighted / span;
  return totals;
}

Nanos interval_end(Nanos elapsed, Nanos interval, Nanos omit) {
  if (interval <= Nanos{0}) return elapsed;
  if (elapsed < Nanos{0}) elapsed = Nanos{0};
  if (elapsed < omit) return std::min((elapsed / interval + 1) * interval, omit);
  return omit + ((elapsed - omit) / interval + 1) * interval;
}

}  // namespace longhaul::measure
