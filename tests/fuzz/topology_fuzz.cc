// Topology files (TOML): every error is a TopologyError naming file, line and column; nothing
// else may escape (no toml++ or JSON exception, no crash).
#include <cstddef>
#include <cstdint>
#include <string>

#include "lab/topology_file.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto lab = longhaul::lab::parse_lab_definition(text, "fuzz.toml", "", 1);
    (void)longhaul::lab::lab_buffer_bytes(lab);
  } catch (const longhaul::lab::TopologyError&) {
    // The documented way to refuse a file.
  }
  return 0;
}
