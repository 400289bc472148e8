#pragma once
// CPU lists as Linux writes them (taskset -c, /sys/devices/system/cpu/online): "2", "2,3",
// "0-3,6". Used to place the engine's lane-direction threads on cores.
#include <string_view>
#include <vector>

#include "core/units.hh"

namespace longhaul::core {

/// The CPUs of `text` in the order written, ranges expanded; duplicates and descending ranges
/// are errors, as are CPUs above 4095.
Parsed<std::vector<int>> parse_cpu_list(std::string_view text);

}  // namespace longhaul::core
