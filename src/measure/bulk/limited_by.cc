#include "measure/bulk/limited_by.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace longhaul::measure {

std::string_view limit_name(Limit limit) {
  switch (limit) {
    case Limit::application:
      return "application";
    case Limit::congestion:
      return "cwnd";
    case Limit::receive_window:
      return "rwnd";
    case Limit::send_buffer:
      return "sndbuf";
    case Limit::pacing:
      return "pacing";
  }
  return "application";
}

std::string_view limit_description(Limit limit) {
  switch (limit) {
    case Limit::application:
      return "application";
    case Limit::congestion:
      return "congestion window";
    case Limit::receive_window:
      return "receive window";
    case Limit::send_buffer:
      return "send buffer";
    case Limit::pacing:
      return "pacing rate";
  }
  return "application";
}

namespace {

// The largest share wins; ties go to the first in this order, which puts the
// settings a user can change (windows, buffers) ahead of the defaults. When the
// winner is the busy remainder, a window the flow fills takes precedence (see
// the header on paced flows).
Limit dominant(const LimitedBy& limits, bool paced) {
  Limit best = Limit::receive_window;
  double share = limits.receive_window;
  if (limits.send_buffer > share) {
    best = Limit::send_buffer;
    share = limits.send_buffer;
  }
  if (limits.congestion > share) {
    best = Limit::congestion;
    share = limits.congestion;
  }
  if (limits.application > share) return Limit::application;
  if (best != Limit::congestion) return best;
  const double sndbuf = limits.sndbuf_utilization.value_or(0.0);
  if (std::max(limits.rwnd_utilization, sndbuf) >= kWindowFull) {
    return limits.rwnd_utilization >= sndbuf ? Limit::receive_window : Limit::send_buffer;
  }
  return paced ? Limit::pacing : Limit::congestion;
}

}  // namespace

LimitedBy classify_limits(const ChronoDelta& delta) {
  LimitedBy limits;
  limits.loss = delta.retransmits > 0;
  limits.rwnd_utilization = delta.rwnd_utilization;
  limits.sndbuf_utilization = delta.sndbuf_utilization;
  // The kernel's timers tick in jiffies and are read a little apart from our
  // clock, so busy time can exceed the interval slightly: normalise by the larger.
  const std::uint64_t rwnd = std::min(delta.rwnd_limited_us, delta.busy_us);
  const std::uint64_t sndbuf = std::min(delta.sndbuf_limited_us, delta.busy_us - rwnd);
  const std::uint64_t whole = std::max(delta.interval_us, delta.busy_us);
  if (whole == 0) return limits;
  const auto share = [whole](std::uint64_t us) {
    return static_cast<double>(us) / static_cast<double>(whole);
  };
  limits.receive_window = share(rwnd);
  limits.send_buffer = share(sndbuf);
  limits.congestion = share(delta.busy_us - rwnd - sndbuf);
  limits.application = share(whole - delta.busy_us);
  const bool paced = delta.pacing_cap_bps > 0 &&
                     delta.goodput_bps >= 0.9 * static_cast<double>(delta.pacing_cap_bps);
  limits.dominant = dominant(limits, paced);
  return limits;
}

LimitedBy combine_limits(const LimitedBy& a, double a_us, const LimitedBy& b, double b_us) {
  const double total = a_us + b_us;
  if (!(total > 0)) return a;
  LimitedBy out;
  out.receive_window = (a.receive_window * a_us + b.receive_window * b_us) / total;
  out.send_buffer = (a.send_buffer * a_us + b.send_buffer * b_us) / total;
  out.congestion = (a.congestion * a_us + b.congestion * b_us) / total;
  out.application = (a.application * a_us + b.application * b_us) / total;
  out.loss = a.loss || b.loss;
  out.rwnd_utilization = (a.rwnd_utilization * a_us + b.rwnd_utilization * b_us) / total;
  if (a.sndbuf_utilization || b.sndbuf_utilization) {
    out.sndbuf_utilization =
        (a.sndbuf_utilization.value_or(0.0) * a_us + b.sndbuf_utilization.value_or(0.0) * b_us) /
        total;
  }
  const bool paced =
      (a.dominant == Limit::pacing && a_us > 0) || (b.dominant == Limit::pacing && b_us > 0);
  out.dominant = dominant(out, paced);
  return out;
}

std::string format_limits(const LimitedBy& limits) {
  const std::string loss = limits.loss ? "+loss" : "";
  const auto percent = [](double fraction) { return std::lround(fraction * 100.0); };
  switch (limits.dominant) {
    case Limit::receive_window:
      // Named by the timer, or by the window being (nearly) full each round trip.
      if (limits.receive_window >= limits.congestion) {
        return fmt::format("rwnd{} {}%", loss, percent(limits.receive_window));
      }
      return fmt::format("rwnd{} ({}% used)", loss, percent(limits.rwnd_utilization));
    case Limit::send_buffer:
      if (limits.send_buffer >= limits.congestion || !limits.sndbuf_utilization) {
        return fmt::format("sndbuf{} {}%", loss, percent(limits.send_buffer));
      }
      return fmt::format("sndbuf{} ({}% used)", loss, percent(*limits.sndbuf_utilization));
    case Limit::congestion:
    case Limit::pacing:
      return fmt::format("{}{} {}%", limit_name(limits.dominant), loss, percent(limits.congestion));
    case Limit::application:
      break;
  }
  return fmt::format("application{} {}%", loss, percent(limits.application));
}

}  // namespace longhaul::measure
