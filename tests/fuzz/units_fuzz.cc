// Units as flags and topology keys spell them: durations, rates, probabilities, sizes, queue
// limits, CPU lists. Each parser either parses or says why; formatting what parsed never fails.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/cpu_list.hh"
#include "core/units.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace longhaul::core;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto duration = parse_duration(text)) (void)format_duration(*duration);
  if (const auto rate = parse_rate_bps(text)) (void)format_rate(static_cast<double>(*rate));
  (void)parse_probability(text);
  if (const auto bytes = parse_bytes(text)) (void)format_bytes(static_cast<double>(*bytes));
  (void)parse_queue_limit(text);
  (void)parse_cpu_list(text);
  return 0;
}
