#pragma once
// Whether the packet buffers a run, a lab or a bridge plans fit in this machine's memory: one
// check for all three, made before anything is created (an arena that does not fit would fail
// as std::bad_alloc, or make the command's fork fail, after the links were built).
#include <cstdint>
#include <span>
#include <string>

#include "link/link_options.hh"

namespace longhaul::lab {

/// One link (a lane, or run's or bridge's link) whose two directions need buffers.
struct BufferedLink {
  std::string subject;  ///< how the message names it: "lane 'japan'", "the link"
  const link::LinkSpec* link = nullptr;
};

/// How the message words its advice.
struct BufferAdvice {
  std::string whole;       ///< "the whole lab", "the link"
  std::string lower_rate;  ///< with {} for the rate: "set rate = \"{}\" or lower on it"
  std::string less_delay;  ///< "a shorter delay", "a shorter --delay" (also alone: "give ...")
  std::string smaller_queue = "give a smaller queue";  ///< when the queue is most of it
};

/// Bytes of packet buffer `link` needs (both directions; `assumed_rate_bps` when it has no rate).
std::uint64_t link_buffer_bytes(const link::LinkSpec& link, std::uint64_t assumed_rate_bps);

/// The fastest rate (bit/s, two significant digits, rounded down) at which `link`, at that rate
/// in both directions, needs at most `budget_bytes`, sized as link::plan_buffers sizes it; 0 if
/// none.
std::uint64_t fitting_rate_bps(const link::LinkSpec& link, std::uint64_t budget_bytes);

/// A rate as a user types it: "270mbit", "27gbit".
std::string rate_as_typed(std::uint64_t bps);

/// Empty when the links' buffers fit in `available_bytes`; otherwise a sentence naming the link
/// that needs the most, what it holds in flight, the total, what is available and the rate that
/// would fit.
std::string buffers_do_not_fit(std::span<const BufferedLink> links, std::uint64_t assumed_rate_bps,
                               std::uint64_t available_bytes, const BufferAdvice& advice);

/// "buffers: up 1.3 GB, down 1.3 GB": what `link`'s directions reserve, for --check plans.
/// `up`/`down` name the directions ("up", "a -> b").
std::string buffer_plan(const link::LinkSpec& link, std::uint64_t assumed_rate_bps,
                        const std::string& up = "up", const std::string& down = "down");

/// "2.6 GB of packet buffer in all; this machine has 22 GB available" (or "... available memory
/// unknown" when /proc/meminfo does not say).
std::string memory_plan(std::uint64_t total_bytes, std::uint64_t available_bytes);

/// Bytes the kernel says it can give without swapping (MemAvailable), 0 if unknown.
std::uint64_t available_memory_bytes();

}  // namespace longhaul::lab
