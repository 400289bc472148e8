#include "core/cpu_list.hh"

#include <algorithm>
#include <charconv>
#include <string>

namespace longhaul::core {

namespace {
constexpr int kMaxCpu = 4095;

bool read_cpu(std::string_view text, int& cpu) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), cpu);
  return error == std::errc{} && end == text.data() + text.size() && cpu >= 0 && cpu <= kMaxCpu;
}
}  // namespace

Parsed<std::vector<int>> parse_cpu_list(std::string_view text) {
  Parsed<std::vector<int>> result;
  const auto fail = [&](const std::string& why) {
    result.error = "'" + std::string(text) + "' is not a CPU list: " + why +
                   " (write CPUs like 2,3 or ranges like 0-3,6)";
    return result;
  };
  if (text.empty()) return fail("it is empty");
  std::vector<int> cpus;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const auto dash = item.find('-');
    int first = 0;
    int last = 0;
    if (dash == std::string_view::npos) {
      if (!read_cpu(item, first)) return fail("'" + std::string(item) + "' is not a CPU number");
      last = first;
    } else if (!read_cpu(item.substr(0, dash), first) || !read_cpu(item.substr(dash + 1), last) ||
               last < first) {
      return fail("'" + std::string(item) + "' is not a range FIRST-LAST with FIRST <= LAST");
    }
    for (int cpu = first; cpu <= last; ++cpu) {
      if (std::find(cpus.begin(), cpus.end(), cpu) != cpus.end()) {
        return fail("CPU " + std::to_string(cpu) + " appears twice");
      }
      cpus.push_back(cpu);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  result.value = std::move(cpus);
  return result;
}

}  // namespace longhaul::core
