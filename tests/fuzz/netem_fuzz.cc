// --netem lines in tc's own syntax: parse, then format what parsed and parse that again (it
// must parse: format_netem writes tc's syntax), and build every stage config from it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/netem_syntax.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace longhaul::core;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto spec = parse_netem(text);
  if (!spec) return 0;
  if (!parse_netem(format_netem(*spec))) std::abort();
  (void)netem_jitter_config(*spec);
  (void)netem_loss_config(*spec);
  (void)netem_duplicate_config(*spec);
  (void)netem_corrupt_config(*spec);
  (void)netem_reorder_config(*spec);
  return 0;
}
