#include "cli/lab_commands.hh"

#include <fmt/format.h>

#include <iostream>
#include <random>

#include "cli/commands.hh"
#include "core/units.hh"
#include "io/text_file.hh"
#include "io/xsk_socket.hh"
#include "lab/buffer_budget.hh"
#include "lab/lab_session.hh"
#include "lab/lab_status.hh"
#include "lab/run_session.hh"
#include "lab/run_state.hh"

namespace longhaul::cli {

UpCommand::UpCommand(CLI::App& app) {
  command_ = app.add_subcommand("up", "Bring up a multi-site lab from a topology file");
  command_->footer(
      "Builds one network namespace per site, the lanes between them (each direction with its\n"
      "own impairments, the same parameters as `longhaul run`) and the switches, then leaves an\n"
      "engine process running until `longhaul down`. Site names resolve inside the lab.\n\n"
      "Example:\n"
      "  longhaul up examples/four-sites.toml\n"
      "  longhaul exec japan -- ping -c 3 california\n"
      "  longhaul down\n"
      "See docs/topology.md for the file format and docs/labs.md for the commands.");
  command_->add_option("file", file_, "Topology file (TOML)")->required()->type_name("FILE");
  command_->add_option("--name", name_, "Lab name (default: the file's name = ..., or its stem)");
  add_engine_flags(command_, engine_);
  add_api_flags(command_, api_);
  command_->add_flag("--check", check_only_, "Only check the file and print the plan");
  command_->add_flag("-q,--quiet", quiet_, "Print nothing when the lab is up");
}

int UpCommand::execute() {
  std::random_device random;
  const std::uint64_t seed = (std::uint64_t{random()} << 32) | random();
  lab::LabDefinition definition;
  try {
    definition = lab::load_lab_definition(file_, name_, seed);
    if (const std::uint64_t available = lab::available_memory_bytes(); available != 0) {
      lab::check_lab_fits(definition, available);
    }
  } catch (const lab::TopologyError& error) {
    throw UsageError(error.what());
  }
  for (const auto& site : definition.topology.sites) {
    if (!site.interface.empty()) {
      throw UsageError(fmt::format(
          "{}: site '{}' names an existing interface ({}): that is appliance mode, run it with "
          "`longhaul bridge --topology {}`; labs make their own sites",
          file_, site.name, site.interface, file_));
    }
  }
  const core::Nanos spin = spin_window(engine_);
  const lab::PortKind port = port_kind(engine_);
  std::vector<control::ServerEndpoint> api_tcp = api_endpoints(api_);
  engine::ThreadPlacement placement = thread_placement(engine_);
  for (std::size_t l = 0; port == lab::PortKind::xdp && l < definition.lanes.size(); ++l) {
    if (const auto mtu = lab::mtu_beyond_xdp(definition.lanes[l])) {
      const auto& lane = definition.topology.lanes[l];
      throw UsageError(fmt::format(
          "{}:{}:{}: lane '{}': mtu {}: --port xdp carries IP packets of at most {} bytes; use "
          "a smaller mtu or --port packet",
          file_, lane.place.line, lane.place.column, lane.name, *mtu, io::kXdpMaxMtu));
    }
  }
  if (check_only_) {
    const auto count = [](std::size_t n, const char* one, const char* many) {
      return fmt::format("{} {}", n, n == 1 ? one : many);
    };
    std::cout << fmt::format("{}: lab '{}' is valid: {}, {}, {}\n", file_, definition.topology.name,
                             count(definition.topology.sites.size(), "site", "sites"),
                             count(definition.topology.switches.size(), "switch", "switches"),
                             count(definition.topology.lanes.size(), "lane", "lanes"));
    for (std::size_t l = 0; l < definition.lanes.size(); ++l) {
      const auto& lane = definition.topology.lanes[l];
      std::cout << fmt::format("  lane {} ({} -> {})\n    up:   {}\n    down: {}\n    {}\n",
                               lane.name, lane.a, lane.b, link::describe(definition.lanes[l].up),
                               link::describe(definition.lanes[l].down),
                               lab::buffer_plan(definition.lanes[l], lab::kLabAssumedRateBps));
    }
    std::cout << "  "
              << lab::memory_plan(lab::lab_buffer_bytes(definition), lab::available_memory_bytes())
              << "\n";
    return 0;
  }
  lab::UpRequest request;
  request.lab = std::move(definition);
  request.spin = spin;
  request.placement = std::move(placement);
  request.port = port;
  request.api_tcp = std::move(api_tcp);
  const lab::LabState state = lab::lab_up(request);
  if (!quiet_) {
    std::cout << lab::lab_status_text(state)
              << fmt::format(
                     "\nRun programs in a site: longhaul exec SITE -- COMMAND (or longhaul shell "
                     "SITE);\nsite names resolve there. Take the lab down with: longhaul down {}\n",
                     state.name);
  }
  return 0;
}

StatusCommand::StatusCommand(CLI::App& app) {
  command_ =
      app.add_subcommand("status", "Show labs (sites, addresses, lanes, live counters) and runs");
  command_->add_option("lab", lab_, "The lab to show (default: every lab)");
  command_->add_flag("--json", json_, "Machine-readable output (schema longhaul.lab/1)");
}

int StatusCommand::execute() {
  std::vector<lab::LabState> labs;
  if (!lab_.empty()) {
    labs.push_back(lab::choose_lab(lab_));
  } else {
    labs = lab::list_labs();
  }
  if (json_) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& state : labs) out.push_back(lab::lab_status_json(state));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  // A broken state file (a crash, another version) is mentioned, never allowed to hide the rest.
  for (const auto& broken : lab::unreadable_labs()) {
    std::cerr << fmt::format(
        "longhaul: ignoring the lab state file {}: {}; `longhaul down --stale` removes it\n",
        broken.path, broken.problem);
  }
  for (const auto& broken : lab::unreadable_runs()) {
    std::cerr << fmt::format(
        "longhaul: ignoring the run state file {}: {}; `longhaul down --stale` removes it\n",
        broken.path, broken.problem);
  }
  if (labs.empty()) std::cout << "no lab is up\n";
  for (std::size_t i = 0; i < labs.size(); ++i) {
    std::cout << (i == 0 ? "" : "\n") << lab::lab_status_text(labs[i]);
  }
  // Runs (`longhaul run`) live as long as their command; list them so one command shows all.
  if (lab_.empty()) {
    for (const auto& run : lab::list_runs()) {
      std::cout << fmt::format("\nrun {}: {} (pid {}), command in namespace {}, remote {}\n",
                               run.id(), lab::run_is_alive(run) ? "up" : "PROCESS GONE", run.pid,
                               run.command_netns(), run.host_ipv4());
    }
  }
  return 0;
}

ExecCommand::ExecCommand(CLI::App& app, bool shell) : shell_(shell) {
  if (shell) {
    command_ = app.add_subcommand("shell", "Open your shell inside a lab site");
  } else {
    command_ = app.add_subcommand("exec", "Run a command inside a lab site");
    command_->footer(
        "Runs COMMAND in the site's network namespace, as the invoking user under sudo, with\n"
        "the lab's /etc/hosts so site names resolve. $LONGHAUL_SITE, $LONGHAUL_LAB,\n"
        "$LONGHAUL_LOCAL and $LONGHAUL_LOCAL6 describe where it runs. The exit status is the\n"
        "command's own.\n\n"
        "Example: longhaul exec japan -- iperf3 -c california");
  }
  command_->add_option("site", site_, "Site name")->required();
  command_->add_option("--lab", lab_, "Lab name (default: the only lab that is up)");
  if (!shell) {
    command_->add_option("command", argv_, "Command and arguments (after --)")->required();
  }
}

int ExecCommand::execute() {
  lab::ExecRequest request;
  request.lab = lab_;
  request.site = site_;
  if (!shell_) request.command = argv_;
  return lab::lab_exec(request);
}

}  // namespace longhaul::cli
