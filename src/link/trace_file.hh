#pragma once
// Capacity traces: the bottleneck rate over time, from a file, as a schedule
// of rate changes (core/schedule.hh) that the pipeline applies exactly.
//
// Two formats, told apart by the first line that is not blank or a comment:
//
// Mahimahi's link traces, read unchanged: one integer per line, a time in
// milliseconds from the start, each line one opportunity to deliver a
// 1500-byte packet; a time repeated n times is n opportunities in that
// millisecond. Mahimahi delivers each opportunity at its instant and loops
// the trace at its last timestamp. longhaul turns the opportunities between
// two successive distinct timestamps into a constant rate over that interval
// (n opportunities x 1538 wire bytes over the interval; 1538 = a 1500-byte IP
// packet in its Ethernet frame plus the per-packet overhead, so one
// opportunity carries one full-size packet as in Mahimahi). The capacity
// delivered by each timestamp is Mahimahi's exactly; in between it accrues
// smoothly instead of in steps, so a packet may leave up to one gap between
// timestamps earlier than under Mahimahi. Opportunities at time 0 fall on the
// loop point and count in the last interval of each cycle.
//
// Native: "T_US RATE" lines, T_US an integer time in microseconds (the first
// 0, then increasing), RATE with its unit (100mbit, 9.5gbit; above 0): the
// rate from T_US until the next line. An optional last line "T_US end" ends
// the trace: it loops there. Without it the last rate holds for ever.
//
// Looping is the default (as in Mahimahi); loop = false plays the trace once
// and keeps its last rate afterwards. `#` starts a comment in both formats.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/schedule.hh"
#include "core/units.hh"

namespace longhaul::link {

/// Wire bytes one Mahimahi delivery opportunity carries with the given per-packet overhead.
constexpr std::uint64_t mahimahi_opportunity_wire_bytes(std::uint32_t overhead_bytes) {
  return 1500 + 14 + overhead_bytes;
}

/// Parses a trace's text; errors read "NAME:LINE: problem; what is expected".
core::Parsed<core::ScheduleConfig> parse_capacity_trace(std::string_view text,
                                                        std::string_view name, bool loop,
                                                        std::uint32_t overhead_bytes);

/// Reads and parses a trace file.
core::Parsed<core::ScheduleConfig> load_capacity_trace(const std::string& path, bool loop,
                                                       std::uint32_t overhead_bytes);

}  // namespace longhaul::link
