#include "cli/engine_flags.hh"

#include <sched.h>

#include <fmt/format.h>
#include <string>

#include "cli/commands.hh"
#include "core/cpu_list.hh"
#include "core/units.hh"

namespace longhaul::cli {

void add_engine_flags(CLI::App* app, EngineFlags& flags) {
  app->add_option("--spin", flags.spin,
                  "Busy-poll this long before each release for timing accuracy (default 200us; 0 "
                  "saves CPU)")
      ->type_name("DURATION");
  app->add_option("--cpus", flags.cpus,
                  "Pin the engine's threads (one per lane direction) to these CPUs, round robin "
                  "(e.g. 2,3 or 2-5); keep them off the CPUs your traffic runs on")
      ->type_name("LIST");
  app->add_flag("--realtime", flags.realtime,
                "Run the engine's threads SCHED_FIFO (priority 50): fewer late releases when "
                "other work competes for the same CPUs");
  app->add_option("--port", flags.port,
                  "Socket type of the emulator's ports: packet (AF_PACKET, default; carries TSO "
                  "super-frames) or xdp (AF_XDP: more packets per second for small frames, but "
                  "no super-frames, senders must fill in their own checksums, MTU at most 3506)")
      ->type_name("packet|xdp")
      ->check(CLI::IsMember({"packet", "xdp"}));
}

core::Nanos spin_window(const EngineFlags& flags) {
  const auto spin = core::parse_duration(flags.spin);
  if (!spin) throw UsageError("--spin: " + spin.error);
  return *spin;
}

engine::ThreadPlacement thread_placement(const EngineFlags& flags) {
  engine::ThreadPlacement placement;
  if (flags.cpus) {
    auto cpus = core::parse_cpu_list(*flags.cpus);
    if (!cpus) throw UsageError("--cpus: " + cpus.error);
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (::sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
      std::string usable;
      for (std::size_t cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &allowed)) usable += (usable.empty() ? "" : ",") + std::to_string(cpu);
      }
      for (const int cpu : *cpus) {
        if (cpu >= CPU_SETSIZE || !CPU_ISSET(static_cast<std::size_t>(cpu), &allowed)) {
          throw UsageError(fmt::format(
              "--cpus {}: CPU {} is not one this process can run on (usable: {}); give CPUs "
              "from that list",
              *flags.cpus, cpu, usable));
        }
      }
    }
    placement.cpus = *cpus;
  }
  if (flags.realtime) placement.realtime_priority = 50;
  return placement;
}

lab::PortKind port_kind(const EngineFlags& flags) {
  return flags.port == "xdp" ? lab::PortKind::xdp : lab::PortKind::packet;
}

}  // namespace longhaul::cli
