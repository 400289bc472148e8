#include "lab/control_host.hh"

#include <fmt/format.h>

#include <ctime>
#include <filesystem>

#include "lab/fidelity_report.hh"
#include "link/link_options.hh"
#include "link/schema_docs.hh"

namespace longhaul::lab {

namespace {
nlohmann::json identity(const ControlHostRequest& request) {
  nlohmann::json value = {{"kind", request.kind},
                          {"name", request.name},
                          {"seed", request.seed},
                          {"started_unix", static_cast<std::int64_t>(std::time(nullptr))},
                          {"version", LONGHAUL_VERSION}};
  if (!request.topology.is_null()) value["topology"] = request.topology;
  return value;
}
control::ServerEndpoint unix_endpoint(const ControlHostRequest& request) {
  control::ServerEndpoint endpoint;
  endpoint.unix_path = request.socket_path;
  return endpoint;
}
}  // namespace

ControlHost::ControlHost(const ControlHostRequest& request)
    : target_(
          identity(request), request.lane_names, request.lanes, *request.clock, request.origin,
          [rate = request.assumed_rate_bps](const core::DirectionConfig& config) {
            return link::plan_buffers(config, rate).arena_bytes;
          },
          link::params_json(),
          [](const engine::Lane& lane, engine::Direction direction,
             const engine::FidelitySample& earlier) {
            return direction_fidelity_json(direction_fidelity(lane, direction, earlier));
          }),
      api_(target_),
      server_(std::make_unique<control::ApiServer>(api_, target_, unix_endpoint(request))) {
  for (const auto& endpoint : request.tcp) {
    tcp_servers_.push_back(std::make_unique<control::ApiServer>(api_, target_, endpoint));
  }
}

nlohmann::json ControlHost::endpoints_json() const {
  nlohmann::json tcp = nlohmann::json::array();
  for (const auto& server : tcp_servers_) {
    const auto& endpoint = server->endpoint();
    const std::string host =
        endpoint.host.find(':') != std::string::npos ? "[" + endpoint.host + "]" : endpoint.host;
    tcp.push_back({{"url", fmt::format("http://{}:{}/", host, endpoint.port)},
                   {"dashboard", endpoint.dashboard},
                   {"token", !endpoint.token.empty()}});
  }
  return {{"socket", socket_path()}, {"tcp", tcp}};
}

std::string tcp_endpoints_text(const ControlHost& host) {
  std::string text;
  for (const auto& tcp : host.endpoints_json().at("tcp")) {
    text += fmt::format("; {} {}{}", tcp.at("dashboard").get<bool>() ? "dashboard" : "API",
                        tcp.at("url").get<std::string>(),
                        tcp.at("token").get<bool>() ? " (token required)" : "");
  }
  return text;
}

std::string control_socket_for(const std::string& state_file) {
  return std::filesystem::path(state_file).replace_extension(".sock").string();
}

}  // namespace longhaul::lab
