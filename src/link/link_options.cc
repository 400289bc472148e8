#include "link/link_options.hh"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include "core/netem_syntax.hh"
#include "io/text_file.hh"
#include "link/schedule_options.hh"
#include "link/schema.hh"
#include "link/trace_file.hh"

namespace longhaul::link {

namespace {

using core::Nanos;

std::string flag_error(std::string_view flag, const std::string& detail) {
  return fmt::format("{}: {}", flag, detail);
}

}  // namespace

namespace {
std::string apply_impairments(const LinkFlags& flags, LinkSpec& spec);
std::string apply_queue_discipline(const LinkFlags& flags, LinkSpec& spec);
std::string check_time_varying(const LinkFlags& flags, const LinkSpec& spec);
std::string apply_mtu(const LinkFlags& flags, LinkSpec& spec);
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
  if (auto error = check_relations(flags); !error.empty()) {
    return core::parse_failure<LinkSpec>(error);
  }
  Nanos delays[2]{};
  for (int i = 0; i < 2; ++i) {
    std::string name;
    const auto& text = flags.rtt ? flags.rtt : value_for(flags, param("delay"), i, &name);
    if (!text) continue;
    auto delay = core::parse_duration(*text);
    if (!delay) {
      return core::parse_failure<LinkSpec>(flag_error(flags.rtt ? "--rtt" : name, delay.error));
    }
    // An odd nanosecond of a round trip goes down, so the round trip is exact.
    delays[i] = flags.rtt ? *delay / 2 + (i == 1 ? *delay % 2 : Nanos{0}) : *delay;
  }
  constexpr Nanos kMaxDelay = std::chrono::seconds(60);
  for (const Nanos delay : delays) {
    if (delay > kMaxDelay) {
      return core::parse_failure<LinkSpec>(fmt::format(
          "one-way delay {} is longer than the supported maximum of 60 s; check the unit "
          "(ms, not s?)",
          core::format_duration(delay)));
    }
  }

  // Schedules and capacity traces first: whether a direction has a rate at
  // some time decides what its queue flags mean.
  auto schedule = resolve_schedule(flags.at, flags.schedule, flags.schedule_repeat);
  if (!schedule) return core::parse_failure<LinkSpec>(schedule.error);
  std::uint32_t overhead = 24;
  if (flags.overhead) {
    auto bytes = core::parse_bytes(*flags.overhead);
    if (!bytes) return core::parse_failure<LinkSpec>(flag_error("--overhead", bytes.error));
    if (*bytes > 1024) {
      return core::parse_failure<LinkSpec>(fmt::format(
          "--overhead: {} bytes per packet is implausible (Ethernet framing is 24 B: preamble 8, "
          "FCS 4, gap 12); give 0..1024B",
          *bytes));
    }
    overhead = static_cast<std::uint32_t>(*bytes);
  }

  core::ScheduleConfig traces[2];
  const std::optional<std::string>* trace_files[2] = {&flags.trace_up, &flags.trace_down};
  for (int i = 0; i < 2; ++i) {
    if (!*trace_files[i]) continue;
    auto trace = load_capacity_trace(**trace_files[i], !flags.trace_once, overhead);
    if (!trace) {
      return core::parse_failure<LinkSpec>(
          fmt::format("{} {}", i == 0 ? "--trace-up" : "--trace-down", trace.error));
    }
    traces[i] = *trace;
  }
  if (flags.trace_once && !flags.trace_up && !flags.trace_down) {
    return core::parse_failure<LinkSpec>(
        "--trace-once: plays a capacity trace once; add --trace-up/--trace-down");
  }

