#include <fmt/format.h>

#include <iostream>
#include <random>

#include "cli/commands.hh"
#include "cli/link_flags.hh"
#include "io/xsk_socket.hh"
#include "lab/run_session.hh"

namespace longhaul::cli {

RunCommand::RunCommand(CLI::App& app) {
  command_ = app.add_subcommand("run", "Run a command behind an emulated WAN link to this host");
  command_->footer(
      "Directions: \"up\" is from the command toward the remote side (this host), \"down\" the\n"
      "way back. --rtt X applies X/2 one way in each direction; --delay X applies X one way in\n"
      "each direction. With no link flags the link is a clean pass-through.\n\n"
      "The command runs in its own network namespace, as the invoking user under sudo. The\n"
      "host is reachable at $LONGHAUL_REMOTE (IPv4) and $LONGHAUL_REMOTE6 (IPv6); the command's\n"
      "own addresses are in $LONGHAUL_LOCAL and $LONGHAUL_LOCAL6.\n\n"
      "Units: durations ns/us/ms/s (80ms, 1.5s); rates bit/kbit/mbit/gbit/tbit (500mbit);\n"
      "loss in percent (0.1%); sizes B/kB/MB/KiB/MiB (64KiB); packets as 1000p.\n"
      "--netem lines use tc's own units instead (a bare time is microseconds).\n\n"
      "Exit status: the command's own, or 128+N if it (or longhaul) was killed by signal N;\n"
      "2 bad usage, 3 not permitted (needs root), 4 the link could not be built,\n"
      "126 command not executable, 127 command not found.\n\n"
      "Example: longhaul run --rtt 80ms --rate 500mbit --loss 0.1% -- iperf3 -c "
      "\"$LONGHAUL_REMOTE\"\n"
      "See docs/run.md.");
  auto* c = command_;
  // The link flags are shared with `longhaul bridge`: declare new ones in cli/link_flags.cc.
  add_link_flags(c, flags_);
  c->add_flag("--stats", stats_, "Print detailed per-direction counters at the end");
  c->add_flag("-q,--quiet", quiet_, "Print nothing of our own (no header, no summary)");
  c->add_option("--json", json_,
                "Write the run's configuration and counters as JSON to FILE (- = stdout)")
      ->type_name("FILE");
  add_engine_flags(c, engine_);
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
  request.link = *link;
  request.command = argv_;
  request.detailed_stats = stats_;
  request.quiet = quiet_;
  if (!json_.empty()) request.json_path = json_;
  request.spin = spin;
  request.placement = thread_placement(engine_);
  return lab::run_session(request);
}

}  // namespace longhaul::cli
