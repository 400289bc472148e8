// Error messages quoting file bytes: whatever goes in, what comes out is printable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/printable.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const char c : longhaul::core::printable(text, 256)) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\n' && c != '\t') || byte == 0x7f) std::abort();
  }
  return 0;
}