  struct PerDirection {
    std::optional<std::string> rate, loss, queue;
    std::string rate_flag, loss_flag, queue_flag;
  };
  PerDirection inputs[2];
  for (int i = 0; i < 2; ++i) {
    inputs[i].rate = value_for(flags, param("rate"), i, &inputs[i].rate_flag);
    inputs[i].loss = value_for(flags, param("loss"), i, &inputs[i].loss_flag);
    inputs[i].queue = value_for(flags, param("queue"), i, &inputs[i].queue_flag);
  }
  const Nanos rtt = delays[0] + delays[1];
  core::DirectionConfig* configs[2] = {&spec.up, &spec.down};
  for (int i = 0; i < 2; ++i) {
    core::DirectionConfig& config = *configs[i];
    const PerDirection& in = inputs[i];
    config.delay = delays[i];
    config.overhead_bytes = overhead;
    config.seed = core::derive_seed(spec.seed, static_cast<std::uint64_t>(i) + 1);
    config.schedule = i == 0 ? schedule->up : schedule->down;
    config.capacity_trace = traces[i];
    if (in.rate && !traces[i].empty()) {
      return core::parse_failure<LinkSpec>(fmt::format(
          "{} and {} both set the rate; the trace gives the capacity over time, so drop {}",
          in.rate_flag, i == 0 ? "--trace-up" : "--trace-down", in.rate_flag));
    }
    if (!traces[i].empty()) {
      // The trace's first rate holds from the start (it begins at 0).
      config.rate_bps = traces[i].steps.front().change.rate_bps.value_or(0);
    }
    if (in.rate) {
      auto rate = core::parse_rate_bps(*in.rate);
      if (!rate) return core::parse_failure<LinkSpec>(flag_error(in.rate_flag, rate.error));
      config.rate_bps = *rate;
    }
    if (in.loss) {
      auto loss = core::parse_probability(*in.loss);
      if (!loss) return core::parse_failure<LinkSpec>(flag_error(in.loss_flag, loss.error));
      config.loss = *loss;
    }
    if (in.queue) {
      if (!config.has_rate()) {
        return core::parse_failure<LinkSpec>(fmt::format(
            "{} {}: a queue only forms in front of a rate limit; add --rate (or drop {})",
            in.queue_flag, *in.queue, in.queue_flag));
      }
      auto limit = core::parse_queue_limit(*in.queue);
      if (!limit) return core::parse_failure<LinkSpec>(flag_error(in.queue_flag, limit.error));
      const std::uint64_t full_packet = kFullSizeWireBytes;
      switch (limit->kind) {
        case core::QueueLimit::Kind::packets:
          if (limit->packets < 1) {
            return core::parse_failure<LinkSpec>(fmt::format(
                "{} {}: a queue must hold at least one packet", in.queue_flag, *in.queue));
          }
          config.queue.max_packets = limit->packets;
          break;
        case core::QueueLimit::Kind::bytes:
          if (limit->bytes < full_packet) {
            return core::parse_failure<LinkSpec>(fmt::format(
                "{} {}: smaller than one full-size packet ({} B on the wire); give at least {}B",
                in.queue_flag, *in.queue, full_packet, full_packet));
          }
          config.queue.max_bytes = limit->bytes;
          break;
        case core::QueueLimit::Kind::time: {
          // At the fastest rate the direction ever has: the limit must hold a packet then.
          const auto one_packet = Nanos{
              static_cast<std::int64_t>(std::ceil(static_cast<double>(full_packet) * 8e9 /
                                                  static_cast<double>(config.max_rate_bps())))};
          if (limit->time < one_packet) {
            return core::parse_failure<LinkSpec>(fmt::format(
                "{} {}: shorter than one full-size packet takes at this rate ({}); give at least "
                "that",
                in.queue_flag, *in.queue, core::format_duration(one_packet)));
          }
          config.queue.max_delay = limit->time;
          break;
        }
      }
    } else {
      // Sized for the fastest rate the direction ever has (a schedule or trace may raise it).
      config.queue = default_queue(config.max_rate_bps(), rtt);
    }
  }
  if (auto error = apply_impairments(flags, spec); !error.empty())
    return core::parse_failure<LinkSpec>(error);
  if (auto error = apply_queue_discipline(flags, spec); !error.empty()) {
    return core::parse_failure<LinkSpec>(error);
  }
  if (auto error = check_time_varying(flags, spec); !error.empty())
    return core::parse_failure<LinkSpec>(error);
  if (auto error = apply_mtu(flags, spec); !error.empty())
    return core::parse_failure<LinkSpec>(error);
  return core::Parsed<LinkSpec>{spec, {}};
}

core::Parsed<std::vector<std::int16_t>> load_dist_table(const std::string& name) {
  std::vector<std::string> candidates;
  if (name.find('/') != std::string::npos) {
    candidates.push_back(name);
  } else {
    const std::string file = name.ends_with(".dist") ? name : name + ".dist";
    for (const char* dir :
         {"/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/tc", "/usr/lib64/tc", "/usr/local/lib/tc"}) {
      candidates.push_back(std::string(dir) + "/" + file);
    }
  }
  for (const auto& path : candidates) {
    std::error_code missing;
    if (!std::filesystem::exists(path, missing)) continue;  // the next place, or the error below
    const io::InputFile text = io::read_input_file(path, "distribution", io::kDistTableLimit);
    if (!text) return core::parse_failure<std::vector<std::int16_t>>(text.error);
    auto table = core::parse_dist_table(text.text);
    if (!table) {
      return core::parse_failure<std::vector<std::int16_t>>(
          fmt::format("{}: {}", path, table.error.message));
    }
    return core::Parsed<std::vector<std::int16_t>>{*table.value, {}};
  }
  std::string tried;
  for (const auto& path : candidates) tried += (tried.empty() ? "" : ", ") + path;
  return core::parse_failure<std::vector<std::int16_t>>(fmt::format(
      "distribution \"{}\" is not built in (uniform, normal, pareto, paretonormal) and no table "
      "was found (looked at {}); give a path to a netem .dist file",
      name, tried));
}

namespace {

/// A plain fraction such as "1e-9" or "0.000001" (bit error rates are written so).
std::optional<double> parse_fraction(std::string_view text) {
  double value = 0;
  const auto* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (result.ec != std::errc() || result.ptr != end || !(value >= 0.0) || value > 1.0) {
    return std::nullopt;
  }
  return value;
}

/// Applies jitter, duplication, corruption, outages and --netem lines; "" or an error.
std::string apply_impairments(const LinkFlags& flags, LinkSpec& spec) {
  core::CorrelationModel model = core::CorrelationModel::preserving;
  if (flags.correlation_model) {
    if (*flags.correlation_model == "netem") {
      model = core::CorrelationModel::netem;
    } else if (*flags.correlation_model != "preserving") {
      return fmt::format(
          "--correlation-model {}: use \"preserving\" (exact configured "
          "distribution, the default) or \"netem\" (netem's arithmetic)",
          *flags.correlation_model);
    }
  }
  core::JitterMode mode = core::JitterMode::order_preserving;
  if (flags.jitter_mode) {
    if (*flags.jitter_mode == "reorder") {
      mode = core::JitterMode::reordering;
    } else if (*flags.jitter_mode != "order") {
      return fmt::format(
          "--jitter-mode {}: use \"order\" (packets keep their order, the "
          "default) or \"reorder\" (netem's: each packet its own delay)",
          *flags.jitter_mode);
    }
  }
  core::JitterShape shape = core::JitterShape::uniform;
  std::vector<std::int16_t> table;
  if (flags.distribution) {
    if (auto builtin = core::builtin_jitter_shape(*flags.distribution)) {
      shape = *builtin;
    } else {
      auto loaded = load_dist_table(*flags.distribution);
      if (!loaded) return "--distribution: " + loaded.error;
      shape = core::JitterShape::table;
      table = *loaded.value;
    }
  }
  core::LossScheduleConfig outages;
  for (const auto& text : flags.outages) {
    const auto plus = text.find('+');
    if (plus == std::string::npos) {
      return fmt::format("--outage {}: give START+LENGTH, e.g. 5s+2s (down from 5 s to 7 s)", text);
    }
    auto start = core::parse_duration(text.substr(0, plus));
    auto length = core::parse_duration(text.substr(plus + 1));
    if (!start) return fmt::format("--outage {}: {}", text, start.error);
    if (!length) return fmt::format("--outage {}: {}", text, length.error);
    outages.windows.push_back({*start, *start + *length});
  }

  core::DirectionConfig* configs[2] = {&spec.up, &spec.down};
  std::optional<std::string> jitters[2], netems[2];
  std::string jitter_flags[2], netem_flags[2];
  bool delay_flags[2], rate_flags[2], loss_flags[2], queue_flags[2];
  for (int i = 0; i < 2; ++i) {
    jitters[i] = value_for(flags, param("jitter"), i, &jitter_flags[i]);
    netems[i] = value_for(flags, param("netem"), i, &netem_flags[i]);
    delay_flags[i] = flags.rtt || value_for(flags, param("delay"), i);
    rate_flags[i] = value_for(flags, param("rate"), i).has_value();
    loss_flags[i] = value_for(flags, param("loss"), i).has_value();
    queue_flags[i] = value_for(flags, param("queue"), i).has_value();
  }
  bool default_queue_pending[2] = {false, false};
  for (int i = 0; i < 2; ++i) {
    core::DirectionConfig& config = *configs[i];
    config.correlation_model = model;
    config.jitter_mode = mode;
    config.jitter_shape = shape;
    config.jitter_table = table;
    if (jitters[i]) {
      auto jitter = core::parse_duration(*jitters[i]);
      if (!jitter) return flag_error(jitter_flags[i], jitter.error);
      config.jitter = *jitter;
      // Jitter varies each packet's delay around the configured one: around none it could only
      // add delay, a different distribution from the one asked for.
      if (jitter->count() != 0 && !delay_flags[i] && !netems[i]) {
        return flag_error(jitter_flags[i],
                          fmt::format("{} varies the one-way delay, and this direction has none: "
                                      "give a delay too (e.g. --rtt 80ms --jitter 5ms)",
                                      *jitters[i]));
      }
    }
    if (flags.duplicate) {
      auto p = core::parse_probability(*flags.duplicate);
      if (!p) return "--duplicate: " + p.error;
      config.duplicate.probability = *p;
      config.duplicate.correlation_model = model;
    }
    if (flags.corrupt) {
      auto p = core::parse_probability(*flags.corrupt);
      if (!p) return "--corrupt: " + p.error;
      config.corrupt.probability = *p;
      config.corrupt.correlation_model = model;
    }
    if (flags.ber) {
      auto ber = parse_fraction(*flags.ber);
      if (!ber) {
        return fmt::format("--ber {}: a bit error rate is a fraction from 0 to 1, e.g. 1e-9",
                           *flags.ber);
      }
      config.corrupt.bit_error_rate = *ber;
    }
    config.loss_model.schedule = outages;

    if (netems[i]) {
      const std::string& flag = netem_flags[i];
      if (netems[i]->find_first_not_of(" \t") == std::string::npos) {
        return fmt::format(
            "{} \"{}\": an empty netem line sets nothing; give its parameters, "
            "e.g. {} \"{}\" (or drop {})",
            flag, *netems[i], flag, param("netem").example, flag);
      }
      auto parsed = core::parse_netem(*netems[i]);
      if (!parsed) {
        return fmt::format("{} \"{}\": {}", flag, *netems[i], parsed.error.message);
      }
      const core::NetemSpec& netem = *parsed.value;
      const auto both = [&](const char* what, const char* other) {
        return fmt::format("{} sets {} and so does {}: give it in one place", flag, what, other);
      };
      if (netem.delay.count() != 0 || netem.jitter.count() != 0) {
        if (delay_flags[i]) return both("the delay", "--rtt/--delay");
        if (jitters[i]) return both("the jitter", "--jitter");
        std::vector<std::int16_t> netem_table;
        if (netem.distribution == core::JitterShape::table) {
          auto loaded = load_dist_table(netem.distribution_name);
          if (!loaded) return flag + ": " + loaded.error;
          netem_table = *loaded.value;
        }
        const auto jitter = core::netem_jitter_config(netem, netem_table, model);
        config.delay = jitter.delay;
        config.jitter = jitter.jitter;
        config.jitter_correlation = jitter.correlation;
        config.jitter_shape = jitter.shape;
        config.jitter_table = jitter.table;
      }
      if (!std::holds_alternative<std::monostate>(netem.loss) || netem.ecn) {
        if (loss_flags[i]) return both("loss", "--loss");
        auto loss = core::netem_loss_config(netem, model);
        loss.schedule = config.loss_model.schedule;
        config.loss_model = loss;
      }
      if (netem.duplicate > 0) {
        if (flags.duplicate) return both("duplicate", "--duplicate");
        config.duplicate = core::netem_duplicate_config(netem, model);
      }
      if (netem.corrupt > 0) {
        if (flags.corrupt) return both("corrupt", "--corrupt");
        config.corrupt.probability = netem.corrupt;
        config.corrupt.correlation = netem.corrupt_correlation;
      }
      if (netem.reorder > 0) config.reorder = core::netem_reorder_config(netem, model);
      if (netem.rate_bps) {
        if (rate_flags[i]) return both("the rate", "--rate");
        if (!config.capacity_trace.empty()) return both("the rate", "a capacity trace");
        config.rate_bps = *netem.rate_bps;
        // netem's rate counts the packet plus the given overhead (0 by default).
        config.overhead_bytes =
            static_cast<std::uint32_t>(std::max(0, netem.packet_overhead.value_or(0)));
        // Sized after both directions' delays are known (the other line may set one).
        default_queue_pending[i] = !queue_flags[i];
      }
      if (netem.limit_packets && config.rate_bps != 0) {
        if (queue_flags[i]) return both("the queue limit", "--queue");
        // netem's limit also covers its delay line; longhaul never caps the delay
        // line, so the limit bounds the bottleneck queue only.
        config.queue = core::QueueBound{*netem.limit_packets, 0, core::Nanos{0}};
      }
      if (netem.seed) {
        if (spec.seed_given && spec.seed != *netem.seed) return both("the seed", "--seed");
        spec.seed = *netem.seed;
        spec.seed_given = true;
        spec.up.seed = core::derive_seed(spec.seed, 1);
        spec.down.seed = core::derive_seed(spec.seed, 2);
      }
    }
    if (config.reorder.probability > 0 && config.delay.count() == 0) {
      return fmt::format(
          "{}: reorder sends some packets without the delay, so it needs a delay "
          "(add delay TIME)",
          netem_flags[i]);
    }
    if (config.loss > 0 && config.loss_model.needs_wire_packets()) {
      return "--loss and a netem loss model both given: give one";
    }
  }
  for (int i = 0; i < 2; ++i) {
    if (default_queue_pending[i] && configs[i]->queue.max_packets == 0) {
      configs[i]->queue = default_queue(configs[i]->rate_bps, spec.up.delay + spec.down.delay);
    }
  }
  if (flags.distribution && !spec.up.has_jitter() && !spec.down.has_jitter()) {
    return "--distribution shapes the jitter: add --jitter (e.g. --jitter 5ms)";
  }
  return {};
}

/// Applies --qdisc, --ecn and --cell (after the rates are known, --netem's included).
std::string apply_queue_discipline(const LinkFlags& flags, LinkSpec& spec) {
  core::DirectionConfig* configs[2] = {&spec.up, &spec.down};
  const bool any_rate = spec.up.has_rate() || spec.down.has_rate();
  core::QueueConfig qdisc;
  if (flags.qdisc) {
    static constexpr core::QueueDiscipline kAll[] = {
        core::QueueDiscipline::drop_tail, core::QueueDiscipline::drop_head,
        core::QueueDiscipline::red, core::QueueDiscipline::codel, core::QueueDiscipline::pie};
    bool known = false;
    for (const auto discipline : kAll) {
      if (*flags.qdisc == core::queue_discipline_name(discipline)) {
        qdisc.discipline = discipline;
        known = true;
      }
    }
    if (!known) {
      return fmt::format(
          "--qdisc {}: unknown queue discipline; use droptail (the default), drophead, red, "
          "codel or pie",
          *flags.qdisc);
    }
    if (!any_rate) {
      return fmt::format(
          "--qdisc {}: a queue discipline manages the queue in front of a rate limit; add --rate",
          *flags.qdisc);
    }
  }
  if (flags.ecn) {
    const auto discipline = qdisc.discipline;
    if (discipline != core::QueueDiscipline::red && discipline != core::QueueDiscipline::codel &&
        discipline != core::QueueDiscipline::pie) {
      return "--ecn: only the red, codel and pie disciplines mark; add --qdisc red|codel|pie "
             "(netem-style ECN for random loss is --netem \"loss 1% ecn\")";
    }
    qdisc.ecn = true;
  }
  std::uint32_t cell_bytes = 0;
  std::uint32_t cell_payload = 0;
  if (flags.cell) {
    const std::string& text = *flags.cell;
    const auto slash = text.find('/');
    const auto number = [](std::string_view part, std::uint32_t& value) {
      const auto* end = part.data() + part.size();
      const auto result = std::from_chars(part.data(), end, value);
      return !part.empty() && result.ec == std::errc() && result.ptr == end;
    };
    if (slash == std::string::npos ||
        !number(std::string_view(text).substr(0, slash), cell_bytes) ||
        !number(std::string_view(text).substr(slash + 1), cell_payload)) {
      return fmt::format("--cell {}: give SIZE/PAYLOAD in bytes, e.g. 53/48 for ATM", text);
    }
    if (cell_payload == 0 || cell_payload > cell_bytes || cell_bytes > 65536) {
      return fmt::format(
          "--cell {}: a cell carries 1..SIZE payload bytes (SIZE at most 65536), e.g. 53/48", text);
    }
    if (!any_rate) {
      return fmt::format("--cell {}: cell framing is what the rate counts; add --rate", text);
    }
  }
  for (core::DirectionConfig* config : configs) {
    if (!config->has_rate()) continue;
    config->qdisc = qdisc;
    config->cell_bytes = cell_bytes;
    config->cell_payload_bytes = cell_payload;
  }
  return {};
}

/// Checks what schedules and traces need of the rest of the configuration; "" or an error.
std::string check_time_varying(const LinkFlags& flags, const LinkSpec& spec) {
  const core::DirectionConfig* configs[2] = {&spec.up, &spec.down};
  const char* names[2] = {"up", "down"};
  for (int i = 0; i < 2; ++i) {
    const core::DirectionConfig& config = *configs[i];
    if (config.schedule.changes_rate() && !config.capacity_trace.empty()) {
      return fmt::format(
          "the schedule changes the {} rate and {} gives it too; give the rate in one place",
          names[i], i == 0 ? "--trace-up" : "--trace-down");
    }
    if (config.schedule.changes_loss() && config.loss_model.needs_wire_packets() &&
        !std::holds_alternative<core::RandomLossConfig>(config.loss_model.model)) {
      return fmt::format(
          "the schedule changes the {} loss, which is a probability of independent loss, but "
          "{} sets a loss model; schedule loss with --loss (or a netem \"loss P\")",
          names[i], flags.netem_up || flags.netem_down ? "a --netem line" : "--netem");
    }
  }
  return {};
}

/// Applies --mtu, --mtu-up, --mtu-down and --mtu-icmp; "" or an error.
std::string apply_mtu(const LinkFlags& flags, LinkSpec& spec) {
  core::DirectionConfig* configs[2] = {&spec.up, &spec.down};
  std::optional<std::string> values[2];
  std::string names[2];
  for (int i = 0; i < 2; ++i) values[i] = value_for(flags, param("mtu"), i, &names[i]);
  for (int i = 0; i < 2; ++i) {
    if (!values[i]) continue;
    auto bytes = core::parse_bytes(*values[i]);
    if (!bytes) return fmt::format("{} {}: {}", names[i], *values[i], bytes.error);
    if (*bytes < 68 || *bytes > 65535) {
      return fmt::format(
          "{} {}: an MTU is the largest IP packet, 68 (the IPv4 minimum) to 65535 bytes, e.g. "
          "1400",
          names[i], *values[i]);
    }
    configs[i]->mtu_bytes = static_cast<std::uint32_t>(*bytes);
    configs[i]->mtu_icmp = flags.mtu_icmp;
  }
  if (flags.mtu_icmp && !values[0] && !values[1]) {
    return "--mtu-icmp answers packets larger than the MTU; add --mtu (e.g. --mtu 1400)";
  }
  return {};
}

}  // namespace

BufferPlan plan_buffers(const core::DirectionConfig& config, std::uint64_t assumed_rate_bps) {
  // The largest rate and delay the direction ever has (schedules and traces included).
  const std::uint64_t max_rate = config.max_rate_bps();
  const double rate = static_cast<double>(max_rate != 0 ? max_rate : assumed_rate_bps);
  const double seconds = static_cast<double>(config.max_delay().count()) / 1e9;
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
  if (config.has_jitter()) {
    text += fmt::format(" ± {} {}{}", core::format_duration(config.jitter),
                        core::jitter_shape_name(config.jitter_shape),
                        config.jitter_mode == core::JitterMode::reordering ? " (reordering)" : "");
  }
  if (config.rate_bps != 0) {
    text += fmt::format(", rate {}", core::format_rate(static_cast<double>(config.rate_bps)));
    if (config.queue.max_bytes != 0) {
      text += fmt::format(", queue {}",
                          core::format_bytes(static_cast<double>(config.queue.max_bytes)));
    }
    if (config.queue.max_packets != 0)
      text += fmt::format(", queue {} packets", config.queue.max_packets);
    if (config.queue.max_delay.count() != 0) {
      text += fmt::format(", queue {}", core::format_duration(config.queue.max_delay));
    }
    if (config.qdisc.discipline != core::QueueDiscipline::drop_tail) {
      text += fmt::format(", {}{}", core::queue_discipline_name(config.qdisc.discipline),
                          config.qdisc.ecn ? " with ECN" : "");
    }
    if (config.cell_bytes != 0) {
      text += fmt::format(", cells {}/{}", config.cell_bytes, config.cell_payload_bytes);
    }
  } else {
    text += ", rate unlimited";
  }
  if (config.loss > 0) text += fmt::format(", loss {:g}%", config.loss * 100);
  const auto& model = config.loss_model.model;
  if (const auto* random = std::get_if<core::RandomLossConfig>(&model)) {
    text += fmt::format(", loss {:g}% (correlation {:g}%)", random->probability * 100,
                        random->correlation * 100);
  } else if (std::holds_alternative<core::GilbertElliottConfig>(model)) {
    text += ", Gilbert-Elliott loss";
  } else if (std::holds_alternative<core::MarkovLossConfig>(model)) {
    text += ", 4-state Markov loss";
  }
  if (config.loss_model.ecn) text += ", ECN marking";
  if (!config.loss_model.schedule.empty()) {
    text += fmt::format(", {} outage(s)", config.loss_model.schedule.windows.size());
  }
  if (config.duplicate.probability > 0) {
    text += fmt::format(", duplicate {:g}%", config.duplicate.probability * 100);
  }
  if (config.corrupt.probability > 0) {
    text += fmt::format(", corrupt {:g}%", config.corrupt.probability * 100);
  }
  if (config.corrupt.bit_error_rate > 0) {
    text += fmt::format(", bit error rate {:g}", config.corrupt.bit_error_rate);
  }
  if (config.reorder.probability > 0) {
    text +=
        fmt::format(", reorder {:g}% gap {}", config.reorder.probability * 100, config.reorder.gap);
  }
  if (!config.schedule.empty()) {
    text += fmt::format(", {} scheduled change(s)", config.schedule.steps.size());
    if (config.schedule.period.count() != 0) {
      text += fmt::format(" every {}", core::format_duration(config.schedule.period));
    }
  }
  if (!config.capacity_trace.empty()) {
    text +=
        fmt::format(", capacity trace of {} step(s), up to {}", config.capacity_trace.steps.size(),
                    core::format_rate(static_cast<double>(config.capacity_trace.max_rate_bps())));
    if (config.capacity_trace.period.count() != 0) {
      text += fmt::format(" looping every {}", core::format_duration(config.capacity_trace.period));
    }
  }
  if (config.mtu_bytes != 0) {
    text += fmt::format(", MTU {} B{}", config.mtu_bytes, config.mtu_icmp ? " (ICMP replies)" : "");
  }
  return text;
}

}  // namespace longhaul::link
