#include <fmt/format.h>

#include <iostream>
#include <random>

#include "cli/commands.hh"
#include "cli/link_flags.hh"
#include "io/process.hh"
#include "io/text_file.hh"
#include "io/xsk_socket.hh"
#include "lab/buffer_budget.hh"
#include "lab/command_placeholders.hh"
#include "lab/run_session.hh"

namespace longhaul::cli {

RunCommand::RunCommand(CLI::App& app) {
  command_ = app.add_subcommand("run", "Run a command behind an emulated WAN link to this host");
  command_->footer(
      "Directions: \"up\" is from the command toward the remote side (this host), \"down\" the\n"
      "way back. --rtt X applies X/2 one way in each direction; --delay X applies X one way in\n"
      "each direction. With no link flags the link is a clean pass-through.\n\n"
      "The command runs in its own network namespace, as the invoking user under sudo. The\n"
      "host's addresses on the link are written {remote} (IPv4) and {remote6} (IPv6) in the\n"
      "command's arguments, which longhaul replaces (your shell cannot: \"$LONGHAUL_REMOTE\" on\n"
      "longhaul's command line expands to nothing before the link exists); inside, they are in\n"
      "$LONGHAUL_REMOTE and $LONGHAUL_REMOTE6, the command's own in $LONGHAUL_LOCAL and\n"
      "$LONGHAUL_LOCAL6 ({local}, {local6}).\n\n"
      "Units: durations ns/us/ms/s (80ms, 1.5s); rates bit/kbit/mbit/gbit/tbit (500mbit);\n"
      "loss in percent (0.1%); sizes B/kB/MB/KiB/MiB (64KiB); packets as 1000p.\n"
      "--netem lines use tc's own units instead (a bare time is microseconds).\n\n"
      "Exit status: the command's own, or 128+N if it (or longhaul) was killed by signal N;\n"
      "2 bad usage, 3 not permitted (needs root), 4 the link could not be built,\n"
      "126 command not executable, 127 command not found.\n\n"
      "Example: longhaul run --rtt 80ms --rate 500mbit --loss 0.1% -- iperf3 -c {remote}\n"
      "         longhaul run --rtt 80ms -- sh -c 'ping -c 3 \"$LONGHAUL_REMOTE\"'\n"
      "See docs/run.md.");
  auto* c = command_;
  // The link flags are shared with `longhaul bridge`: declare new ones in cli/link_flags.cc.
  add_link_flags(c, flags_);
  c->add_flag("--stats", stats_, "Print detailed per-direction counters at the end");
  c->add_flag("-q,--quiet", quiet_, "Print nothing of our own (no header, no summary)");
  c->add_option("--json", json_,
                "Write the run's configuration and counters as JSON to FILE (- = stdout)")
      ->type_name("FILE");
  c->add_flag("--strict", strict_,
              "Exit with status 5 instead of 0 when the fidelity verdict is degraded (the "
              "machine could not keep the link as configured)");
  add_engine_flags(c, engine_);
  add_api_flags(c, api_);
  c->add_flag("--check", check_only_,
              "Only check the flags, the command and the memory, print the plan and exit (0: "
              "valid, 2: not); creates nothing and needs no root");
  c->add_option("command", argv_, "The command and its arguments, after --; default $SHELL");
  c->positionals_at_end();
}

int RunCommand::execute() {
  std::random_device entropy;
  const std::uint64_t random_seed = (std::uint64_t{entropy()} << 32) | entropy();
  auto link = link::resolve_link(flags_, random_seed);
  if (!link) throw UsageError(link.error);
  const core::Nanos spin = spin_window(engine_);
  lab::RunRequest request;
  request.port = port_kind(engine_);
  if (request.port == lab::PortKind::xdp) {
    if (const auto mtu = lab::mtu_beyond_xdp(*link)) {
      throw UsageError(fmt::format(
          "--mtu {}: --port xdp carries IP packets of at most {} bytes (a veth's limit with "
          "XDP attached); use a smaller --mtu or --port packet",
          *mtu, io::kXdpMaxMtu));
    }
  }
  // Everything that can be checked is checked before anything is built: the command, the
  // output file, the CPUs, the memory for the buffers.
  if (!argv_.empty()) {
    if (argv_.front().empty()) {
      throw UsageError(
          "the command after -- is an empty string: give a program to run (or nothing after "
          "-- for your shell)");
    }
    io::check_command_exists(argv_.front());
  }
  if (json_) {
    if (const std::string problem = io::output_path_problem(*json_); !problem.empty()) {
      throw UsageError("--json " + problem);
    }
  }
  request.api_tcp = api_endpoints(api_);
  request.placement = thread_placement(engine_);
  const std::uint64_t available = lab::available_memory_bytes();
  if (available != 0) {
    const lab::BufferedLink links[] = {{"the link", &*link}};
    if (const std::string problem = lab::buffers_do_not_fit(
            links, request.assumed_rate_bps, available,
            {"the link", "give --rate {} or lower", "a shorter --delay", "give a smaller --queue"});
        !problem.empty()) {
      throw UsageError(problem);
    }
  }
  if (check_only_) {
    std::string command;
    for (const auto& word : argv_) command += (command.empty() ? "" : " ") + word;
    std::cout << fmt::format(
        "longhaul run: valid (nothing was created)\n  up   (command -> remote): {}\n  down "
        "(remote -> command): {}\n  {}\n  {}\n  command: {}\n",
        link::describe(link->up), link::describe(link->down),
        lab::buffer_plan(*link, request.assumed_rate_bps),
        lab::memory_plan(lab::link_buffer_bytes(*link, request.assumed_rate_bps), available),
        command.empty() ? "your $SHELL" : command);
    return 0;
  }
  request.link = *link;
  request.strict = strict_;  // --strict: exit 5 for a degraded fidelity verdict (docs/run.md)
  request.command = argv_;
  if (const auto hint = lab::empty_argument_hint(argv_); hint && !quiet_)
    std::cerr << *hint << '\n';
  request.detailed_stats = stats_;
  request.quiet = quiet_;
  request.json_path = json_;
  request.spin = spin;
  return lab::run_session(request);
}

}  // namespace longhaul::cli
