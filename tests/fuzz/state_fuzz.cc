// State files under /run/longhaul (labs and runs), whatever a crash, another version or a hand
// edit left: parsed into a state or a problem sentence, never an exception or a crash.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lab/lab_state.hh"
#include "lab/run_state.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace longhaul::lab;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const LabStateRead lab = parse_lab_state(text, "fuzz.json");
  if (lab.state && lab.state->description.is_object()) (void)lab.state->description.dump();
  std::string problem;
  pid_t pid = 0;
  (void)parse_run_state(text, "r7.json", problem, pid);
  return 0;
}
