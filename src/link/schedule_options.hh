#pragma once
// Schedules as the user writes them: `--at TIME:KEY=VALUE[,KEY=VALUE...]`
// flags and schedule files (docs/impairments.md, "Schedules"), turned into
// one core::ScheduleConfig per direction.
//
// Keys: rate, delay, loss (both directions), rate-up, delay-up, loss-up,
// rate-down, delay-down, loss-down, and rtt (half each way). Values use the
// command line's strict units (100mbit, 40ms, 0.5%).
//
// File format, one step per line, `#` starts a comment:
//     TIME [up|down] KEY VALUE [KEY VALUE ...]
//     repeat PERIOD
// e.g. "10s rate 100mbit", "20s up delay 40ms loss 1%", "repeat 30s". Without
// a direction word a key applies to both directions (or to the direction its
// own name gives: rate-up). Times count from the moment the link comes up.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/schedule.hh"
#include "core/units.hh"

namespace longhaul::link {

/// Both directions' schedules.
struct ScheduleSpec {
  core::ScheduleConfig up;
  core::ScheduleConfig down;
};

/// Parses a schedule file's text; errors read "NAME:LINE: problem; what is expected".
core::Parsed<ScheduleSpec> parse_schedule_text(std::string_view text, std::string_view name);

/// Parses one --at value into `spec` (appending its steps); "" or an error naming the value.
std::string add_at_step(std::string_view value, ScheduleSpec& spec);

/// The schedule from a file (read here), --at values and a repeat period, merged
/// (file steps first at equal times) and checked (with a period, every step
/// falls inside it).
core::Parsed<ScheduleSpec> resolve_schedule(const std::vector<std::string>& at_values,
                                            const std::optional<std::string>& file,
                                            const std::optional<std::string>& repeat);

}  // namespace longhaul::link
