#include "tune/throughput_model.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "tune/recommend.hh"

namespace longhaul::tune {

namespace {

// Linux's defaults, for a sysctl that could not be read.
constexpr std::int64_t kDefaultRmemMax = 6291456;
constexpr std::int64_t kDefaultWmemMax = 4194304;

std::int64_t autotuning_max(const HostSettings& settings, const std::string& name,
                            std::int64_t fallback) {
  const auto values = settings.integers(name);
  return values && values->size() == 3 ? (*values)[2] : fallback;
}

}  // namespace

double expected_window_fraction(const HostSettings& settings) {
  if (settings.kernel.at_least(6, 6)) return kMeasuredScalingRatio;
  return 1.0 / buffer_per_window(settings);
}

double WindowLimits::window_bytes() const {
  return std::min(receive_window_bytes, send_window_bytes);
}

WindowLimits window_limits(const HostSettings& receiver, const HostSettings& sender) {
  WindowLimits limits;
  limits.rmem_max_bytes = autotuning_max(receiver, "net.ipv4.tcp_rmem", kDefaultRmemMax);
  limits.wmem_max_bytes = autotuning_max(sender, "net.ipv4.tcp_wmem", kDefaultWmemMax);
  limits.window_fraction = expected_window_fraction(receiver);
  // The send buffer is charged the same truesize per payload byte as the receive buffer
  // (measured: a 4 MiB tcp_wmem max kept 2.8 MB in flight), so the same fraction applies.
  limits.receive_window_bytes = static_cast<double>(limits.rmem_max_bytes) * limits.window_fraction;
  limits.send_window_bytes = static_cast<double>(limits.wmem_max_bytes) * limits.window_fraction;
  // The window scale caps what a receiver can advertise at about 1 GiB.
  limits.receive_window_bytes = std::min(limits.receive_window_bytes, kMaxTcpWindowBytes);
  return limits;
}

std::string_view to_string(ModelLimit limit) {
  switch (limit) {
    case ModelLimit::link:
      return "link";
    case ModelLimit::window:
      return "window";
    case ModelLimit::loss:
      return "loss";
  }
  return "link";
}

ThroughputPrediction predict_throughput(const ThroughputModelInput& input) {
  ThroughputPrediction p;
  const double streams = std::max(input.streams, 1U);
  p.link_goodput_bps = static_cast<double>(input.rate_bps) * input.mss_bytes /
                       std::max(input.wire_bytes_per_segment, input.mss_bytes);
  p.window_bytes = input.window_bytes;
  p.window_limited_bps = streams * window_limited_bps(input.window_bytes, input.rtt);
  p.predicted_bps = p.link_goodput_bps;
  p.limit = ModelLimit::link;
  if (p.window_limited_bps < p.predicted_bps) {
    p.predicted_bps = p.window_limited_bps;
    p.limit = ModelLimit::window;
  }
  if (input.loss && *input.loss > 0 && input.loss_based) {
    p.mathis_bps = streams * mathis_bps(input.mss_bytes, input.rtt, *input.loss);
    if (*p.mathis_bps < p.predicted_bps) {
      p.predicted_bps = *p.mathis_bps;
      p.limit = ModelLimit::loss;
    }
  }
  // The window a stream must grow to: its share of the path's BDP, or less if the buffers cap it.
  p.ramp_window_bytes =
      std::min(input.window_bytes, bdp_bytes(input.rate_bps, input.rtt) / streams);
  p.slow_start = slow_start(input.initcwnd, p.ramp_window_bytes, input.mss_bytes, input.rtt);
  return p;
}

bool within_tolerance(double measured_bps, double predicted_bps) {
  if (!(predicted_bps > 0) || !std::isfinite(predicted_bps)) return false;
  // The epsilon keeps exactly 10 % (110 / 100 - 1 = 0.10000000000000009) inside.
  return std::abs(measured_bps / predicted_bps - 1.0) <= kModelTolerance + 1e-12;
}

std::optional<std::string> explain_cell(const ThroughputPrediction& prediction,
                                        const CellObservation& o) {
  const double predicted = prediction.predicted_bps;
  if (within_tolerance(o.measured_bps, predicted)) return std::nullopt;
  if (o.measured_bps > predicted) {
    if (prediction.limit == ModelLimit::window &&
        o.mean_peer_window_bytes > prediction.window_bytes * (1 + kModelTolerance)) {
      return fmt::format(
          "above the model: the receiver advertised {} on average, more than the {} its "
          "settings imply (the kernel's payload/truesize ratio was better than assumed)",
          core::format_bytes(o.mean_peer_window_bytes),
          core::format_bytes(prediction.window_bytes));
    }
    if (prediction.limit == ModelLimit::loss) {
      return "above the Mathis bound: CUBIC grows faster than the Reno model, and lost "
             "segments were fewer than the configured rate (the bound is conservative)";
    }
    return fmt::format("above the model ({}): the model's window or RTT is pessimistic here",
                       to_string(prediction.limit));
  }
  // Below the model.
  if (o.machine_capacity_bps && predicted > *o.machine_capacity_bps * (1 + kModelTolerance) &&
      o.measured_bps >= *o.machine_capacity_bps * (1 - kModelTolerance)) {
    return fmt::format(
        "CPU-bound: below what the model allows, but about the most this machine carried "
        "through the emulator in this sweep ({}); more cores or a lower --rate",
        core::format_rate(*o.machine_capacity_bps));
  }
  // The ramp was counted when the first interval at 90 % started after the omitted period
  // (intervals end a little late, so compare starts, which are on the interval grid).
  const bool ramp_counted = !o.fill || o.fill_interval_start.value_or(*o.fill) > o.counted_from;
  if (ramp_counted) {
    const std::string reached =
        o.fill ? fmt::format("reached 90 % of the model only at {}", core::format_duration(*o.fill))
               : fmt::format("never reached 90 % of the model in {}",
                             core::format_duration(o.counted_from + o.duration));
    return fmt::format(
        "slow start not finished: ideal slow start to the {} window takes {} round trips ({}), "
        "but the flow {} and the totals count from {}: run longer (-t) or omit more (-O){}",
        core::format_bytes(prediction.ramp_window_bytes), prediction.slow_start.rounds,
        core::format_duration(prediction.slow_start.time), reached,
        core::format_duration(o.counted_from),
        o.retransmits > 0
            ? fmt::format("; {} retransmitted segments slowed the ramp", o.retransmits)
            : "");
  }
  if (o.retransmits > 0) {
    return fmt::format(
        "{} retransmitted segments: losses (an overflowing bottleneck queue, or the configured "
        "loss) cut the congestion window below the model's {}",
        o.retransmits, to_string(prediction.limit));
  }
  if (!o.dominant_limit.empty()) {
    return fmt::format("below the model ({}); the sender was mostly limited by {} (TCP_INFO)",
                       to_string(prediction.limit), o.dominant_limit);
  }
  return fmt::format("below the model ({})", to_string(prediction.limit));
}

}  // namespace longhaul::tune
