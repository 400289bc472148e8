#include "link/schedule_options.hh"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "io/text_file.hh"
#include "link/schema.hh"

namespace longhaul::link {

namespace {

using core::Nanos;

constexpr Nanos kMaxDelay = std::chrono::seconds(60);

enum Directions : unsigned { kUp = 1, kDown = 2, kBoth = 3 };

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> result;
  std::size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t' || line[at] == '\r')) ++at;
    const std::size_t start = at;
    while (at < line.size() && line[at] != ' ' && line[at] != '\t' && line[at] != '\r') ++at;
    if (at > start) result.push_back(line.substr(start, at - start));
  }
  return result;
}

/// One step's changes for both directions, built key by key.
struct StepBuilder {
  core::ConditionChange up, down;

  /// Applies KEY VALUE for the directions `allowed` (the line's direction word); "" or an error.
  std::string set(std::string_view key, std::string_view value, unsigned allowed) {
    const auto name = find_param(key);
    if (!name || !name->param->live) {
      if (key.starts_with("rtt-")) {
        return fmt::format(
            "{} is a round trip for both directions; for one give delay-up or "
            "delay-down",
            key);
      }
      return fmt::format("{} \"{}\"; use {}",
                         name ? "cannot change while the link runs:" : "unknown key", key,
                         live_keys_text());
    }
    const std::string_view base = name->param->key;
    unsigned directions = name->side == ParamName::Side::up     ? kUp
                          : name->side == ParamName::Side::down ? kDown
                                                                : kBoth;
    if ((directions & allowed) == 0) {
      return fmt::format("key {} contradicts the line's direction; drop one of them", key);
    }
    directions &= allowed;
    core::ConditionChange* targets[2] = {(directions & kUp) ? &up : nullptr,
                                         (directions & kDown) ? &down : nullptr};
    const auto once = [&](auto member) -> std::string {
      for (core::ConditionChange* target : targets) {
        if (target != nullptr && (target->*member).has_value()) {
          return fmt::format("{} is set twice in one step; give it once", key);
        }
      }
      return {};
    };
    if (base == "rate") {
      if (auto error = once(&core::ConditionChange::rate_bps); !error.empty()) return error;
      auto rate = core::parse_rate_bps(value);
      if (!rate) return fmt::format("{} {}: {}", key, value, rate.error);
      for (auto* target : targets)
        if (target != nullptr) target->rate_bps = *rate;
      return {};
    }
    if (base == "delay" || base == "rtt") {
      if (auto error = once(&core::ConditionChange::delay); !error.empty()) return error;
      auto delay = core::parse_duration(value);
      if (!delay) return fmt::format("{} {}: {}", key, value, delay.error);
      Nanos each[2] = {*delay, *delay};
      if (base == "rtt") {
        // Half each way; an odd nanosecond goes down, as --rtt does.
        each[0] = *delay / 2;
        each[1] = *delay / 2 + *delay % 2;
        if (directions != kBoth) {
          return fmt::format(
              "{} is a round trip for both directions; for one give delay-up or "
              "delay-down",
              key);
        }
      }
      for (const Nanos d : each) {
        if (d > kMaxDelay) {
          return fmt::format("{} {}: one-way delay longer than the supported 60 s", key, value);
        }
      }
      if (targets[0] != nullptr) targets[0]->delay = each[0];
      if (targets[1] != nullptr) targets[1]->delay = each[1];
      return {};
    }
    if (base == "loss") {
      if (auto error = once(&core::ConditionChange::loss); !error.empty()) return error;
      auto loss = core::parse_probability(value);
      if (!loss) return fmt::format("{} {}: {}", key, value, loss.error);
      for (auto* target : targets)
        if (target != nullptr) target->loss = *loss;
      return {};
    }
    return fmt::format("{} cannot be scheduled yet; use {}", key, live_keys_text());
  }

  void append_to(Nanos at, ScheduleSpec& spec) const {
    if (!up.empty()) spec.up.steps.push_back({at, up});
    if (!down.empty()) spec.down.steps.push_back({at, down});
  }
};

core::Parsed<Nanos> parse_time(std::string_view text) {
  return core::parse_duration(text);
}

void sort_steps(core::ScheduleConfig& config) {
  std::stable_sort(
      config.steps.begin(), config.steps.end(),
      [](const core::ScheduleStep& a, const core::ScheduleStep& b) { return a.at < b.at; });
}

}  // namespace

