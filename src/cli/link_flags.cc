#include "cli/link_flags.hh"

#include <cstdint>
#include <optional>

namespace longhaul::cli {

namespace {

/// Replaces `from` with `to` throughout `text`.
std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

/// A text-valued flag. Help texts are written for `run` ("command -> remote"); other commands
/// get their own words for the two directions.
void text_option(CLI::App* app, const DirectionWords& words, const char* name,
                 std::optional<std::string>& target, const char* help) {
  std::string text = replace_all(help, "command -> remote", words.up);
  text = replace_all(std::move(text), "remote -> command", words.down);
  app->add_option_function<std::string>(
         name, [&target](const std::string& value) { target = value; }, text)
      ->type_name("VALUE");
}

}  // namespace

void add_link_flags(CLI::App* app, lab::LinkFlags& flags, const DirectionWords& words) {
  auto* c = app;
  text_option(c, words, "--rtt", flags.rtt,
              "Round-trip delay; half is applied each way (e.g. 80ms)");
  text_option(c, words, "--delay", flags.delay, "One-way delay in each direction (e.g. 40ms)");
  text_option(c, words, "--delay-up", flags.delay_up, "One-way delay command -> remote");
  text_option(c, words, "--delay-down", flags.delay_down, "One-way delay remote -> command");
  text_option(c, words, "--rate", flags.rate,
              "Bottleneck rate each way (e.g. 500mbit, 10gbit); default unlimited");
  text_option(c, words, "--rate-up", flags.rate_up, "Rate command -> remote");
  text_option(c, words, "--rate-down", flags.rate_down, "Rate remote -> command");
  text_option(c, words, "--loss", flags.loss,
              "Independent random loss per packet, each way (e.g. 0.1%)");
  text_option(c, words, "--loss-up", flags.loss_up, "Loss command -> remote");
  text_option(c, words, "--loss-down", flags.loss_down, "Loss remote -> command");
  text_option(c, words, "--queue", flags.queue,
              "Bottleneck queue limit: packets (1000p), bytes (4MB) or time (50ms); "
              "default one bandwidth-delay product of the round trip");
  text_option(c, words, "--queue-up", flags.queue_up, "Queue limit command -> remote");
  text_option(c, words, "--queue-down", flags.queue_down, "Queue limit remote -> command");
  text_option(c, words, "--overhead", flags.overhead,
              "Per-packet link-layer overhead counted by the rate (default 24B: Ethernet "
              "preamble, FCS, inter-frame gap)");
  text_option(c, words, "--qdisc", flags.qdisc,
              "Queue discipline at the bottleneck: droptail (default), drophead, red, codel "
              "(RFC 8289, target 5ms interval 100ms) or pie (RFC 8033, target 15ms); needs --rate");
  c->add_flag("--ecn", flags.ecn,
              "With --qdisc red|codel|pie: mark ECN-capable packets CE instead of dropping them");
  text_option(c, words, "--cell", flags.cell,
              "Cell framing counted by the rate, SIZE/PAYLOAD bytes (53/48 = ATM): each packet "
              "plus --overhead is carried in whole cells");
  text_option(c, words, "--jitter", flags.jitter,
              "Delay variation, each way (normal: standard deviation; uniform: half-width)");
  text_option(c, words, "--jitter-up", flags.jitter_up, "Jitter command -> remote");
  text_option(c, words, "--jitter-down", flags.jitter_down, "Jitter remote -> command");
  text_option(c, words, "--distribution", flags.distribution,
              "Jitter distribution: uniform (default), normal, pareto, paretonormal, or a netem "
              ".dist table");
  text_option(c, words, "--jitter-mode", flags.jitter_mode,
              "order (default: packets keep their order, like a fibre path) or reorder (netem's)");
  text_option(c, words, "--correlation-model", flags.correlation_model,
              "preserving (default: exact configured distributions) or netem (netem's arithmetic)");
  text_option(c, words, "--duplicate", flags.duplicate,
              "Duplicate each packet with this probability (e.g. 1%)");
  text_option(c, words, "--corrupt", flags.corrupt,
              "Flip one payload bit in a packet with this probability (e.g. 0.1%)");
  text_option(c, words, "--ber", flags.ber, "Bit error rate of payload bits, e.g. 1e-9");
  c->add_option("--outage", flags.outages,
                "Link down in both directions from START for LENGTH, e.g. 5s+2s (repeatable)")
      ->type_name("START+LENGTH");
  text_option(c, words, "--netem", flags.netem,
              "A tc-netem parameter line applied to both directions, e.g. \"delay 100ms 10ms 25% "
              "distribution normal loss 0.1%\" (tc's units)");
  text_option(c, words, "--netem-up", flags.netem_up, "A tc-netem line for command -> remote");
  text_option(c, words, "--netem-down", flags.netem_down, "A tc-netem line for remote -> command");
  c->add_option("--at", flags.at,
                "At TIME after the link comes up, change the rate, delay or loss: "
                "TIME:KEY=VALUE[,...], keys rate/delay/loss/rtt or rate-up, delay-down...; e.g. "
                "10s:rate=100mbit,delay-up=40ms (repeatable)")
      ->type_name("TIME:CHANGES");
  text_option(c, words, "--schedule", flags.schedule,
              "Schedule file: lines \"TIME [up|down] KEY VALUE ...\" (e.g. \"20s up delay "
              "40ms\") and an optional \"repeat PERIOD\"");
  text_option(c, words, "--schedule-repeat", flags.schedule_repeat,
              "Repeat the --at/--schedule steps every PERIOD (on/off patterns), e.g. 10s");
  text_option(c, words, "--trace-up", flags.trace_up,
              "Capacity trace command -> remote: a Mahimahi trace (ms per 1500-byte delivery "
              "opportunity) or native \"T_US RATE\" lines; replaces --rate");
  text_option(c, words, "--trace-down", flags.trace_down, "Capacity trace remote -> command");
  c->add_flag("--trace-once", flags.trace_once,
              "Play the traces once and keep their last rate (default: loop, as Mahimahi)");
  text_option(c, words, "--mtu", flags.mtu,
              "Largest IP packet each way, in bytes (e.g. 1400); larger packets are dropped and "
              "counted as mtu");
  text_option(c, words, "--mtu-up", flags.mtu_up, "MTU command -> remote");
  text_option(c, words, "--mtu-down", flags.mtu_down, "MTU remote -> command");
  c->add_flag("--mtu-icmp", flags.mtu_icmp,
              "Answer packets over the MTU with ICMP fragmentation-needed (IPv4 with DF) / "
              "ICMPv6 packet-too-big, so path MTU discovery works");
  c->add_option_function<std::uint64_t>(
       "--seed", [&flags](std::uint64_t seed) { flags.seed = seed; },
       "Seed of the random models; printed in every run so it can be replayed")
      ->type_name("N");
}

}  // namespace longhaul::cli
