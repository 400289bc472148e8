// Capacity traces (Mahimahi millisecond lines, native "T_US RATE" lines), looping or not.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "link/trace_file.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the options, the rest is the file.
  const bool loop = (data[0] & 1) != 0;
  const std::uint32_t overhead = (data[0] & 2) != 0 ? 24 : 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)longhaul::link::parse_capacity_trace(text, "fuzz.trace", loop, overhead);
  return 0;
}
