#include "lab/link_flag_keys.hh"

#include <fmt/format.h>

#include <array>

namespace longhaul::lab {

namespace {

using TextMember = std::optional<std::string> LinkFlags::*;

struct TextKey {
  const char* key;
  TextMember member;
  const char* example;  ///< shown when a value lacks its unit
};

// Text parameters: the value is parsed later, with its units, by resolve_link.
constexpr std::array kTextKeys = {
    TextKey{"rtt", &LinkFlags::rtt, "\"32ms\""},
    TextKey{"delay", &LinkFlags::delay, "\"16ms\""},
    TextKey{"delay-up", &LinkFlags::delay_up, "\"16ms\""},
    TextKey{"delay-down", &LinkFlags::delay_down, "\"16ms\""},
    TextKey{"rate", &LinkFlags::rate, "\"1gbit\""},
    TextKey{"rate-up", &LinkFlags::rate_up, "\"1gbit\""},
    TextKey{"rate-down", &LinkFlags::rate_down, "\"1gbit\""},
    TextKey{"loss", &LinkFlags::loss, "\"0.1%\""},
    TextKey{"loss-up", &LinkFlags::loss_up, "\"0.1%\""},
    TextKey{"loss-down", &LinkFlags::loss_down, "\"0.1%\""},
    TextKey{"queue", &LinkFlags::queue, "\"5MB\""},
    TextKey{"queue-up", &LinkFlags::queue_up, "\"5MB\""},
    TextKey{"queue-down", &LinkFlags::queue_down, "\"5MB\""},
    TextKey{"overhead", &LinkFlags::overhead, "\"24B\""},
    TextKey{"qdisc", &LinkFlags::qdisc, "\"codel\""},
    TextKey{"cell", &LinkFlags::cell, "\"53/48\""},
    TextKey{"jitter", &LinkFlags::jitter, "\"2ms\""},
    TextKey{"jitter-up", &LinkFlags::jitter_up, "\"2ms\""},
    TextKey{"jitter-down", &LinkFlags::jitter_down, "\"2ms\""},
    TextKey{"distribution", &LinkFlags::distribution, "\"normal\""},
    TextKey{"jitter-mode", &LinkFlags::jitter_mode, "\"order\""},
    TextKey{"correlation-model", &LinkFlags::correlation_model, "\"preserving\""},
    TextKey{"duplicate", &LinkFlags::duplicate, "\"1%\""},
    TextKey{"corrupt", &LinkFlags::corrupt, "\"0.1%\""},
    TextKey{"ber", &LinkFlags::ber, "\"1e-9\""},
    TextKey{"netem", &LinkFlags::netem, "\"delay 10ms loss 1%\""},
    TextKey{"netem-up", &LinkFlags::netem_up, "\"delay 10ms\""},
    TextKey{"netem-down", &LinkFlags::netem_down, "\"delay 10ms\""},
    TextKey{"schedule", &LinkFlags::schedule, "\"day.sched\""},
    TextKey{"schedule-repeat", &LinkFlags::schedule_repeat, "\"30s\""},
    TextKey{"trace-up", &LinkFlags::trace_up, "\"lte.up.mahi\""},
    TextKey{"trace-down", &LinkFlags::trace_down, "\"lte.down.mahi\""},
    TextKey{"mtu", &LinkFlags::mtu, "\"1400B\""},
    TextKey{"mtu-up", &LinkFlags::mtu_up, "\"1400B\""},
    TextKey{"mtu-down", &LinkFlags::mtu_down, "\"1400B\""},
};

const char* type_name(const LinkFlagValue& value) {
  switch (value.index()) {
    case 0:
      return "text";
    case 1:
      return "a whole number";
    case 2:
      return "a number";
    case 3:
      return "true/false";
    default:
      return "a list";
  }
}

std::string number_text(const LinkFlagValue& value) {
  if (const auto* whole = std::get_if<std::int64_t>(&value)) return std::to_string(*whole);
  if (const auto* real = std::get_if<double>(&value)) return fmt::format("{}", *real);
  return "";
}

}  // namespace

std::optional<std::string> set_link_flag(LinkFlags& flags, std::string_view key,
                                         const LinkFlagValue& value) {
  for (const auto& text_key : kTextKeys) {
    if (key != text_key.key) continue;
    if (const auto* text = std::get_if<std::string>(&value)) {
      flags.*text_key.member = *text;
      return std::nullopt;
    }
    if (value.index() == 1 || value.index() == 2) {
      return fmt::format("{} = {} has no unit: write it as text with its unit, e.g. {} = {}", key,
                         number_text(value), key, text_key.example);
    }
    return fmt::format("{} must be text with a unit, e.g. {} = {} (got {})", key, key,
                       text_key.example, type_name(value));
  }
  if (key == "ecn") {
    if (const auto* on = std::get_if<bool>(&value)) {
      flags.ecn = *on;
      return std::nullopt;
    }
    return fmt::format("ecn must be true or false (got {})", type_name(value));
  }
  if (key == "trace-once" || key == "mtu-icmp") {
    if (const auto* on = std::get_if<bool>(&value)) {
      (key == "trace-once" ? flags.trace_once : flags.mtu_icmp) = *on;
      return std::nullopt;
    }
    return fmt::format("{} must be true or false (got {})", key, type_name(value));
  }
  if (key == "at") {
    if (const auto* one = std::get_if<std::string>(&value)) {
      flags.at.push_back(*one);
      return std::nullopt;
    }
    if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
      flags.at.insert(flags.at.end(), list->begin(), list->end());
      return std::nullopt;
    }
    return fmt::format("at must be text like \"10s:rate=100mbit\" or a list of them (got {})",
                       type_name(value));
  }
  if (key == "outage" || key == "outages") {
    if (const auto* one = std::get_if<std::string>(&value)) {
      flags.outages.push_back(*one);
      return std::nullopt;
    }
    if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
      flags.outages.insert(flags.outages.end(), list->begin(), list->end());
      return std::nullopt;
    }
    return fmt::format("{} must be text like \"5s+2s\" or a list of them (got {})", key,
                       type_name(value));
  }
  if (key == "seed") {
    if (const auto* whole = std::get_if<std::int64_t>(&value); whole != nullptr && *whole >= 0) {
      flags.seed = static_cast<std::uint64_t>(*whole);
      return std::nullopt;
    }
    return "seed must be a whole number >= 0";
  }
  std::string known;
  for (const auto& name : link_flag_keys()) known += (known.empty() ? "" : ", ") + name;
  return fmt::format("unknown key '{}'; link keys are: {}", key, known);
}

std::vector<std::string> link_flag_keys() {
  std::vector<std::string> keys;
  for (const auto& text_key : kTextKeys) keys.emplace_back(text_key.key);
  for (const char* other : {"ecn", "outage", "seed", "at", "trace-once", "mtu-icmp"}) {
    keys.emplace_back(other);
  }
  return keys;
}

}  // namespace longhaul::lab
