#include "control/event_stream.hh"

#include <fmt/format.h>

#include "core/units.hh"

namespace longhaul::control {

namespace {

using core::Nanos;
using nlohmann::json;

constexpr const char* kDirectionNames[2] = {"up", "down"};

std::string event(const char* name, const json& data) {
  // One line of JSON per event: dump() without indent never writes a newline (it escapes them).
  return fmt::format("event: {}\ndata: {}\n\n", name, data.dump());
}

}  // namespace

ParsedInterval parse_event_interval(const std::string& text) {
  ParsedInterval parsed;
  if (text.empty()) return parsed;
  const auto interval = core::parse_duration(text);
  if (!interval) {
    parsed.error = fmt::format("interval \"{}\": {}", text, interval.error);
  } else if (*interval < kMinEventInterval || *interval > kMaxEventInterval) {
    // As a user types them (event_stream.hh's bounds).
    parsed.error = fmt::format("interval \"{}\": give one from 100ms to 60s", text);
  } else {
    parsed.interval = *interval;
  }
  return parsed;
}

EventStream::EventStream(const ControlTarget& target, const ChangeLog& changes, Nanos interval)
    : target_(target),
      changes_(changes),
      interval_(interval),
      previous_(target.lane_names().size()),
      fidelity_(target.fidelity_cursor()) {}

std::string EventStream::poll() {
  const Nanos now = target_.now();
  const auto& names = target_.lane_names();
  std::string text;
  if (!started_) {
    started_ = true;
    // Changes accepted before the stream opened are in the lanes' configuration already.
    last_change_ = changes_.last();
    json hello = target_.identity();
    hello["api"] = "v1";
    hello["interval_s"] = core::to_seconds(interval_);
    hello["t_s"] = core::to_seconds(now - target_.origin());
    json lanes = json::array();
    for (std::size_t l = 0; l < names.size(); ++l) {
      json lane = {{"name", names[l]}};
      for (int d = 0; d < 2; ++d) {
        const DirectionState state = target_.state(l, d);
        auto& previous = previous_[l][static_cast<std::size_t>(d)];
        previous.counters = state.counters;
        previous.changes_applied = state.changes_applied;
        lane[kDirectionNames[d]] = direction_json(state).at("config");
        // Start each direction's interval verdicts here.
        target_.fidelity(l, d, fidelity_.get());
      }
      lanes.push_back(lane);
    }
    hello["lanes"] = lanes;
    last_sample_ = now;
    return event("hello", hello);
  }
  for (auto& [seq, entry] : changes_.since(last_change_)) {
    last_change_ = seq;
    text += event("change", entry);
  }
  for (std::size_t l = 0; l < names.size(); ++l) {
    for (int d = 0; d < 2; ++d) {
      const DirectionState state = target_.state(l, d);
      auto& previous = previous_[l][static_cast<std::size_t>(d)];
      if (state.changes_applied == previous.changes_applied) continue;
      text += event("applied", {{"lane", names[l]},
                                {"direction", kDirectionNames[d]},
                                {"at_s", core::to_seconds(state.last_change_at)},
                                {"changes", state.changes_applied - previous.changes_applied},
                                {"changes_applied", state.changes_applied},
                                {"config", direction_json(state).at("config")}});
      previous.changes_applied = state.changes_applied;
    }
  }
  if (now - last_sample_ >= interval_) text += event("sample", sample(now));
  return text;
}

json EventStream::sample(Nanos now) {
  const double span = core::to_seconds(now - last_sample_);
  last_sample_ = now;
  const auto& names = target_.lane_names();
  json lanes = json::array();
  for (std::size_t l = 0; l < names.size(); ++l) {
    json lane = {{"name", names[l]}};
    for (int d = 0; d < 2; ++d) {
      const DirectionState state = target_.state(l, d);
      auto& previous = previous_[l][static_cast<std::size_t>(d)];
      const core::CountersSnapshot& was = previous.counters;
      const core::CountersSnapshot& is = state.counters;
      const auto per_second = [span](std::uint64_t later, std::uint64_t earlier) {
        return later >= earlier ? static_cast<double>(later - earlier) / span : 0.0;
      };
      json dropped = json::object();
      for (int c = 0; c < core::kDropCauseCount; ++c) {
        const auto index = static_cast<std::size_t>(c);
        const std::uint64_t packets = is.dropped_packets[index] - was.dropped_packets[index];
        if (packets != 0) {
          dropped[core::drop_cause_name(static_cast<core::DropCause>(c))] = packets;
        }
      }
      json full = direction_json(state);
      // The sample's sojourn is over the interval, like its rates; /v1/lanes has it since the
      // start.
      full["queue"]["sojourn"] = sojourn_json(state.sojourn.since(previous.sojourn));
      lane[kDirectionNames[d]] = {{"in_bps", 8 * per_second(is.bytes_in, was.bytes_in)},
                                  {"out_bps", 8 * per_second(is.bytes_out, was.bytes_out)},
                                  {"in_pps", per_second(is.packets_in, was.packets_in)},
                                  {"out_pps", per_second(is.packets_out, was.packets_out)},
                                  {"dropped", dropped},
                                  {"queue", full.at("queue")},
                                  {"config", full.at("config")},
                                  {"counters", full.at("counters")},
                                  {"release_lateness", full.at("release_lateness")},
                                  {"fidelity", target_.fidelity(l, d, fidelity_.get())}};
      previous.counters = is;
      previous.sojourn = state.sojourn;
    }
    lanes.push_back(lane);
  }
  return {
      {"t_s", core::to_seconds(now - target_.origin())}, {"interval_s", span}, {"lanes", lanes}};
}

}  // namespace longhaul::control
