// netem .dist tables (maketable's output), as --distribution FILE reads them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/distribution.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)longhaul::core::parse_dist_table(text);
  return 0;
}
