#include "cli/capture_bridge_commands.hh"

#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <random>

#include "cli/commands.hh"
#include "cli/link_flags.hh"
#include "core/topology.hh"
#include "core/units.hh"
#include "io/text_file.hh"
#include "io/xsk_socket.hh"
#include "lab/bridge_session.hh"
#include "lab/buffer_budget.hh"
#include "lab/capture_session.hh"
#include "lab/topology_file.hh"

namespace longhaul::cli {

CaptureCommand::CaptureCommand(CLI::App& app) {
  command_ = app.add_subcommand("capture", "Write what crosses a lab's lane to a pcap file");
  command_->footer(
      "Captures the frames the lane's engine transmitted (after impairment: delayed, rate-\n"
      "limited; lost packets are absent), or with --before the frames that entered the lane.\n"
      "\"up\" is the lane's a -> b direction, \"down\" b -> a; both go to one file by default.\n"
      "Runs until Ctrl-C, SIGTERM, -c COUNT frames or -t SECONDS, then prints how many frames\n"
      "it wrote. Timestamps are the kernel's, in nanoseconds (a nanosecond pcap file).\n\n"
      "TCP segmentation-offload super-frames cross a lane whole when no per-packet random\n"
      "stage is configured: they appear in the file as single frames of up to 64 KiB.\n\n"
      "Example:\n"
      "  longhaul capture california -w california.pcap -c 100\n"
      "  tshark -r california.pcap\n"
      "See docs/capture.md.");
  command_->add_option("lane", lane_, "Lane name (as in `longhaul status`)")->required();
  command_->add_option("--lab", lab_, "Lab name (default: the only lab that is up)");
  command_->add_option("--direction", direction_, "up (a -> b), down (b -> a) or both (default)")
      ->check(CLI::IsMember({"up", "down", "both"}));
  command_->add_flag("--before", before_,
                     "Capture what entered the lane, before impairment (default: after)");
  command_->add_option("-w,--write", path_, "The pcap file to write (- = standard output)")
      ->required()
      ->type_name("FILE");
  command_
      ->add_option_function<std::uint64_t>(
          "-c,--count", [this](std::uint64_t count) { count_ = count; },
          "Stop after writing COUNT frames")
      ->type_name("COUNT")
      ->check(CLI::PositiveNumber);
  command_
      ->add_option_function<std::string>(
          "-t,--time", [this](const std::string& value) { duration_ = value; },
          "Stop after this long: seconds (30) or a duration (1.5s, 500ms)")
      ->type_name("SECONDS");
  command_->add_flag("-q,--quiet", quiet_, "Print nothing but errors");
}

int CaptureCommand::execute() {
  lab::CaptureRequest request;
  request.lab = lab_;
  request.lane = lane_;
  request.directions = direction_ == "up"     ? lab::CaptureDirections::up
                       : direction_ == "down" ? lab::CaptureDirections::down
                                              : lab::CaptureDirections::both;
  request.before = before_;
  if (const std::string problem = io::output_path_problem(path_); !problem.empty()) {
    throw UsageError("-w " + problem);
  }
  request.path = path_;
  request.count = count_;
  request.quiet = quiet_;
  if (duration_) {
    // A bare number is seconds, as in tcpdump and iperf3; anything else needs a unit.
    double seconds = 0;
    std::size_t used = 0;
    bool plain = false;
    try {
      seconds = std::stod(*duration_, &used);
      plain = used == duration_->size();
    } catch (const std::exception&) {
      plain = false;
    }
    if (plain) {
      if (!(seconds > 0) || !std::isfinite(seconds) || seconds > 1e9) {
        throw UsageError(fmt::format("-t {}: expected a positive number of seconds", *duration_));
      }
      request.duration =
          std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(seconds * 1e9)));
    } else {
      const auto parsed = core::parse_duration(*duration_);
      if (!parsed) throw UsageError("-t: " + parsed.error);
      if (parsed->count() <= 0) throw UsageError("-t: the time limit must be positive");
      request.duration = *parsed;
    }
  }
  return lab::capture_session(request);
}

