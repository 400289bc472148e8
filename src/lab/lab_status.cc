// `longhaul status` of a lab: what the engine answers now (GET /v1/lanes) when it runs, else the
// counters file it last wrote, as text tables or JSON.
#include "lab/lab_status.hh"

#include <fmt/format.h>

#include <chrono>
#include "control/api_client.hh"
#include "io/text_file.hh"
#include "lab/control_host.hh"
#include "lab/run_session.hh"

namespace longhaul::lab {

namespace {

/// The lanes as the engine answers now (GET /v1/lanes: counters of this instant and the
/// configuration in force, live changes included), or null when it does not answer.
nlohmann::json live_lanes(const LabState& state) {
  try {
    control::ApiClient client(control_socket_for(state.state_path()), std::chrono::seconds(2));
    const control::ApiAnswer answer = client.request("GET", "/v1/lanes");
    if (!answer.ok()) return nullptr;
    auto parsed = nlohmann::json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.contains("lanes") && parsed["lanes"].is_array()) {
      return std::move(parsed["lanes"]);
    }
  } catch (const std::exception&) {
    // An engine that does not answer (stopping, another version) leaves the counters file.
  }
  return nullptr;
}

}  // namespace

nlohmann::json lab_status_json(const LabState& state) {
  const bool alive = lab_is_alive(state);
  nlohmann::json json = {{"schema", kLabSchema}, {"name", state.name}, {"file", state.file},
                         {"pid", state.pid},     {"alive", alive},     {"lab", state.description}};
  // Asked of the engine itself when it runs: what `GET /v1/lanes` answers, by lane name.
  if (alive) {
    if (const nlohmann::json lanes = live_lanes(state); lanes.is_array()) {
      json["live"] = nlohmann::json::object();
      for (const auto& lane : lanes) {
        if (lane.is_object() && lane.contains("name") && lane["name"].is_string()) {
          json["live"][lane["name"].get<std::string>()] = lane;
        }
      }
    }
  }
  // Rewritten atomically every second, but read defensively all the same: a counters file
  // that is not an object (another version's, cut short) shows as no counters.
  const io::InputFile counters =
      io::read_input_file(state.counters_path(), "counters", io::kStateFileLimit);
  if (counters) {
    auto parsed = nlohmann::json::parse(counters.text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.contains("lanes") && parsed["lanes"].is_object()) {
      json["counters"] = std::move(parsed);
    }
  }
  return json;
}