core::Parsed<ScheduleSpec> parse_schedule_text(std::string_view text, std::string_view name) {
  ScheduleSpec spec;
  std::size_t line_number = 0;
  std::size_t at = 0;
  // Where each step and the repeat line are, to name FILE:LINE when a step falls outside the
  // period (the repeat line may come after the steps).
  std::vector<std::pair<core::Nanos, std::size_t>> step_lines;
  std::size_t repeat_line = 0;
  while (at <= text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++line_number;
    if (const auto hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    const auto fields = words(line);
    if (fields.empty()) continue;
    const auto where = [&](const std::string& problem) {
      return core::parse_failure<ScheduleSpec>(
          fmt::format("{}:{}: {}", name, line_number, problem));
    };
    if (fields[0] == "repeat") {
      if (fields.size() != 2) return where("give \"repeat PERIOD\", e.g. \"repeat 30s\"");
      auto period = parse_time(fields[1]);
      if (!period) return where(fmt::format("repeat {}: {}", fields[1], period.error));
      if (period->count() <= 0) return where("repeat needs a period longer than 0");
      if (spec.up.period.count() != 0) return where("repeat is given twice; give it once");
      spec.up.period = spec.down.period = *period;
      repeat_line = line_number;
      continue;
    }
    auto time = parse_time(fields[0]);
    if (!time) {
      return where(fmt::format(
          "\"{}\" is not a time: {} (a line is \"TIME [up|down] KEY VALUE ...\", e.g. \"10s "
          "rate 100mbit\", or \"repeat PERIOD\")",
          fields[0], time.error));
    }
    std::size_t next = 1;
    unsigned directions = kBoth;
    if (next < fields.size() && (fields[next] == "up" || fields[next] == "down")) {
      directions = fields[next] == "up" ? kUp : kDown;
      ++next;
    }
    if (next == fields.size()) {
      return where("nothing to change; give KEY VALUE pairs, e.g. \"rate 100mbit\"");
    }
    if ((fields.size() - next) % 2 != 0) {
      return where(fmt::format("key \"{}\" has no value; give KEY VALUE pairs", fields.back()));
    }
    StepBuilder step;
    for (; next < fields.size(); next += 2) {
      if (auto error = step.set(fields[next], fields[next + 1], directions); !error.empty()) {
        return where(error);
      }
    }
    step.append_to(*time, spec);
    step_lines.emplace_back(*time, line_number);
  }
  for (const auto& [time, line] : step_lines) {
    if (spec.up.period.count() == 0 || time < spec.up.period) continue;
    return core::parse_failure<ScheduleSpec>(fmt::format(
        "{}:{}: step at {} is not inside the repeat period of {} (line {}); every step of a "
        "repeating schedule must come before the period ends: give a longer repeat or an "
        "earlier step",
        name, line, core::format_duration(time), core::format_duration(spec.up.period),
        repeat_line));
  }
  return core::Parsed<ScheduleSpec>{spec, {}};
}

std::string add_at_step(std::string_view value, ScheduleSpec& spec) {
  const auto fail_at = [&](const std::string& problem) {
    return fmt::format("--at {}: {}", value, problem);
  };
  const auto colon = value.find(':');
  if (colon == std::string_view::npos) {
    return fail_at("give TIME:KEY=VALUE[,KEY=VALUE...], e.g. 10s:rate=100mbit,delay-up=40ms");
  }
  auto time = parse_time(value.substr(0, colon));
  if (!time) return fail_at(time.error);
  StepBuilder step;
  std::string_view rest = value.substr(colon + 1);
  if (rest.empty()) return fail_at("nothing to change after the time; give KEY=VALUE");
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto equals = item.find('=');
    if (equals == std::string_view::npos || equals == 0 || equals + 1 == item.size()) {
      return fail_at(fmt::format("\"{}\" is not KEY=VALUE (keys: {})", item, live_keys_text()));
    }
    if (auto error = step.set(item.substr(0, equals), item.substr(equals + 1), kBoth);
        !error.empty()) {
      return fail_at(error);
    }
  }
  step.append_to(*time, spec);
  return {};
}

core::Parsed<ScheduleSpec> resolve_schedule(const std::vector<std::string>& at_values,
                                            const std::optional<std::string>& file,
                                            const std::optional<std::string>& repeat) {
  ScheduleSpec spec;
  if (file) {
    const io::InputFile text = io::read_input_file(*file, "schedule", io::kScheduleFileLimit);
    if (!text) return core::parse_failure<ScheduleSpec>("--schedule " + text.error);
    auto parsed = parse_schedule_text(text.text, *file);
    if (!parsed) return core::parse_failure<ScheduleSpec>("--schedule " + parsed.error);
    spec = *parsed;
  }
  for (const auto& value : at_values) {
    if (auto error = add_at_step(value, spec); !error.empty())
      return core::parse_failure<ScheduleSpec>(error);
  }
  if (repeat) {
    auto period = parse_time(*repeat);
    if (!period)
      return core::parse_failure<ScheduleSpec>("--schedule-repeat " + *repeat + ": " +
                                               period.error);
    if (period->count() <= 0) {
      return core::parse_failure<ScheduleSpec>("--schedule-repeat " + *repeat +
                                               ": a period must be above 0");
    }
    if (spec.up.period.count() != 0 && spec.up.period != *period) {
      return core::parse_failure<ScheduleSpec>(fmt::format(
          "--schedule-repeat {} and the schedule file's repeat line differ; give one", *repeat));
    }
    spec.up.period = spec.down.period = *period;
  }
  if (spec.up.period.count() != 0 && spec.up.empty() && spec.down.empty()) {
    return core::parse_failure<ScheduleSpec>(
        "a schedule repeat without steps does nothing; add --at or --schedule steps");
  }
  for (core::ScheduleConfig* config : {&spec.up, &spec.down}) {
    sort_steps(*config);
    if (config->period.count() == 0) continue;
    for (const auto& step : config->steps) {
      if (step.at >= config->period) {
        return core::parse_failure<ScheduleSpec>(fmt::format(
            "schedule step at {} is not inside the repeat period of {}; every step of a "
            "repeating schedule must come before the period ends: give a longer "
            "--schedule-repeat or an earlier --at step",
            core::format_duration(step.at), core::format_duration(config->period)));
      }
    }
  }
  return core::Parsed<ScheduleSpec>{spec, {}};
}

}  // namespace longhaul::link