BridgeCommand::BridgeCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "bridge", "Appliance mode: bridge real interfaces through emulated links, lane by lane");
  command_->footer(
      "Each --lane a=IF1,b=IF2 bridges two existing interfaces in both directions through an\n"
      "emulated link: \"up\" is from a to b, \"down\" from b to a, with the same link flags as\n"
      "`longhaul run` (applied to every lane). The interfaces are put in promiscuous mode while\n"
      "the bridge runs. They should carry no addresses of this host. Runs in the foreground until\n"
      "Ctrl-C or SIGTERM (exit 0), then prints each lane's counters.\n\n"
      "When a direction needs wire-sized packets (loss, duplication, corruption, an AQM), GRO\n"
      "and LRO are turned off on its receiving interface and restored at the end (on both\n"
      "interfaces with --port xdp, which needs LRO off).\n\n"
      "Example (a box with two NICs between two switches):\n"
      "  longhaul bridge --lane a=enp1s0f0,b=enp1s0f1 --rtt 120ms --rate 10gbit\n\n"
      "While it runs, its control API is at /run/longhaul/bridges/NAME.sock: change a lane live\n"
      "with `longhaul set NAME LANE ...` (lanes are numbered from 0, or named by --topology),\n"
      "watch it with `longhaul watch NAME`. See docs/bridge.md and docs/api.md.");
  auto* lane_option =
      command_
          ->add_option("--lane", lanes_, "A lane between two interfaces: a=IF1,b=IF2 (repeatable)")
          ->type_name("a=IF1,b=IF2");
  command_
      ->add_option("--topology", topology_,
                   "Lanes from a topology file whose sites name interfaces (interface = \"eth1\"), "
                   "each lane with its own impairments (docs/bridge.md)")
      ->type_name("FILE")
      ->excludes(lane_option);
  command_
      ->add_option("--netns", netns_,
                   "Network namespace the interfaces are in (default: longhaul's own)")
      ->type_name("NAME");
  add_link_flags(command_, flags_, DirectionWords{"a -> b", "b -> a"});
  command_->add_flag("--stats", stats_, "Print detailed per-direction counters at the end");
  command_->add_flag("-q,--quiet", quiet_, "Print nothing of our own (no header, no summary)");
  command_
      ->add_option("--json", json_, "Write the counters as JSON to FILE at the end (- = stdout)")
      ->type_name("FILE");
  command_->add_flag("--strict", strict_,
                     "Exit with status 5 instead of 0 when a lane's fidelity verdict is degraded "
                     "(the machine could not keep it as configured)");
  add_engine_flags(command_, engine_);
  command_
      ->add_option("--name", name_,
                   "The bridge's name for its control API (`longhaul set NAME ...`; default "
                   "\"bridge\")")
      ->type_name("NAME");
  add_api_flags(command_, api_);
  command_->add_flag("--check", check_only_,
                     "Only check the lanes, flags and memory, print the plan and exit (0: valid, "
                     "2: not); touches no interface and needs no root");
}

