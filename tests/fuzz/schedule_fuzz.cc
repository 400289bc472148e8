// Schedule files (--schedule FILE: "T key=value ..." lines).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "link/schedule_options.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)longhaul::link::parse_schedule_text(text, "fuzz.schedule");
  return 0;
}
