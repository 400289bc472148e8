#include "lab/buffer_budget.hh"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <utility>

#include "core/units.hh"
#include "io/text_file.hh"

namespace longhaul::lab {

std::uint64_t link_buffer_bytes(const link::LinkSpec& link, std::uint64_t assumed_rate_bps) {
  return link::plan_buffers(link.up, assumed_rate_bps).arena_bytes +
         link::plan_buffers(link.down, assumed_rate_bps).arena_bytes;
}

namespace {

/// The buffer bytes `link` needs with both directions at `rate_bps`, sized exactly as the
/// engine will size them (link::plan_buffers), with a default queue following the rate.
std::uint64_t link_bytes_at(const link::LinkSpec& link, std::uint64_t rate_bps) {
  const core::Nanos rtt = link.up.delay + link.down.delay;
  std::uint64_t bytes = 0;
  for (const core::DirectionConfig* original : {&link.up, &link.down}) {
    core::DirectionConfig config = *original;
    const core::QueueBound defaulted = link::default_queue(config.rate_bps, rtt);
    const bool queue_was_default = config.queue.max_packets == defaulted.max_packets &&
                                   config.queue.max_bytes == defaulted.max_bytes &&
                                   config.queue.max_delay == defaulted.max_delay;
    config.rate_bps = rate_bps;
    if (queue_was_default) config.queue = link::default_queue(rate_bps, rtt);
    bytes += link::plan_buffers(config, rate_bps).arena_bytes;
  }
  return bytes;
}

}  // namespace

std::uint64_t fitting_rate_bps(const link::LinkSpec& link, std::uint64_t budget_bytes) {
  const auto fits = [&](std::uint64_t bps) { return link_bytes_at(link, bps) <= budget_bytes; };
  // The need grows with the rate: bisect for the fastest rate that fits, in kbit/s.
  if (!fits(1000)) return 0;
  std::uint64_t low = 1;
  std::uint64_t high = 100'000'000'000;  // 100 Tbit/s in kbit/s
  while (high - low > 1) {
    const std::uint64_t mid = low + (high - low) / 2;
    (fits(mid * 1000) ? low : high) = mid;
  }
  // Two significant digits, rounded down, so the value as typed fits too.
  std::uint64_t bps = low * 1000;
  std::uint64_t scale = 1;
  while (bps / scale >= 100) scale *= 10;
  bps = bps / scale * scale;
  return fits(bps) ? bps : 0;
}

std::string rate_as_typed(std::uint64_t bps) {
  static constexpr std::array<std::pair<std::uint64_t, const char*>, 4> kUnits{
      {{1'000'000'000'000, "tbit"}, {1'000'000'000, "gbit"}, {1'000'000, "mbit"}, {1'000, "kbit"}}};
  for (const auto& [scale, unit] : kUnits) {
    if (bps >= scale && bps % scale == 0) return fmt::format("{}{}", bps / scale, unit);
  }
  return fmt::format("{}bit", bps);
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
  const link::LinkSpec& link = *worst->link;
  const core::Nanos delay = std::max(link.up.max_delay(), link.down.max_delay());
  const std::uint64_t others = total - worst_bytes;
  const std::uint64_t fitting =
      others < available_bytes ? fitting_rate_bps(link, available_bytes - others) : 0;
  const std::uint64_t rate = std::max(link.up.max_rate_bps(), link.down.max_rate_bps());
  const bool lower_rate_fits = fitting != 0 && (rate == 0 || fitting < rate);
  const double seconds = static_cast<double>(delay.count()) / 1e9;
  const double in_flight =
      2.0 * 1.6 * seconds * static_cast<double>(rate != 0 ? rate : assumed_rate_bps) / 8.0;
  if (!lower_rate_fits && in_flight < static_cast<double>(worst_bytes) / 2) {
    // The queue, not rate x delay, is what does not fit: a lower rate would not help.
    return fmt::format(
        "{} cannot be buffered: its queues hold up to {}, and {} needs {} of packet buffer but "
        "this machine has {} available; {}: at most {} of buffers fits",
        worst->subject, core::format_bytes(static_cast<double>(worst_bytes)), advice.whole,
        core::format_bytes(static_cast<double>(total)),
        core::format_bytes(static_cast<double>(available_bytes)), advice.smaller_queue,
        core::format_bytes(
            static_cast<double>(others < available_bytes ? available_bytes - others : 0)));
  }
  return fmt::format(
      "{} cannot be buffered: at {} and {} one way it holds up to {} in flight, and {} needs {} "
      "of packet buffer but this machine has {} available; {}",
      worst->subject,
      rate != 0
          ? core::format_rate(static_cast<double>(rate))
          : "no rate (sized for " + core::format_rate(static_cast<double>(assumed_rate_bps)) + ")",
      core::format_duration(delay), core::format_bytes(static_cast<double>(worst_bytes)),
      advice.whole, core::format_bytes(static_cast<double>(total)),
      core::format_bytes(static_cast<double>(available_bytes)),
      fitting != 0
          ? fmt::format("{} (the fastest that fits) or {}",
                        fmt::format(fmt::runtime(advice.lower_rate), rate_as_typed(fitting)),
                        advice.less_delay)
          : "use " + advice.less_delay);
}

std::string buffer_plan(const link::LinkSpec& link, std::uint64_t assumed_rate_bps,
                        const std::string& up, const std::string& down) {
  return fmt::format("buffers: {} {}, {} {}", up,
                     core::format_bytes(static_cast<double>(
                         link::plan_buffers(link.up, assumed_rate_bps).arena_bytes)),
                     down,
                     core::format_bytes(static_cast<double>(
                         link::plan_buffers(link.down, assumed_rate_bps).arena_bytes)));
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