namespace {

/// A lane's fidelity lines for `status`: the verdicts since the start and over the last
/// interval, and what went wrong in a degraded direction.
std::string fidelity_status_text(const nlohmann::json& lane) {
  const auto verdict = [&](const char* direction, const char* span) -> std::string {
    if (!lane[direction].contains("fidelity")) return "-";
    return lane[direction]["fidelity"][span].value("verdict", "-") == "degraded" ? "DEGRADED"
                                                                                 : "ok";
  };
  std::string text = fmt::format(
      "{:<15}   fidelity: up {}, down {} since start; up {}, down {} over the last second\n", "",
      verdict("up", "since_start"), verdict("down", "since_start"), verdict("up", "last_interval"),
      verdict("down", "last_interval"));
  for (const char* direction : {"up", "down"}) {
    for (const char* span : {"since_start", "last_interval"}) {
      if (verdict(direction, span) != "DEGRADED") continue;
      text += fmt::format("{:<15}     {} ({}): {}\n", "", direction,
                          std::string_view(span) == "since_start" ? "since start" : "last second",
                          lane[direction]["fidelity"][span].value("explanation", ""));
    }
  }
  return text;
}

/// "now (changed live): up 150 ms, 1 Gbit/s, loss 0%; down ..." for a lane whose rate, delay
/// or loss was changed through the API since `up`; "" for one that was not.
std::string live_change_text(const nlohmann::json& lane) {
  if (lane.at("up").value("live_changes_applied", 0) == 0 &&
      lane.at("down").value("live_changes_applied", 0) == 0) {
    return {};
  }
  const auto direction = [&](const char* name) {
    const auto& config = lane.at(name).at("config");
    return fmt::format("{} {}, {}, loss {:g}%", name, config.value("delay", "-"),
                       config.value("rate", "-"), config.value("loss", 0.0) * 100.0);
  };
  return fmt::format("{:<15}   now (changed live): {}; {}\n", "", direction("up"),
                     direction("down"));
}

/// The sites and lanes tables of a lab's status (throws nlohmann::json::exception when the
/// recorded description lacks what they show).
std::string lab_tables(const LabState& state, const nlohmann::json& json) {
  const auto& lab = state.description;
  std::string text =
      "\n\nsite            interface  address          address (IPv6)          lane\n";
  for (const auto& site : lab.at("sites")) {
    bool first = true;
    for (const auto& interface : site.at("interfaces")) {
      text += fmt::format(
          "{:<15} {:<10} {:<16} {:<23} {}\n", first ? site.at("name").get<std::string>() : "",
          interface.at("ifname").get<std::string>(), interface.at("ipv4").get<std::string>(),
          interface.at("ipv6").get<std::string>(), interface.at("lane").get<std::string>());
      first = false;
    }
  }
  text += "\nlane            a -> b (up)                  packets up/down        dropped up/down\n";
  for (const auto& lane : lab.at("lanes")) {
    const std::string name = lane.at("name").get<std::string>();
    std::string packets = "-";
    std::string dropped = "-";
    // The engine's answer of this instant, else the counters file it rewrites every second;
    // both give per direction packets_out and dropped {cause: {packets}}.
    const nlohmann::json* live =
        json.contains("live") && json["live"].contains(name) ? &json["live"][name] : nullptr;
    const nlohmann::json* counters =
        json.contains("counters") && json.at("counters").at("lanes").contains(name)
            ? &json.at("counters").at("lanes").at(name)
            : nullptr;
    if (live != nullptr || counters != nullptr) {
      const auto direction_counters = [&](const char* direction) -> const nlohmann::json& {
        return live != nullptr ? live->at(direction).at("counters") : counters->at(direction);
      };
      const auto count = [&](const char* direction, const char* field) {
        return direction_counters(direction).value(field, std::uint64_t{0});
      };
      const auto drops = [&](const char* direction) {
        std::uint64_t total = 0;
        for (const auto& [cause, value] : direction_counters(direction).at("dropped").items()) {
          total += value.value("packets", std::uint64_t{0});
        }
        return total;
      };
      packets = fmt::format("{}/{}", count("up", "packets_out"), count("down", "packets_out"));
      dropped = fmt::format("{}/{}", drops("up"), drops("down"));
    }
    text += fmt::format("{:<15} {:<28} {:<22} {}\n", name,
                        lane.at("a").get<std::string>() + " -> " + lane.at("b").get<std::string>(),
                        packets, dropped);
    text += fmt::format("{:<15}   up:   {}\n{:<15}   down: {}\n", "",
                        lane.at("up").get<std::string>(), "", lane.at("down").get<std::string>());
    if (live != nullptr) text += live_change_text(*live);
    if (json.contains("counters") && json["counters"]["lanes"].contains(name)) {
      text += fidelity_status_text(json["counters"]["lanes"][name]);
    }
  }
  return text;
}

}  // namespace

std::string lab_status_text(const LabState& state) {
  const nlohmann::json json = lab_status_json(state);
  const auto& lab = state.description;
  const bool alive = lab_is_alive(state);
  std::string text = fmt::format(
      "lab {} from {}: {}", state.name, state.file,
      alive ? fmt::format("up (engine pid {})", state.pid) : "ENGINE GONE (run `longhaul down`)");
  if (json.contains("counters") && json["counters"].contains("uptime_s") &&
      json["counters"]["uptime_s"].is_number()) {
    text += fmt::format(", up {:.0f} s", json["counters"]["uptime_s"].get<double>());
  }
  if (!lab.contains("sites") || !lab.contains("lanes")) {
    // The state file is written before anything is created; the description follows.
    return text + (alive ? ", still being set up\n"
                         : "; it was killed while being set up: `longhaul down --stale` removes "
                           "what it left\n");
  }
  if (lab.contains("port") && lab["port"] == port_name(PortKind::xdp)) text += ", AF_XDP ports";
  try {
    text += lab_tables(state, json);
    if (lab.contains("api") && lab["api"].is_object()) {
      const auto& api = lab["api"];
      text += fmt::format("control API: {}\n", api.value("socket", "-"));
      for (const auto& tcp : api.value("tcp", nlohmann::json::array())) {
        text += fmt::format("{}: {}{}\n", tcp.value("dashboard", false) ? "dashboard" : "API",
                            tcp.value("url", "-"),
                            tcp.value("token", false) ? " (token required)" : "");
      }
    }
    return text;
  } catch (const nlohmann::json::exception&) {
    return text + "; its recorded description is unreadable (another version's state file?)\n";
  }
}

}  // namespace longhaul::lab