int BridgeCommand::execute() {
  lab::BridgeRequest request;
  std::random_device entropy;
  const std::uint64_t random_seed = (std::uint64_t{entropy()} << 32) | entropy();
  if (!topology_.empty()) {
    // Impairments come from the file's lanes; a link flag here would be silently ignored.
    for (const CLI::Option* option : command_->get_options()) {
      if (option->get_name() == "--strict") continue;  // about the outcome, not the lanes
      const std::string name = option->get_name();
      if (option->count() == 0 || name == "--topology" || name == "--netns" || name == "--stats" ||
          name == "-q,--quiet" || name == "--json" || name == "--check" || name == "--spin" ||
          name == "--cpus" || name == "--realtime" || name == "--port" || name == "-h,--help" ||
          name == "--name" || name == "--listen" || name == "--web" || name == "--token-file") {
        continue;
      }
      throw UsageError(name + " cannot be combined with --topology: set it per lane in " +
                       topology_);
    }
    try {
      request.lanes = lab::bridge_lanes_from(lab::load_lab_definition(topology_, "", random_seed));
    } catch (const lab::TopologyError& error) {
      throw UsageError(error.what());
    }
  } else if (lanes_.empty()) {
    throw UsageError("give the lanes: --lane a=IF1,b=IF2 (repeatable) or --topology FILE");
  }
  for (const auto& text : lanes_) {
    const auto lane = lab::parse_bridge_lane(text);
    if (!lane) throw UsageError(lane.error);
    request.lanes.push_back(*lane);
  }
  if (const std::string error = lab::check_bridge_lanes(request.lanes); !error.empty()) {
    throw UsageError(error);
  }
  auto link = link::resolve_link(flags_, random_seed);
  if (!link) throw UsageError(link.error);
  request.link = *link;
  request.netns = netns_;
  request.spin = spin_window(engine_);
  request.placement = thread_placement(engine_);
  request.strict = strict_;
  request.port = port_kind(engine_);
  if (!core::valid_topology_name(name_, core::kMaxLabNameLength)) {
    throw UsageError(fmt::format(
        "--name '{}': a bridge's name is 1 to {} lowercase letters, digits and '-', starting "
        "with a letter (e.g. wan)",
        name_, core::kMaxLabNameLength));
  }
  request.name = name_;
  request.api_tcp = api_endpoints(api_);
  if (request.port == lab::PortKind::xdp) {
    for (const auto& lane : request.lanes) {
      if (const auto mtu = lab::mtu_beyond_xdp(lane.link ? *lane.link : request.link)) {
        throw UsageError(fmt::format(
            "mtu {} ({} <-> {}): --port xdp carries IP packets of at most {} bytes; use a "
            "smaller mtu or --port packet",
            *mtu, lane.a, lane.b, io::kXdpMaxMtu));
      }
    }
  }
  if (json_) {
    if (const std::string problem = io::output_path_problem(*json_); !problem.empty()) {
      throw UsageError("--json " + problem);
    }
  }
  // Each lane's own link (a topology file's) or the flags' link, seeded per lane.
  std::vector<link::LinkSpec> links;
  std::vector<lab::BufferedLink> buffered;
  for (std::size_t l = 0; l < request.lanes.size(); ++l) {
    links.push_back(request.lanes[l].link ? *request.lanes[l].link : request.link);
  }
  for (std::size_t l = 0; l < request.lanes.size(); ++l) {
    buffered.push_back(
        {fmt::format("lane {} <-> {}", request.lanes[l].a, request.lanes[l].b), &links[l]});
  }
  const std::uint64_t available = lab::available_memory_bytes();
  if (available != 0) {
    if (const std::string problem =
            lab::buffers_do_not_fit(buffered, request.assumed_rate_bps, available,
                                    {"the bridge", "give it a rate of {} or lower",
                                     "a shorter delay", "give a smaller queue"});
        !problem.empty()) {
      throw UsageError(problem);
    }
  }
  if (check_only_) {
    std::uint64_t total = 0;
    std::cout << fmt::format("longhaul bridge: valid (nothing was touched), {} lane{}{}\n",
                             request.lanes.size(), request.lanes.size() == 1 ? "" : "s",
                             netns_.empty() ? "" : " in namespace " + netns_);
    for (std::size_t l = 0; l < request.lanes.size(); ++l) {
      const auto& lane = request.lanes[l];
      total += lab::link_buffer_bytes(links[l], request.assumed_rate_bps);
      std::cout << fmt::format(
          "  lane {} <-> {}\n    a -> b: {}\n    b -> a: {}\n    {}\n", lane.a, lane.b,
          link::describe(links[l].up), link::describe(links[l].down),
          lab::buffer_plan(links[l], request.assumed_rate_bps, "a -> b", "b -> a"));
    }
    std::cout << "  " << lab::memory_plan(total, available) << "\n";
    return 0;
  }
  request.detailed_stats = stats_;
  request.quiet = quiet_;
  request.json_path = json_;
  return lab::bridge_session(request);
}

}  // namespace longhaul::cli
