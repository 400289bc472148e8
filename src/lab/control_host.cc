#include "lab/control_host.hh"

#include <ctime>
#include <filesystem>

#include "link/link_options.hh"
#include "link/schema_docs.hh"

namespace longhaul::lab {

namespace {
nlohmann::json identity(const ControlHostRequest& request) {
  return {{"kind", request.kind},
          {"name", request.name},
          {"seed", request.seed},
          {"started_unix", static_cast<std::int64_t>(std::time(nullptr))},
          {"version", LONGHAUL_VERSION}};
}
}  // namespace

ControlHost::ControlHost(const ControlHostRequest& request)
    : target_(
          identity(request), request.lane_names, request.lanes, *request.clock, request.origin,
          [rate = request.assumed_rate_bps](const core::DirectionConfig& config) {
            return link::plan_buffers(config, rate).arena_bytes;
          },
          link::params_json()),
      api_(target_),
      server_(std::make_unique<control::ApiServer>(api_, target_, request.socket_path)) {}

std::string control_socket_for(const std::string& state_file) {
  return std::filesystem::path(state_file).replace_extension(".sock").string();
}

}  // namespace longhaul::lab
