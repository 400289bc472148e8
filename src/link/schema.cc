#include "link/schema.hh"

#include <fmt/format.h>

#include <array>
#include <cstdlib>

namespace longhaul::link {

namespace {

using enum ValueType;
using V = Variants;

// The rows, in the order of help texts and docs. Texts are for people: `help` is the one line of
// `--help` and of the docs' tables (markdown backquotes are dropped in --help).
const std::array kParams = {
    Param{.key = "rtt",
          .variants = V::shared,
          .type = duration,
          .metavar = "RTT",
          .help = "Round-trip propagation delay: half is applied each way (an odd nanosecond goes "
                  "down)",
          .example = "80ms",
          .default_text = "0",
          .json_key = "delay_ns",
          .excludes = "delay",
          .live = true,
          .text = &LinkFlags::rtt},
    Param{.key = "delay",
          .variants = V::shared_and_directions,
          .type = duration,
          .metavar = "DELAY",
          .help = "One-way propagation delay, each direction",
          .per_direction = "One-way delay",
          .example = "40ms",
          .default_text = "0",
          .netem = "delay",
          .json_key = "delay_ns",
          .excludes = "rtt",
          .live = true,
          .text = &LinkFlags::delay,
          .text_up = &LinkFlags::delay_up,
          .text_down = &LinkFlags::delay_down},
    Param{.key = "rate",
          .variants = V::shared_and_directions,
          .type = rate,
          .metavar = "RATE",
          .help = "Bottleneck rate each way, counting wire bytes (frame plus --overhead)",
          .per_direction = "Rate",
          .example = "500mbit",
          .default_text = "unlimited",
          .netem = "rate",
          .json_key = "rate_bps",
          .live = true,
          .text = &LinkFlags::rate,
          .text_up = &LinkFlags::rate_up,
          .text_down = &LinkFlags::rate_down},
    Param{.key = "loss",
          .variants = V::shared_and_directions,
          .type = percent,
          .metavar = "PERCENT",
          .help = "Independent random loss per wire packet, each way",
          .per_direction = "Loss",
          .example = "0.1%",
          .default_text = "0",
          .netem = "loss",
          .json_key = "loss_probability",
          .live = true,
          .text = &LinkFlags::loss,
          .text_up = &LinkFlags::loss_up,
          .text_down = &LinkFlags::loss_down},
    Param{.key = "queue",
          .variants = V::shared_and_directions,
          .type = queue_limit,
          .metavar = "LIMIT",
          .help = "Bottleneck queue limit: packets (1000p), bytes (4MB) or time (50ms)",
          .per_direction = "Queue limit",
          .example = "4MB",
          .default_text = "one bandwidth-delay product of the round trip, at least 100 packets",
          .netem = "limit",
          .json_key = "queue",
          .needs = "rate",
          .live = false,
          .text = &LinkFlags::queue,
          .text_up = &LinkFlags::queue_up,
          .text_down = &LinkFlags::queue_down},
    Param{.key = "overhead",
          .variants = V::shared,
          .type = bytes,
          .metavar = "BYTES",
          .help = "Link-layer bytes added per wire packet when counting the rate (Ethernet "
                  "preamble 8, FCS 4, inter-frame gap 12)",
          .example = "24B",
          .default_text = "24B",
          .json_key = "overhead_bytes",
          .live = false,
          .text = &LinkFlags::overhead},
    Param{.key = "qdisc",
          .variants = V::shared,
          .type = choice,
          .metavar = "DISCIPLINE",
          .help = "Queue discipline at the bottleneck: droptail, drophead, red, codel (RFC 8289, "
                  "target 5ms interval 100ms) or pie (RFC 8033, target 15ms)",
          .example = "codel",
          .default_text = "droptail",
          .json_key = "qdisc",
          .needs = "rate",
          .live = false,
          .text = &LinkFlags::qdisc},
    Param{.key = "ecn",
          .variants = V::shared,
          .type = flag,
          .help = "With --qdisc red, codel or pie: mark ECN-capable packets CE instead of "
                  "dropping them (Not-ECT packets are still dropped)",
          .default_text = "off",
          .netem = "ecn",
          .json_key = "qdisc.ecn",
          .needs = "qdisc",
          .live = false,
          .on = &LinkFlags::ecn},
    Param{.key = "cell",
          .variants = V::shared,
          .type = cell,
          .metavar = "SIZE/PAYLOAD",
          .help = "Cell framing counted by the rate: each wire packet plus --overhead is carried "
                  "in whole cells of SIZE bytes with PAYLOAD payload bytes (53/48 = ATM)",
          .example = "53/48",
          .default_text = "none",
          .json_key = "cell",
          .needs = "rate",
          .live = false,
          .text = &LinkFlags::cell},
    Param{.key = "jitter",
          .variants = V::shared_and_directions,
          .type = duration,
          .metavar = "JITTER",
          .help = "Delay variation, each way (normal: standard deviation; uniform: half-width)",
          .per_direction = "Jitter",
          .example = "5ms",
          .default_text = "0",
          .netem = "delay TIME JITTER",
          .json_key = "jitter.jitter_ns",
          .needs = "delay",
          .live = false,
          .text = &LinkFlags::jitter,
          .text_up = &LinkFlags::jitter_up,
          .text_down = &LinkFlags::jitter_down},
    Param{.key = "distribution",
          .variants = V::shared,
          .type = choice,
          .metavar = "NAME",
          .help = "Jitter distribution: uniform, normal, pareto, paretonormal, or a netem .dist "
                  "table (name or path)",
          .example = "normal",
          .default_text = "uniform",
          .netem = "distribution",
          .json_key = "jitter.distribution",
          .needs = "jitter",
          .live = false,
          .text = &LinkFlags::distribution},
    Param{.key = "jitter-mode",
          .variants = V::shared,
          .type = choice,
          .metavar = "MODE",
          .help = "order: packets keep their order (a path delay that varies in time, like "
                  "fibre); reorder: netem's independent per-packet delays",
          .example = "reorder",
          .default_text = "order",
          .json_key = "jitter.order_preserving",
          .needs = "jitter",
          .live = false,
          .text = &LinkFlags::jitter_mode},
    Param{.key = "correlation-model",
          .variants = V::shared,
          .type = choice,
          .metavar = "MODEL",
          .help = "preserving: correlated values keep the configured distribution; netem: "
                  "netem's arithmetic, distortions included",
          .example = "netem",
          .default_text = "preserving",
          .json_key = "jitter.correlation",
          .live = false,
          .text = &LinkFlags::correlation_model},
    Param{.key = "duplicate",
          .variants = V::shared,
          .type = percent,
          .metavar = "PERCENT",
          .help = "Duplicate a wire packet with this probability, each way",
          .example = "1%",
          .default_text = "0",
          .netem = "duplicate",
          .json_key = "duplicate_probability",
          .live = false,
          .text = &LinkFlags::duplicate},
    Param{.key = "corrupt",
          .variants = V::shared,
          .type = percent,
          .metavar = "PERCENT",
          .help = "Flip one payload bit of a wire packet with this probability (checksums catch "
                  "it)",
          .example = "0.1%",
          .default_text = "0",
          .netem = "corrupt",
          .json_key = "corrupt_probability",
          .live = false,
          .text = &LinkFlags::corrupt},
    Param{.key = "ber",
          .variants = V::shared,
          .type = fraction,
          .metavar = "FRACTION",
          .help = "Bit error rate of payload bits",
          .example = "1e-9",
          .default_text = "0",
          .json_key = "bit_error_rate",
          .live = false,
          .text = &LinkFlags::ber},
    Param{.key = "outage",
          .variants = V::shared,
          .type = outages,
          .metavar = "START+LENGTH",
          .help = "Link down in both directions from START for LENGTH after it came up "
                  "(repeatable)",
          .example = "5s+2s",
          .default_text = "none",
          .json_key = "outages",
          .live = false,
          .list = &LinkFlags::outages},
    Param{.key = "netem",
          .variants = V::shared_and_directions,
          .type = netem_line,
          .metavar = "LINE",
          .help = "A tc-netem parameter line applied to both directions, in tc's units; a "
                  "parameter it sets cannot also be given by a flag",
          .per_direction = "A tc-netem line for",
          .example = "delay 100ms 10ms 25% distribution normal loss 0.1%",
          .default_text = "none",
          .json_key = "delay_ns",
          .live = false,
          .text = &LinkFlags::netem,
          .text_up = &LinkFlags::netem_up,
          .text_down = &LinkFlags::netem_down},
    Param{.key = "at",
          .variants = V::shared,
          .type = changes,
          .metavar = "TIME:CHANGES",
          .help = "At TIME after the link comes up, change live parameters: TIME:KEY=VALUE[,...] "
                  "(repeatable; queued packets are kept)",
          .example = "10s:rate=100mbit,delay-up=40ms",
          .default_text = "none",
          .json_key = "schedule.steps",
          .live = false,
          .list = &LinkFlags::at},
    Param{.key = "schedule",
          .variants = V::shared,
          .type = file,
          .metavar = "FILE",
          .help = "Schedule file: lines \"TIME [up|down] KEY VALUE ...\" with the keys of --at, "
                  "\"repeat PERIOD\", # comments",
          .example = "day.sched",
          .default_text = "none",
          .json_key = "schedule.steps",
          .live = false,
          .text = &LinkFlags::schedule},
    Param{.key = "schedule-repeat",
          .variants = V::shared,
          .type = duration,
          .metavar = "PERIOD",
          .help = "Replay the --at/--schedule steps every PERIOD (on/off patterns)",
          .example = "60s",
          .default_text = "once",
          .json_key = "schedule.period_ns",
          .live = false,
          .text = &LinkFlags::schedule_repeat},
    Param{.key = "trace",
          .variants = V::directions,
          .type = file,
          .metavar = "FILE",
          .help = "Capacity trace instead of a rate: a Mahimahi trace (ms per 1500-byte delivery "
                  "opportunity) or native \"T_US RATE\" lines",
          .per_direction = "Capacity trace",
          .example = "lte.down.mahi",
          .default_text = "none",
          .json_key = "capacity_trace",
          .live = false,
          .text_up = &LinkFlags::trace_up,
          .text_down = &LinkFlags::trace_down},
    Param{.key = "trace-once",
          .variants = V::shared,
          .type = flag,
          .help = "Play the traces once and keep their last rate (default: loop, as Mahimahi)",
          .default_text = "loop",
          .json_key = "capacity_trace.period_ns",
          .needs = "trace",
          .live = false,
          .on = &LinkFlags::trace_once},
    Param{.key = "mtu",
          .variants = V::shared_and_directions,
          .type = bytes,
          .metavar = "BYTES",
          .help = "Largest IP packet each way, in bytes; larger packets are dropped and counted "
                  "as mtu",
          .per_direction = "MTU",
          .example = "1400",
          .default_text = "none",
          .json_key = "mtu_bytes",
          .live = false,
          .text = &LinkFlags::mtu,
          .text_up = &LinkFlags::mtu_up,
          .text_down = &LinkFlags::mtu_down},
    Param{.key = "mtu-icmp",
          .variants = V::shared,
          .type = flag,
          .help = "Answer packets over the MTU with ICMP fragmentation-needed (IPv4 with DF) / "
                  "ICMPv6 packet-too-big, so path MTU discovery works",
          .default_text = "off",
          .json_key = "mtu_icmp",
          .needs = "mtu",
          .live = false,
          .on = &LinkFlags::mtu_icmp},
    Param{.key = "seed",
          .variants = V::shared,
          .type = seed,
          .metavar = "N",
          .help = "Seed of every random model; printed in every run so it can be replayed",
          .example = "42",
          .default_text = "random",
          .netem = "seed",
          .json_key = "seed",
          .live = false,
          .number = &LinkFlags::seed},
};

}  // namespace

std::span<const Param> link_params() {
  return kParams;
}

std::vector<std::string> names_of(const Param& p) {
  std::vector<std::string> names;
  const std::string key(p.key);
  if (p.variants != Variants::directions) names.push_back(key);
  if (p.variants != Variants::shared) {
    names.push_back(key + "-up");
    names.push_back(key + "-down");
  }
  return names;
}

std::vector<std::string> param_names() {
  std::vector<std::string> names;
  for (const Param& p : kParams) {
    for (auto& name : names_of(p)) names.push_back(std::move(name));
  }
  return names;
}

std::optional<ParamName> find_param(std::string_view name) {
  for (const Param& p : kParams) {
    if (p.variants != Variants::directions && name == p.key) {
      return ParamName{&p, ParamName::Side::shared, std::string(name)};
    }
    if (p.variants == Variants::shared || !name.starts_with(p.key)) continue;
    const std::string_view rest = name.substr(p.key.size());
    if (rest == "-up") return ParamName{&p, ParamName::Side::up, std::string(name)};
    if (rest == "-down") return ParamName{&p, ParamName::Side::down, std::string(name)};
  }
  return std::nullopt;
}

std::string live_keys_text() {
  std::string shared;
  std::string directional;
  for (const Param& p : kParams) {
    if (!p.live) continue;
    if (p.variants != Variants::directions)
      shared += (shared.empty() ? "" : ", ") + std::string(p.key);
    if (p.variants != Variants::shared) {
      directional += fmt::format("{}{}-up, {}-down", directional.empty() ? "" : ", ", p.key, p.key);
    }
  }
  return directional.empty() ? shared
                             : fmt::format("{}, or one direction's {}", shared, directional);
}

const Param& param(std::string_view key) {
  for (const Param& p : kParams) {
    if (p.key == key) return p;
  }
  std::abort();  // a key the code names must be in the table
}

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case duration:
      return "duration";
    case rate:
      return "rate";
    case percent:
      return "percent";
    case queue_limit:
      return "packets, bytes or time";
    case bytes:
      return "bytes";
    case fraction:
      return "fraction";
    case choice:
      return "word";
    case cell:
      return "bytes/bytes";
    case netem_line:
      return "tc's units";
    case file:
      return "file";
    case flag:
      return "on/off";
    case outages:
      return "durations";
    case changes:
      return "durations and values";
    case seed:
      return "whole number";
  }
  return "";
}

