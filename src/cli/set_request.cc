#include "cli/set_request.hh"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

#include "cli/commands.hh"
#include "control/control_api.hh"
#include "core/units.hh"
#include "link/schema.hh"

namespace longhaul::cli {

namespace {

using nlohmann::json;

bool api_live(std::string_view key) {
  const auto& live = control::live_keys();
  return std::find(live.begin(), live.end(), key) != live.end();
}

/// "--rtt, --delay, ... (each also with -up or -down)": what `set` can change, for messages.
std::string live_flags_text() {
  std::string text;
  for (const std::string& key : control::live_keys()) {
    text += (text.empty() ? "--" : ", --") + key;
  }
  return text + " (rate, delay, loss and queue also with -up or -down)";
}

/// "" when `value` is what a `type` value looks like on the command line of `run`, else why not.
std::string value_problem(link::ValueType type, const std::string& value) {
  switch (type) {
    case link::ValueType::duration:
      if (const auto parsed = core::parse_duration(value); !parsed) return parsed.error;
      return "";
    case link::ValueType::rate:
      if (const auto parsed = core::parse_rate_bps(value); !parsed) return parsed.error;
      return "";
    case link::ValueType::percent:
      if (const auto parsed = core::parse_probability(value); !parsed) return parsed.error;
      return "";
    case link::ValueType::queue_limit:
      if (const auto parsed = core::parse_queue_limit(value); !parsed) return parsed.error;
      return "";
    default:
      return "";  // not a live type: refused before its value matters
  }
}

/// The values given for one parameter: [0] shared, [1] up, [2] down, each with the flag's name.
struct Given {
  std::array<std::optional<std::string>, 3> value;
  std::array<std::string, 3> name;
  bool any() const { return value[0] || value[1] || value[2]; }
  std::string names() const {
    std::string text;
    for (const auto& n : name) {
      if (!n.empty()) text += (text.empty() ? "--" : " and --") + n;
    }
    return text;
  }
};

std::size_t side_index(link::ParamName::Side side) {
  switch (side) {
    case link::ParamName::Side::shared:
      return 0;
    case link::ParamName::Side::up:
      return 1;
    case link::ParamName::Side::down:
      return 2;
  }
  return 0;
}

std::string at_problem(const std::string& at) {
  const bool relative = at.starts_with("+");
  const auto parsed = core::parse_duration(relative ? std::string_view(at).substr(1) : at);
  return parsed ? "" : parsed.error;
}

}  // namespace

std::string url_path_segment(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", byte);
    }
  }
  return out;
}

