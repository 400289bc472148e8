#include "lab/link_options.hh"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>

namespace longhaul::lab {

namespace {

using core::Nanos;

template <class T>
core::Parsed<T> fail(std::string message) {
  core::Parsed<T> result;
  result.error = std::move(message);
  return result;
}

// Picks the per-direction value: the direction flag wins over the shared one.
const std::optional<std::string>& pick(const std::optional<std::string>& specific,
                                       const std::optional<std::string>& shared) {
  return specific ? specific : shared;
}

std::string flag_error(const char* flag, const std::string& detail) {
  return fmt::format("{}: {}", flag, detail);
}

}  // namespace

core::QueueBound default_queue(std::uint64_t rate_bps, Nanos rtt) {
  core::QueueBound bound;
  if (rate_bps == 0) return bound;
  const double bdp_bytes =
      static_cast<double>(rate_bps) / 8.0 * static_cast<double>(rtt.count()) / 1e9;
  bound.max_bytes = std::max(static_cast<std::uint64_t>(bdp_bytes), 100 * kFullSizeWireBytes);
  return bound;
}

core::Parsed<LinkSpec> resolve_link(const LinkFlags& flags, std::uint64_t random_seed) {
  LinkSpec spec;
  spec.seed_given = flags.seed.has_value();
  spec.seed = flags.seed.value_or(random_seed);

  // Delay: --rtt is a round trip (half each way); --delay is one way, each direction.
  if (flags.rtt && (flags.delay || flags.delay_up || flags.delay_down)) {
    return fail<LinkSpec>(
        "--rtt and --delay/--delay-up/--delay-down both given: --rtt X means X/2 one way in each "
        "direction; give either --rtt or the one-way delays");
  }
  Nanos delays[2]{};
  if (flags.rtt) {
    auto rtt = core::parse_duration(*flags.rtt);
    if (!rtt) return fail<LinkSpec>(flag_error("--rtt", rtt.error));
    delays[0] = delays[1] = *rtt / 2;
    delays[1] += *rtt % 2;  // an odd nanosecond goes one way, so the round trip is exact
  } else {
    const char* names[2] = {"--delay-up", "--delay-down"};
    const std::optional<std::string>* values[2] = {&pick(flags.delay_up, flags.delay),
                                                   &pick(flags.delay_down, flags.delay)};
    for (int i = 0; i < 2; ++i) {
      if (!*values[i]) continue;
      auto delay = core::parse_duration(**values[i]);
      const char* name = (i == 0 ? flags.delay_up : flags.delay_down) ? names[i] : "--delay";
      if (!delay) return fail<LinkSpec>(flag_error(name, delay.error));
      delays[i] = *delay;
    }
  }
  constexpr Nanos kMaxDelay = std::chrono::seconds(60);
  for (const Nanos delay : delays) {
    if (delay > kMaxDelay) {
      return fail<LinkSpec>(fmt::format(
          "one-way delay {} is longer than the supported maximum of 60 s; check the unit "
          "(ms, not s?)",
          core::format_duration(delay)));
    }
  }

  std::uint32_t overhead = 24;
  if (flags.overhead) {
    auto bytes = core::parse_bytes(*flags.overhead);
    if (!bytes) return fail<LinkSpec>(flag_error("--overhead", bytes.error));
    if (*bytes > 1024) {
      return fail<LinkSpec>(fmt::format(
          "--overhead: {} bytes per packet is implausible (Ethernet framing is 24 B: preamble 8, "
          "FCS 4, gap 12); give 0..1024B",
          *bytes));
    }
    overhead = static_cast<std::uint32_t>(*bytes);
  }

  struct PerDirection {
    const std::optional<std::string>& rate;
    const char* rate_flag;
    const std::optional<std::string>& loss;
    const char* loss_flag;
    const std::optional<std::string>& queue;
    const char* queue_flag;
  };
  const PerDirection inputs[2] = {
      {pick(flags.rate_up, flags.rate), flags.rate_up ? "--rate-up" : "--rate",
       pick(flags.loss_up, flags.loss), flags.loss_up ? "--loss-up" : "--loss",
       pick(flags.queue_up, flags.queue), flags.queue_up ? "--queue-up" : "--queue"},
      {pick(flags.rate_down, flags.rate), flags.rate_down ? "--rate-down" : "--rate",
       pick(flags.loss_down, flags.loss), flags.loss_down ? "--loss-down" : "--loss",
       pick(flags.queue_down, flags.queue), flags.queue_down ? "--queue-down" : "--queue"},
  };
  const Nanos rtt = delays[0] + delays[1];
  core::DirectionConfig* configs[2] = {&spec.up, &spec.down};
  for (int i = 0; i < 2; ++i) {
    core::DirectionConfig& config = *configs[i];
    const PerDirection& in = inputs[i];
    config.delay = delays[i];
    config.overhead_bytes = overhead;
    config.seed = core::derive_seed(spec.seed, static_cast<std::uint64_t>(i) + 1);
    if (in.rate) {
      auto rate = core::parse_rate_bps(*in.rate);
      if (!rate) return fail<LinkSpec>(flag_error(in.rate_flag, rate.error));
      config.rate_bps = *rate;
    }
    if (in.loss) {
      auto loss = core::parse_probability(*in.loss);
      if (!loss) return fail<LinkSpec>(flag_error(in.loss_flag, loss.error));
      config.loss = *loss;
    }
    if (in.queue) {
      if (config.rate_bps == 0) {
        return fail<LinkSpec>(fmt::format(
            "{} {}: a queue only forms in front of a rate limit; add --rate (or drop {})",
            in.queue_flag, *in.queue, in.queue_flag));
      }
      auto limit = core::parse_queue_limit(*in.queue);
      if (!limit) return fail<LinkSpec>(flag_error(in.queue_flag, limit.error));
      const std::uint64_t full_packet = kFullSizeWireBytes;
      switch (limit->kind) {
        case core::QueueLimit::Kind::packets:
          if (limit->packets < 1) {
            return fail<LinkSpec>(fmt::format("{} {}: a queue must hold at least one packet",
                                              in.queue_flag, *in.queue));
          }
          config.queue.max_packets = limit->packets;
          break;
        case core::QueueLimit::Kind::bytes:
          if (limit->bytes < full_packet) {
            return fail<LinkSpec>(fmt::format(
                "{} {}: smaller than one full-size packet ({} B on the wire); give at least {}B",
                in.queue_flag, *in.queue, full_packet, full_packet));
          }
          config.queue.max_bytes = limit->bytes;
          break;
        case core::QueueLimit::Kind::time: {
          const auto one_packet = Nanos{static_cast<std::int64_t>(std::ceil(
              static_cast<double>(full_packet) * 8e9 / static_cast<double>(config.rate_bps)))};
          if (limit->time < one_packet) {
            return fail<LinkSpec>(fmt::format(
                "{} {}: shorter than one full-size packet takes at this rate ({}); give at least "
                "that",
                in.queue_flag, *in.queue, core::format_duration(one_packet)));
          }
          config.queue.max_delay = limit->time;
          break;
        }
      }
    } else {
      config.queue = default_queue(config.rate_bps, rtt);
    }
  }
  return core::Parsed<LinkSpec>{spec, {}};
}

BufferPlan plan_buffers(const core::DirectionConfig& config, std::uint64_t assumed_rate_bps) {
  const double rate =
      static_cast<double>(config.rate_bps != 0 ? config.rate_bps : assumed_rate_bps);
  const double seconds = static_cast<double>(config.delay.count()) / 1e9;
  double queue_bytes = static_cast<double>(config.queue.max_bytes);
  if (config.queue.max_packets != 0)
    queue_bytes = static_cast<double>(config.queue.max_packets) * 65600.0;
  if (config.queue.max_delay.count() != 0) {
    queue_bytes = rate / 8.0 * static_cast<double>(config.queue.max_delay.count()) / 1e9;
  }
  // In flight on the delay line, the full queue, and slack for bursts. The
  // factor 1.6 covers the worst case of the arena's 64-byte rounding: a
  // minimum-size frame is 84 bytes on the wire but takes 128 arena bytes.
  // Only address space is reserved; resident memory follows what is in flight.
  const double bytes = rate / 8.0 * seconds * 1.6 + queue_bytes + 16.0 * 1024 * 1024;
  BufferPlan plan;
  plan.arena_bytes = static_cast<std::size_t>(bytes);
  // Worst case: every frame the smallest (one 128-byte arena unit pair).
  plan.capacity_packets = std::max<std::size_t>(plan.arena_bytes / 128, 4096);
  return plan;
}

std::string describe(const core::DirectionConfig& config) {
  std::string text = fmt::format("delay {}", core::format_duration(config.delay));
  if (config.rate_bps != 0) {
    text += fmt::format(", rate {}", core::format_rate(static_cast<double>(config.rate_bps)));
    if (config.queue.max_bytes != 0)
      text += fmt::format(", queue {}",
                          core::format_bytes(static_cast<double>(config.queue.max_bytes)));
    if (config.queue.max_packets != 0)
      text += fmt::format(", queue {} packets", config.queue.max_packets);
    if (config.queue.max_delay.count() != 0)
      text += fmt::format(", queue {}", core::format_duration(config.queue.max_delay));
  } else {
    text += ", rate unlimited";
  }
  if (config.loss > 0) text += fmt::format(", loss {:g}%", config.loss * 100);
  return text;
}

}  // namespace longhaul::lab