const std::optional<std::string>& value_for(const LinkFlags& flags, const Param& p, int direction,
                                            std::string* name) {
  static const std::optional<std::string> kNone;
  const auto specific = direction == 0 ? p.text_up : p.text_down;
  if (specific != nullptr && flags.*specific) {
    if (name != nullptr) *name = fmt::format("--{}-{}", p.key, direction == 0 ? "up" : "down");
    return flags.*specific;
  }
  if (name != nullptr) *name = fmt::format("--{}", p.key);
  return p.text != nullptr ? flags.*(p.text) : kNone;
}

bool given(const LinkFlags& flags, const Param& p) {
  if (p.text != nullptr && flags.*(p.text)) return true;
  if (p.text_up != nullptr && flags.*(p.text_up)) return true;
  if (p.text_down != nullptr && flags.*(p.text_down)) return true;
  if (p.on != nullptr && flags.*(p.on)) return true;
  if (p.list != nullptr && !(flags.*(p.list)).empty()) return true;
  return p.number != nullptr && (flags.*(p.number)).has_value();
}

std::string check_relations(const LinkFlags& flags) {
  for (const Param& p : kParams) {
    if (p.excludes.empty() || !given(flags, p)) continue;
    const Param& other = param(p.excludes);
    if (!given(flags, other)) continue;
    std::string others;
    for (const auto& name : names_of(other)) others += (others.empty() ? "--" : "/--") + name;
    return fmt::format("--{} and {} both given; give one of them (--{}: {})", p.key, others, p.key,
                       p.help);
  }
  return {};
}

}  // namespace longhaul::link
