#include "control/control_api.hh"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>

#include "core/units.hh"

namespace longhaul::control {

namespace {

using core::Nanos;
using nlohmann::json;

constexpr Nanos kMaxDelay = std::chrono::seconds(60);
constexpr std::uint64_t kFullSizeWireBytes = 1514 + 24;
constexpr const char* kDirectionNames[2] = {"up", "down"};

/// An error response: the status and a message naming what was wrong.
struct Refusal {
  int status;
  std::string message;
};

HttpResponse error_response(int status, const std::string& message) {
  HttpResponse response;
  response.status = status;
  // The message may quote the request's path, which is whatever bytes the client sent: invalid
  // UTF-8 is replaced (U+FFFD), not thrown (which would turn a 404 into a 500).
  response.body = json{{"error", message}, {"status", status}}.dump(
                      -1, ' ', false, json::error_handler_t::replace) +
                  "\n";
  return response;
}

HttpResponse json_response(const json& value) {
  HttpResponse response;
  response.body = value.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  return response;
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

/// What one request changes in one direction (unset: unchanged).
struct DirectionEdit {
  std::optional<std::uint64_t> rate_bps;
  std::optional<Nanos> delay;
  std::optional<double> loss;
  std::optional<core::QueueBound> queue;
  std::vector<std::string> keys;  // as given, for messages
};

/// Reads `object`'s keys into edits[0] (up) and edits[1] (down); `allowed`: 1 up, 2 down, 3 both.
std::optional<Refusal> read_keys(const json& object, unsigned allowed,
                                 std::array<DirectionEdit, 2>& edits,
                                 const std::vector<std::string>& link_keys) {
  for (const auto& [key, value] : object.items()) {
    if (key == "at" || key == "lane") {
      // Read by the request around this object; inside a direction they would go unread.
      if (allowed != 3) {
        return Refusal{400, fmt::format("\"{}\" inside a direction: give it at the top of the "
                                        "lane's change",
                                        key)};
      }
      continue;
    }
    if (key == "up" || key == "down") {
      const unsigned only = key == "up" ? 1U : 2U;
      if (allowed != 3) {
        return Refusal{400, fmt::format("\"{}\" inside a direction: give up and down at the top "
                                        "of the lane's change",
                                        key)};
      }
      if (!value.is_object()) {
        return Refusal{400, fmt::format("\"{}\" must be an object of keys, e.g. {{\"{}\": "
                                        "{{\"delay\": \"60ms\"}}}}",
                                        key, key)};
      }
      if (auto refusal = read_keys(value, only, edits, link_keys)) return refusal;
      continue;
    }
    unsigned directions = allowed;
    std::string base = key;
    if (key.ends_with("-up") || key.ends_with("-down")) {
      const bool up = key.ends_with("-up");
      base = key.substr(0, key.size() - (up ? 3 : 5));
      directions = up ? 1U : 2U;
      if ((directions & allowed) == 0) {
        return Refusal{400, fmt::format("{} contradicts the direction it is given in", key)};
      }
    }
    const auto& live = live_keys();
    if (std::find(live.begin(), live.end(), base) == live.end()) {
      if (std::find(link_keys.begin(), link_keys.end(), key) != link_keys.end()) {
        return Refusal{409, fmt::format("{} is not live-changeable (start the lab, run or bridge "
                                        "again with it); live keys: {}",
                                        key, join(live))};
      }
      return Refusal{400, fmt::format("unknown key \"{}\"; live keys: {} (each also with -up or "
                                      "-down)",
                                      key, join(live))};
    }
    if (!value.is_string()) {
      return Refusal{400, fmt::format("{}: {} has no unit; give a string with its unit, e.g. "
                                      "\"{}\": \"{}\"",
                                      key, value.dump(), key,
                                      base == "rate"    ? "50mbit"
                                      : base == "loss"  ? "0.1%"
                                      : base == "queue" ? "5MB"
                                                        : "40ms")};
    }
    const std::string text = value.get<std::string>();
    // By value: clang 14 (the fuzz build's compiler) cannot capture a structured binding.
    const auto twice = [name = key](bool already) -> std::optional<Refusal> {
      if (!already) return std::nullopt;
      return Refusal{400, fmt::format("{} sets a parameter already set for the same direction in "
                                      "this change; give it once",
                                      name)};
    };
    for (int d = 0; d < 2; ++d) {
      if ((directions & (1U << d)) == 0) continue;
      edits[static_cast<std::size_t>(d)].keys.push_back(key);
    }
    if (base == "rate") {
      const auto rate = core::parse_rate_bps(text);
      if (!rate) return Refusal{400, fmt::format("{} \"{}\": {}", key, text, rate.error)};
      if (*rate == 0) {
        return Refusal{400, fmt::format("{} \"{}\": a rate must be above 0", key, text)};
      }
      for (int d = 0; d < 2; ++d) {
        if ((directions & (1U << d)) == 0) continue;
        auto& edit = edits[static_cast<std::size_t>(d)];
        if (auto refusal = twice(edit.rate_bps.has_value())) return refusal;
        edit.rate_bps = *rate;
      }
    } else if (base == "delay" || base == "rtt") {
      const auto delay = core::parse_duration(text);
      if (!delay) return Refusal{400, fmt::format("{} \"{}\": {}", key, text, delay.error)};
      Nanos each[2] = {*delay, *delay};
      if (base == "rtt") {
        if (directions != 3) {
          return Refusal{400, fmt::format("{} is a round trip for both directions; for one give "
                                          "delay (one way) in \"up\" or \"down\"",
                                          key)};
        }
        // Half each way; an odd nanosecond goes down, as --rtt does.
        each[0] = *delay / 2;
        each[1] = *delay / 2 + *delay % 2;
      }
      for (int d = 0; d < 2; ++d) {
        if ((directions & (1U << d)) == 0) continue;
        if (each[d] > kMaxDelay) {
          return Refusal{
              400, fmt::format("{} \"{}\": one-way delay above the supported 60 s", key, text)};
        }
        auto& edit = edits[static_cast<std::size_t>(d)];
        if (auto refusal = twice(edit.delay.has_value())) return refusal;
        edit.delay = each[d];
      }
    } else if (base == "loss") {
      const auto loss = core::parse_probability(text);
      if (!loss) return Refusal{400, fmt::format("{} \"{}\": {}", key, text, loss.error)};
      for (int d = 0; d < 2; ++d) {
        if ((directions & (1U << d)) == 0) continue;
        auto& edit = edits[static_cast<std::size_t>(d)];
        if (auto refusal = twice(edit.loss.has_value())) return refusal;
        edit.loss = *loss;
      }
    } else {  // queue
      const auto limit = core::parse_queue_limit(text);
      if (!limit) return Refusal{400, fmt::format("{} \"{}\": {}", key, text, limit.error)};
      core::QueueBound bound;
      bound.max_packets = limit->packets;
      bound.max_bytes = limit->bytes;
      bound.max_delay = limit->time;
      if (bound.max_packets == 0 && bound.max_bytes == 0 && bound.max_delay.count() == 0) {
        return Refusal{400,
                       fmt::format("{} \"{}\": a queue must hold at least one packet", key, text)};
      }
      for (int d = 0; d < 2; ++d) {
        if ((directions & (1U << d)) == 0) continue;
        auto& edit = edits[static_cast<std::size_t>(d)];
        if (auto refusal = twice(edit.queue.has_value())) return refusal;
        edit.queue = bound;
      }
    }
  }
  return std::nullopt;
}

bool queue_empty(const core::QueueBound& bound) {
  return bound.max_packets == 0 && bound.max_bytes == 0 && bound.max_delay.count() == 0;
}

struct Endpoint {
  const char* pattern;  // {lane} stands for a lane name
  const char* methods;
};
constexpr std::array kEndpoints = {
    Endpoint{"/v1/", "GET"},
    Endpoint{"/v1/params", "GET"},
    Endpoint{"/v1/lanes", "GET"},
    Endpoint{"/v1/lanes/{lane}", "GET, PATCH"},
    Endpoint{"/v1/lanes/{lane}/outage", "POST"},
    Endpoint{"/v1/changes", "POST"},
    Endpoint{"/v1/events", "GET"},
    Endpoint{"/metrics", "GET"},
};

std::string endpoint_list() {
  std::string text;
  for (const auto& endpoint : kEndpoints) {
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", endpoint.methods, endpoint.pattern);
  }
  return text;
}

HttpResponse not_allowed(const std::string& method, const std::string& path, const char* allow) {
  HttpResponse response =
      error_response(405, fmt::format("{} is not allowed on {}; it takes {}", method, path, allow));
  response.allow = allow;
  return response;
}

/// The outage endpoint's own keys in a lane change: apply() takes them only from
/// POST /v1/lanes/{lane}/outage, which checks them; from any other body they would go unchecked.
std::optional<HttpResponse> outage_keys_refusal(const json& change) {
  if (change.is_object() && (change.contains("outage") || change.contains("outage_direction"))) {
    return error_response(
        400, "an outage is not a lane change: POST /v1/lanes/{lane}/outage with {\"for\": \"2s\"}");
  }
  return std::nullopt;
}

}  // namespace

json direction_json(const DirectionState& state) {
  json drops = json::object();
  for (int c = 0; c < core::kDropCauseCount; ++c) {
    drops[core::drop_cause_name(static_cast<core::DropCause>(c))] = {
        {"packets", state.counters.dropped_packets[static_cast<std::size_t>(c)]},
        {"bytes", state.counters.dropped_bytes[static_cast<std::size_t>(c)]}};
  }
  json queue = json::object();
  if (state.queue.max_bytes != 0) queue["max_bytes"] = state.queue.max_bytes;
  if (state.queue.max_packets != 0) queue["max_packets"] = state.queue.max_packets;
  if (state.queue.max_delay.count() != 0)
    queue["max_delay_s"] = core::to_seconds(state.queue.max_delay);
  return {{"config",
           {{"rate_bps", state.rate_bps},
            {"rate", state.rate_bps == 0 ? "unlimited"
                                         : core::format_rate(static_cast<double>(state.rate_bps))},
            {"delay_s", core::to_seconds(state.delay)},
            {"delay", core::format_duration(state.delay)},
            {"loss", state.loss},
            {"queue", queue},
            {"outage_until_s", core::to_seconds(state.outage_until)}}},
          {"counters",
           {{"packets_in", state.counters.packets_in},
            {"bytes_in", state.counters.bytes_in},
            {"packets_out", state.counters.packets_out},
            {"bytes_out", state.counters.bytes_out},
            {"packets_duplicated", state.counters.packets_duplicated},
            {"dropped", drops}}},
          {"queue",
           {{"packets", state.counters.packets_queued},
            {"bytes", state.counters.bytes_queued},
            {"bottleneck_packets", state.bottleneck_packets},
            {"bottleneck_bytes", state.bottleneck_bytes},
            {"sojourn", sojourn_json(state.sojourn)}}},
          {"changes_applied", state.changes_applied},
          {"last_change_at_s", core::to_seconds(state.last_change_at)},
          {"live_changes_applied", state.live_applied},
          {"live_changes_late", state.live_late},
          {"release_lateness",
           {{"count", state.lateness.count},
            {"p50_s", core::to_seconds(state.lateness.p50)},
            {"p99_s", core::to_seconds(state.lateness.p99)},
            {"max_s", core::to_seconds(state.lateness.max)}}}};
}

json sojourn_json(const core::SojournHistogram::Snapshot& sojourn) {
  return {{"count", sojourn.count()},
          {"p50_s", core::to_seconds(sojourn.quantile(0.5))},
          {"p99_s", core::to_seconds(sojourn.quantile(0.99))},
          {"max_s", core::to_seconds(sojourn.max)}};
}

const std::vector<std::string>& live_keys() {
  static const std::vector<std::string> keys = {"rate", "delay", "rtt", "loss", "queue"};
  return keys;
}

std::uint64_t ChangeLog::add(nlohmann::json entry) {
  const std::lock_guard lock(mutex_);
  entry["change"] = ++last_;
  entries_.push_back(std::move(entry));
  if (entries_.size() > kKept) entries_.pop_front();
  return last_;
}

std::vector<std::pair<std::uint64_t, nlohmann::json>> ChangeLog::since(std::uint64_t after) const {
  const std::lock_guard lock(mutex_);
  std::vector<std::pair<std::uint64_t, nlohmann::json>> found;
  const std::uint64_t first = last_ - entries_.size() + 1;  // the sequence number of entries_[0]
  for (std::uint64_t seq = std::max(after + 1, first); seq <= last_; ++seq) {
    found.emplace_back(seq, entries_[seq - first]);
  }
  return found;
}

std::uint64_t ChangeLog::last() const {
  const std::lock_guard lock(mutex_);
  return last_;
}

ParsedBody parse_body(std::string_view body) {
  ParsedBody parsed;
  if (body.empty()) {
    parsed.error = "the request has no body; send a JSON object";
    return parsed;
  }
  try {
    parsed.value = json::parse(body);
  } catch (const json::exception& error) {
    // parse_error, and out_of_range for a number beyond a double (1e999).
    parsed.error = fmt::format("the body is not JSON: {}", error.what());
    return parsed;
  }
  if (!parsed.value.is_object()) parsed.error = "the body must be a JSON object";
  return parsed;
}

json ControlApi::lane_json(std::size_t lane) const {
  json value = {{"name", target_.lane_names()[lane]}, {"index", lane}};
  for (int d = 0; d < 2; ++d) {
    json direction = direction_json(target_.state(lane, d));
    direction["fidelity"] = target_.fidelity(lane, d, nullptr);  // since the lane started
    value[kDirectionNames[d]] = std::move(direction);
  }
  return value;
}

HttpResponse ControlApi::handle(const HttpRequest& request) {
  try {
    if (request.body.size() > kMaxBodyBytes) {
      return error_response(413, fmt::format("the body has {} bytes; the limit is {} bytes",
                                             request.body.size(), kMaxBodyBytes));
    }
    return route(request);
  } catch (const std::exception& error) {
    return error_response(500, fmt::format("internal error: {}", error.what()));
  }
}

HttpResponse ControlApi::route(const HttpRequest& request) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  const auto& names = target_.lane_names();
  if (path == "/v1/" || path == "/v1") {
    if (method != "GET") return not_allowed(method, path, "GET");
    json value = target_.identity();
    value["api"] = "v1";
    value["lanes"] = names;
    value["engine_time_s"] = core::to_seconds(target_.now() - target_.origin());
    return json_response(value);
  }
  if (path == "/v1/params") {
    if (method != "GET") return not_allowed(method, path, "GET");
    // The schema `longhaul params --json` prints, each parameter with `api_live`: whether a
    // PATCH or a change may set it (`live` is what --at and schedule files may change).
    json schema = target_.params();
    const auto& live = live_keys();
    if (schema.contains("params") && schema["params"].is_array()) {
      for (auto& param : schema["params"]) {
        const std::string key = param.value("key", "");
        param["api_live"] = std::find(live.begin(), live.end(), key) != live.end();
      }
    }
    return json_response(schema);
  }
  if (path == "/v1/lanes") {
    if (method != "GET") return not_allowed(method, path, "GET");
    json lanes = json::array();
    for (std::size_t l = 0; l < names.size(); ++l) lanes.push_back(lane_json(l));
    return json_response({{"lanes", lanes}});
  }
  if (path == "/v1/changes") {
    if (method != "POST") return not_allowed(method, path, "POST");
    const ParsedBody body = parse_body(request.body);
    if (!body.error.empty()) return error_response(400, body.error);
    const auto changes = body.value.find("changes");
    if (changes == body.value.end() || !changes->is_array() || changes->empty()) {
      return error_response(400,
                            "\"changes\" must be a non-empty list of lane changes, e.g. "
                            "{\"changes\": [{\"lane\": \"japan\", \"rtt\": \"400ms\"}]}");
    }
    for (const auto& change : *changes) {
      if (auto refusal = outage_keys_refusal(change)) return *refusal;
      // Every lane of the request switches at one instant: the request's own "at".
      if (change.is_object() && change.contains("at")) {
        return error_response(400,
                              "\"at\" inside one change: the changes of a request apply at one "
                              "instant; give it once, beside \"changes\": {\"at\": \"+5s\", "
                              "\"changes\": [...]}");
      }
    }
    const auto at = body.value.find("at");
    return apply(*changes, at == body.value.end() ? nullptr : &*at);
  }
  if (path == "/v1/events") {
    if (method != "GET") return not_allowed(method, path, "GET");
    // The HTTP server answers a GET with the stream itself (event_stream.hh); the core has no
    // connection to hold open.
    return error_response(501, "/v1/events is a stream the HTTP server serves");
  }
  if (path == "/metrics") {
    if (method != "GET") return not_allowed(method, path, "GET");
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = metrics_text(target_);
    return response;
  }
  constexpr std::string_view kLanes = "/v1/lanes/";
  if (path.starts_with(kLanes)) {
    std::string rest = path.substr(kLanes.size());
    bool outage = false;
    if (rest.ends_with("/outage")) {
      outage = true;
      rest.resize(rest.size() - 7);
    }
    const auto found = std::find(names.begin(), names.end(), rest);
    if (rest.empty() || rest.find('/') != std::string::npos || found == names.end()) {
      return error_response(404, fmt::format("no lane named \"{}\"; lanes: {}", rest, join(names)));
    }
    const auto lane = static_cast<std::size_t>(found - names.begin());
    if (outage) {
      if (method != "POST") return not_allowed(method, path, "POST");
      const ParsedBody body = parse_body(request.body.empty() ? "{}" : request.body);
      if (!body.error.empty()) return error_response(400, body.error);
      for (const auto& [key, value] : body.value.items()) {
        if (key != "for" && key != "direction" && key != "at") {
          return error_response(400, fmt::format("unknown key \"{}\" in an outage; give \"for\" "
                                                 "(duration), \"direction\" and \"at\"",
                                                 key));
        }
      }
      const auto length = body.value.find("for");
      if (length == body.value.end() || !length->is_string()) {
        return error_response(400,
                              "an outage needs \"for\": a duration string, e.g. "
                              "{\"for\": \"2s\"}");
      }
      const auto parsed = core::parse_duration(length->get<std::string>());
      if (!parsed || parsed->count() <= 0) {
        return error_response(400, fmt::format("for \"{}\": {}", length->get<std::string>(),
                                               parsed ? "must be above 0" : parsed.error));
      }
      std::string direction = "both";
      if (const auto given = body.value.find("direction"); given != body.value.end()) {
        if (!given->is_string() || (*given != "up" && *given != "down" && *given != "both")) {
          return error_response(400, "\"direction\" must be \"up\", \"down\" or \"both\"");
        }
        direction = given->get<std::string>();
      }
      json change = {
          {"lane", rest}, {"outage", length->get<std::string>()}, {"outage_direction", direction}};
      const auto at = body.value.find("at");
      return apply(json::array({change}), at == body.value.end() ? nullptr : &*at);
    }
    if (method == "GET") return json_response(lane_json(lane));
    if (method != "PATCH") return not_allowed(method, path, "GET, PATCH");
    const ParsedBody body = parse_body(request.body);
    if (!body.error.empty()) return error_response(400, body.error);
    if (auto refusal = outage_keys_refusal(body.value)) return *refusal;
    json change = body.value;
    change.erase("at");
    if (change.contains("lane")) {
      return error_response(400, "\"lane\" is the path's; leave it out of a PATCH body");
    }
    change["lane"] = rest;
    const auto at = body.value.find("at");
    return apply(json::array({change}), at == body.value.end() ? nullptr : &*at);
  }
  return error_response(404, fmt::format("no endpoint {}; endpoints: {}", path, endpoint_list()));
}

HttpResponse ControlApi::apply(const json& changes, const json* at) {
  const auto& names = target_.lane_names();
  const Nanos now = target_.now();
  Nanos instant = now + kApplyLead;
  if (at != nullptr) {
    if (!at->is_string()) {
      return error_response(400,
                            "\"at\" must be a string: \"+5s\" (from now) or \"90s\" (from "
                            "the engine's start)");
    }
    std::string text = at->get<std::string>();
    const bool relative = text.starts_with("+");
    const auto offset = core::parse_duration(relative ? text.substr(1) : text);
    if (!offset) return error_response(400, fmt::format("at \"{}\": {}", text, offset.error));
    const Nanos wanted = (relative ? now : target_.origin()) + *offset;
    if (wanted < now) {
      return error_response(
          409, fmt::format("at \"{}\" is in the past: the engine has run {:.3f} s", text,
                           core::to_seconds(now - target_.origin())));
    }
    instant = std::max(instant, wanted);
  }
  const auto link_keys = target_.link_keys();
  std::vector<PlannedChange> planned;
  std::vector<bool> touched(names.size(), false);
  json summary = json::array();
  for (const auto& change : changes) {
    if (!change.is_object()) return error_response(400, "each change must be a JSON object");
    const auto lane_name = change.find("lane");
    if (lane_name == change.end() || !lane_name->is_string()) {
      return error_response(400, "each change needs \"lane\": the lane's name");
    }
    const auto found = std::find(names.begin(), names.end(), lane_name->get<std::string>());
    if (found == names.end()) {
      return error_response(404, fmt::format("no lane named \"{}\"; lanes: {}",
                                             lane_name->get<std::string>(), join(names)));
    }
    const auto lane = static_cast<std::size_t>(found - names.begin());
    if (touched[lane]) {
      return error_response(400, fmt::format("lane \"{}\" appears twice; merge its changes into "
                                             "one",
                                             *found));
    }
    touched[lane] = true;
    std::array<DirectionEdit, 2> edits;
    Nanos outage{0};
    unsigned outage_directions = 0;
    json keys = change;
    if (const auto length = change.find("outage"); length != change.end()) {
      outage = *core::parse_duration(length->get<std::string>());
      const std::string direction = change.value("outage_direction", "both");
      outage_directions = direction == "up" ? 1U : direction == "down" ? 2U : 3U;
      keys.erase("outage");
      keys.erase("outage_direction");
    }
    if (auto refusal = read_keys(keys, 3, edits, link_keys)) {
      return error_response(refusal->status, refusal->message);
    }
    bool any = outage.count() > 0;
    DirectionState states[2] = {target_.state(lane, 0), target_.state(lane, 1)};
    const Nanos rtt =
        edits[0].delay.value_or(states[0].delay) + edits[1].delay.value_or(states[1].delay);
    for (int d = 0; d < 2; ++d) {
      const DirectionEdit& edit = edits[static_cast<std::size_t>(d)];
      const DirectionState& state = states[d];
      const bool changes_something =
          edit.rate_bps || edit.delay || edit.loss || edit.queue || (outage_directions >> d & 1U);
      if (!changes_something) continue;
      any = true;
      const char* direction = kDirectionNames[d];
      if (edit.loss && !state.random_loss) {
        return error_response(
            409, fmt::format("loss: lane \"{}\" {} was started without independent loss (or with "
                             "another loss model), so its senders' segmentation offloads are on "
                             "and one loss decision would drop a whole super-frame; start the lab "
                             "with a loss on this lane to change it live",
                             *found, direction));
      }
      const std::uint64_t rate = edit.rate_bps.value_or(state.rate_bps);
      core::QueueBound queue = edit.queue.value_or(state.queue);
      if (edit.queue && rate == 0) {
        return error_response(409, fmt::format("queue: lane \"{}\" {} has no rate limit, and a "
                                               "queue only forms in front of one; set rate too",
                                               *found, direction));
      }
      core::LiveChange live;
      live.at = instant;
      live.change.rate_bps = edit.rate_bps;
      live.change.delay = edit.delay;
      live.change.loss = edit.loss;
      live.queue = edit.queue;
      if (edit.rate_bps && !edit.queue && queue_empty(queue)) {
        // A direction that had no rate gets the default queue of `run`: one bandwidth-delay
        // product of the lane's round trip at the new rate, at least 100 full-size packets.
        const double bdp = static_cast<double>(rate) / 8.0 * core::to_seconds(rtt);
        queue.max_bytes = std::max(static_cast<std::uint64_t>(bdp), 100 * kFullSizeWireBytes);
        live.queue = queue;
      }
      if (outage_directions >> d & 1U) live.outage = outage;
      const std::string capacity =
          target_.check_capacity(lane, d, rate, edit.delay.value_or(state.delay), queue);
      if (!capacity.empty()) {
        return error_response(409, fmt::format("lane \"{}\" {}: {}", *found, direction, capacity));
      }
      planned.push_back({lane, d, live});
    }
    if (!any) {
      return error_response(400, fmt::format("the change for lane \"{}\" sets nothing; give keys "
                                             "such as {{\"rtt\": \"120ms\"}}",
                                             *found));
    }
    summary.push_back(change);
  }
  std::vector<HttpResponse::Await> awaits;
  for (const PlannedChange& change : planned) {
    const auto same = [&](const HttpResponse::Await& a) {
      return a.lane == change.lane && a.direction == change.direction;
    };
    auto found = std::find_if(awaits.begin(), awaits.end(), same);
    if (found == awaits.end()) {
      awaits.push_back({change.lane, change.direction,
                        target_.state(change.lane, change.direction).live_applied});
      found = awaits.end() - 1;
    }
    ++found->live_applied;
  }
  if (!target_.post(planned)) {
    return error_response(409,
                          "too many changes are waiting for their instant in one of these "
                          "lanes; wait for some to apply");
  }
  const double at_s = core::to_seconds(instant - target_.origin());
  const std::uint64_t id = change_log_.add({{"at_s", at_s},
                                            {"posted_s", core::to_seconds(now - target_.origin())},
                                            {"changes", summary}});
  HttpResponse response = json_response({{"change", id}, {"at_s", at_s}, {"changes", summary}});
  response.applies_at = instant;
  response.awaits = std::move(awaits);
  return response;
}

}  // namespace longhaul::control
