#include <fmt/format.h>

#include <iostream>
#include <random>

#include "cli/commands.hh"
#include "lab/run_session.hh"

namespace longhaul::cli {

namespace {
void text_option(CLI::App* app, const char* name, std::optional<std::string>& target,
                 const char* help) {
  app->add_option_function<std::string>(
         name, [&target](const std::string& value) { target = value; }, help)
      ->type_name("VALUE");
}
}  // namespace

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
  text_option(c, "--rtt", flags_.rtt, "Round-trip delay; half is applied each way (e.g. 80ms)");
  text_option(c, "--delay", flags_.delay, "One-way delay in each direction (e.g. 40ms)");
  text_option(c, "--delay-up", flags_.delay_up, "One-way delay command -> remote");
  text_option(c, "--delay-down", flags_.delay_down, "One-way delay remote -> command");
  text_option(c, "--rate", flags_.rate,
              "Bottleneck rate each way (e.g. 500mbit, 10gbit); default unlimited");
  text_option(c, "--rate-up", flags_.rate_up, "Rate command -> remote");
  text_option(c, "--rate-down", flags_.rate_down, "Rate remote -> command");
  text_option(c, "--loss", flags_.loss, "Independent random loss per packet, each way (e.g. 0.1%)");
  text_option(c, "--loss-up", flags_.loss_up, "Loss command -> remote");
  text_option(c, "--loss-down", flags_.loss_down, "Loss remote -> command");
  text_option(c, "--queue", flags_.queue,
              "Bottleneck queue limit: packets (1000p), bytes (4MB) or time (50ms); "
              "default one bandwidth-delay product of the round trip");
  text_option(c, "--queue-up", flags_.queue_up, "Queue limit command -> remote");
  text_option(c, "--queue-down", flags_.queue_down, "Queue limit remote -> command");
  text_option(c, "--overhead", flags_.overhead,
              "Per-packet link-layer overhead counted by the rate (default 24B: Ethernet "
              "preamble, FCS, inter-frame gap)");
  text_option(c, "--qdisc", flags_.qdisc,
              "Queue discipline at the bottleneck: droptail (default), drophead, red, codel "
              "(RFC 8289, target 5ms interval 100ms) or pie (RFC 8033, target 15ms); needs --rate");
  c->add_flag("--ecn", flags_.ecn,
              "With --qdisc red|codel|pie: mark ECN-capable packets CE instead of dropping them");
  text_option(c, "--cell", flags_.cell,
              "Cell framing counted by the rate, SIZE/PAYLOAD bytes (53/48 = ATM): each packet "
              "plus --overhead is carried in whole cells");
  text_option(c, "--jitter", flags_.jitter,
              "Delay variation, each way (normal: standard deviation; uniform: half-width)");
  text_option(c, "--jitter-up", flags_.jitter_up, "Jitter command -> remote");
  text_option(c, "--jitter-down", flags_.jitter_down, "Jitter remote -> command");
  text_option(c, "--distribution", flags_.distribution,
              "Jitter distribution: uniform (default), normal, pareto, paretonormal, or a netem "
              ".dist table");
  text_option(c, "--jitter-mode", flags_.jitter_mode,
              "order (default: packets keep their order, like a fibre path) or reorder (netem's)");
  text_option(c, "--correlation-model", flags_.correlation_model,
              "preserving (default: exact configured distributions) or netem (netem's arithmetic)");
  text_option(c, "--duplicate", flags_.duplicate,
              "Duplicate each packet with this probability (e.g. 1%)");
  text_option(c, "--corrupt", flags_.corrupt,
              "Flip one payload bit in a packet with this probability (e.g. 0.1%)");
  text_option(c, "--ber", flags_.ber, "Bit error rate of payload bits, e.g. 1e-9");
  c->add_option("--outage", flags_.outages,
                "Link down in both directions from START for LENGTH, e.g. 5s+2s (repeatable)")
      ->type_name("START+LENGTH");
  text_option(c, "--netem", flags_.netem,
              "A tc-netem parameter line applied to both directions, e.g. \"delay 100ms 10ms 25% "
              "distribution normal loss 0.1%\" (tc's units)");
  text_option(c, "--netem-up", flags_.netem_up, "A tc-netem line for command -> remote");
  text_option(c, "--netem-down", flags_.netem_down, "A tc-netem line for remote -> command");
  c->add_option_function<std::uint64_t>(
       "--seed", [this](std::uint64_t seed) { flags_.seed = seed; },
       "Seed of the random models; printed in every run so it can be replayed")
      ->type_name("N");
  c->add_flag("--stats", stats_, "Print detailed per-direction counters at the end");
  c->add_flag("-q,--quiet", quiet_, "Print nothing of our own (no header, no summary)");
  c->add_option("--json", json_,
                "Write the run's configuration and counters as JSON to FILE (- = stdout)")
      ->type_name("FILE");
  c->add_option("--spin", spin_,
                "Busy-poll this long before each release for timing accuracy (default 200us; 0 "
                "saves CPU)")
      ->type_name("DURATION");
  c->add_option("command", argv_, "The command and its arguments, after --; default $SHELL");
  c->positionals_at_end();
}

int RunCommand::execute() {
  std::random_device entropy;
  const std::uint64_t random_seed = (std::uint64_t{entropy()} << 32) | entropy();
  auto link = lab::resolve_link(flags_, random_seed);
  if (!link) throw UsageError(link.error);
  auto spin = core::parse_duration(spin_);
  if (!spin) throw UsageError("--spin: " + spin.error);
  lab::RunRequest request;
  request.link = *link;
  request.command = argv_;
  request.detailed_stats = stats_;
  request.quiet = quiet_;
  if (!json_.empty()) request.json_path = json_;
  request.spin = *spin;
  return lab::run_session(request);
}

}  // namespace longhaul::cli
