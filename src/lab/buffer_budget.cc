#include "lab/buffer_budget.hh"

#include <fmt/format.h>
#include <algorithm>

#include "core/units.hh"
#include "io/text_file.hh"

namespace longhaul::lab {

std::uint64_t link_buffer_bytes(const LinkSpec& link, std::uint64_t assumed_rate_bps) {
  return plan_buffers(link.up, assumed_rate_bps).arena_bytes +
         plan_buffers(link.down, assumed_rate_bps).arena_bytes;
}

std::string buffers_do_not_fit(std::span<const BufferedLink> links, std::uint64_t assumed_rate_bps,
                               std::uint64_t available_bytes, const BufferAdvice& advice) {
  std::uint64_t total = 0;
  // Name the link that needs the most: it is the one to change.
  const BufferedLink* worst = nullptr;
  std::uint64_t worst_bytes = 0;
  for (const auto& entry : links) {
    const std::uint64_t bytes = link_buffer_bytes(*entry.link, assumed_rate_bps);
    total += bytes;
    if (worst == nullptr || bytes > worst_bytes) {
      worst = &entry;
      worst_bytes = bytes;
    }
  }
  if (worst == nullptr || total <= available_bytes) return {};
  const LinkSpec& link = *worst->link;
  const core::Nanos delay = std::max(link.up.max_delay(), link.down.max_delay());
  const double seconds = std::max(static_cast<double>(delay.count()) / 1e9, 1e-3);
  // What fits if this link's share shrinks by the overshoot (1.6 x rate x delay per direction).
  const double spare = static_cast<double>(available_bytes) -
                       static_cast<double>(total - worst_bytes) - 2.0 * 16 * 1024 * 1024;
  const double fitting_bps = std::max(spare, 0.0) / 2.0 / 1.6 / seconds * 8.0;
  const std::uint64_t rate = std::max(link.up.max_rate_bps(), link.down.max_rate_bps());
  const double in_flight =
      2.0 * 1.6 * seconds * static_cast<double>(rate != 0 ? rate : assumed_rate_bps) / 8.0;
  if (in_flight < static_cast<double>(worst_bytes) / 2) {
    // The queue, not rate x delay, is what does not fit: a lower rate would not help.
    return fmt::format(
        "{} cannot be buffered: its queues hold up to {}, and {} needs {} of packet buffer but "
        "this machine has {} available; {}",
        worst->subject, core::format_bytes(static_cast<double>(worst_bytes)), advice.whole,
        core::format_bytes(static_cast<double>(total)),
        core::format_bytes(static_cast<double>(available_bytes)), advice.smaller_queue);
  }
  return fmt::format(
      "{} cannot be buffered: at {} and {} one way it holds up to {} in flight, and {} needs {} "
      "of packet buffer but this machine has {} available; {} (about {} fits) or {}",
      worst->subject,
      rate != 0
          ? core::format_rate(static_cast<double>(rate))
          : "no rate (sized for " + core::format_rate(static_cast<double>(assumed_rate_bps)) + ")",
      core::format_duration(delay), core::format_bytes(static_cast<double>(worst_bytes)),
      advice.whole, core::format_bytes(static_cast<double>(total)),
      core::format_bytes(static_cast<double>(available_bytes)), advice.lower_rate,
      core::format_rate(fitting_bps), advice.less_delay);
}

std::string buffer_plan(const LinkSpec& link, std::uint64_t assumed_rate_bps, const std::string& up,
                        const std::string& down) {
  return fmt::format(
      "buffers: {} {}, {} {}", up,
      core::format_bytes(static_cast<double>(plan_buffers(link.up, assumed_rate_bps).arena_bytes)),
      down,
      core::format_bytes(
          static_cast<double>(plan_buffers(link.down, assumed_rate_bps).arena_bytes)));
}

std::string memory_plan(std::uint64_t total_bytes, std::uint64_t available_bytes) {
  return fmt::format(
      "{} of packet buffer in all; {}", core::format_bytes(static_cast<double>(total_bytes)),
      available_bytes == 0 ? std::string("available memory unknown (no MemAvailable)")
                           : fmt::format("this machine has {} available",
                                         core::format_bytes(static_cast<double>(available_bytes))));
}

std::uint64_t available_memory_bytes() {
  try {
    const std::string meminfo = io::read_text_file("/proc/meminfo").value_or("");
    const auto at = meminfo.find("MemAvailable:");
    if (at == std::string::npos) return 0;
    return std::stoull(meminfo.substr(at + 13)) * 1024;
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace longhaul::lab