ApiRequest set_request(const std::string& lane, const SetInput& input) {
  if (lane.empty()) throw UsageError("set: the lane's name is empty");
  if (input.at) {
    if (const std::string problem = at_problem(*input.at); !problem.empty()) {
      throw UsageError(
          fmt::format("--at '{}': {}; give +DURATION (from now, e.g. +5s) or "
                      "DURATION (from the lab's start, e.g. 30s)",
                      *input.at, problem));
    }
  }
  const char* direction_flag = input.direction == SetDirection::up ? "--up" : "--down";
  if (input.outage) {
    if (!input.flags.empty()) {
      throw UsageError(fmt::format(
          "--outage is a change of its own; give it without link flags (here --{}), or run "
          "`longhaul set` once for each",
          input.flags.front().name));
    }
    const auto length = core::parse_duration(*input.outage);
    if (!length || length->count() <= 0) {
      throw UsageError(fmt::format("--outage '{}': {}; give how long it lasts, e.g. 2s",
                                   *input.outage, length ? "must be above 0" : length.error));
    }
    json body = {{"for", *input.outage},
                 {"direction", input.direction == SetDirection::both ? "both"
                               : input.direction == SetDirection::up ? "up"
                                                                     : "down"}};
    if (input.at) body["at"] = *input.at;
    return {"POST", "/v1/lanes/" + url_path_segment(lane) + "/outage", body};
  }
  if (input.flags.empty()) {
    throw UsageError(fmt::format(
        "nothing to change on lane '{}': give live link flags ({}) or --outage DURATION, e.g. "
        "`longhaul set {} --rtt 200ms`",
        lane, live_flags_text(), lane));
  }
  // Every flag is looked up in the schema and checked before anything is built: one problem
  // anywhere refuses the whole request, as the API itself does.
  std::map<std::string, Given, std::less<>> given;
  for (const GivenFlag& flag : input.flags) {
    const auto name = link::find_param(flag.name);
    if (!name) {
      throw UsageError(fmt::format("--{} is not a link flag; `longhaul set` changes {}", flag.name,
                                   live_flags_text()));
    }
    const std::string key(name->param->key);
    if (!api_live(key)) {
      throw UsageError(fmt::format(
          "--{} cannot change while the lab runs: set it in the topology file and restart the "
          "lab (longhaul down, then longhaul up); `longhaul set` changes {}",
          flag.name, live_flags_text()));
    }
    if (const std::string problem = value_problem(name->param->type, flag.value);
        !problem.empty()) {
      throw UsageError(fmt::format("--{} '{}': {}", flag.name, flag.value, problem));
    }
    Given& entry = given[key];
    const std::size_t side = side_index(name->side);
    if (entry.value[side]) {
      throw UsageError(fmt::format("--{} is given twice; give it once", flag.name));
    }
    entry.value[side] = flag.value;
    entry.name[side] = flag.name;
    if (input.direction != SetDirection::both) {
      const bool against = input.direction == SetDirection::up
                               ? name->side == link::ParamName::Side::down
                               : name->side == link::ParamName::Side::up;
      if (against) {
        throw UsageError(
            fmt::format("--{} contradicts {}; leave {} out to change both "
                        "directions",
                        flag.name, direction_flag, direction_flag));
      }
      if (name->param->variants == link::Variants::shared) {
        throw UsageError(fmt::format(
            "--{} is for both directions and cannot go with {}{}", flag.name, direction_flag,
            key == "rtt" ? "; for one direction give --delay (one way)" : ""));
      }
    }
  }
  // Parameters that set the same thing (--rtt and --delay: both the delay) cannot be combined,
  // as in `run`. In the table's order, so the message reads as the docs do: rtt sets the delay.
  for (const link::Param& param : link::link_params()) {
    const auto values = given.find(param.key);
    if (values == given.end() || param.excludes.empty()) continue;
    if (const auto other = given.find(param.excludes); other != given.end()) {
      throw UsageError(fmt::format("{} and {} both set the {}; give one of them",
                                   values->second.names(), other->second.names(), param.excludes));
    }
  }
  json body = json::object();
  for (const auto& [key, values] : given) {
    // As in `run`, a direction's own flag (--rate-up) wins over the shared one (--rate) there.
    const std::optional<std::string> up = values.value[1] ? values.value[1] : values.value[0];
    const std::optional<std::string> down = values.value[2] ? values.value[2] : values.value[0];
    switch (input.direction) {
      case SetDirection::up:
        body[key + "-up"] = *up;
        break;
      case SetDirection::down:
        body[key + "-down"] = *down;
        break;
      case SetDirection::both:
        if (up && down && *up == *down && !values.value[1] && !values.value[2]) {
          body[key] = *up;
        } else {
          if (up) body[key + "-up"] = *up;
          if (down) body[key + "-down"] = *down;
        }
        break;
    }
  }
  if (input.at) body["at"] = *input.at;
  return {"PATCH", "/v1/lanes/" + url_path_segment(lane), body};
}

std::string set_answer_line(const std::string& kind, const std::string& name,
                            const std::string& lane, const ApiRequest& request,
                            const nlohmann::json& answer) {
  std::string what;
  if (request.method == "POST") {
    const std::string direction = request.body.value("direction", "both");
    what = fmt::format("outage of {} ({})", request.body.value("for", ""),
                       direction == "both" ? "both directions" : direction + " only");
  } else {
    for (const auto& [key, value] : request.body.items()) {
      if (key == "at") continue;
      what += fmt::format("{}{} {}", what.empty() ? "" : ", ", key,
                          value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  const std::string change =
      answer.contains("change") ? answer["change"].dump() : std::string("(no id)");
  const double at_s = answer.value("at_s", 0.0);
  return fmt::format("{} {} lane {}: change {}, {}, at {:.3f} s of {} time", kind, name, lane,
                     change, what, at_s, kind);
}

}  // namespace longhaul::cli
