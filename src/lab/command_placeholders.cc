#include "lab/command_placeholders.hh"

#include <fmt/format.h>

#include <array>
#include <utility>

namespace longhaul::lab {

std::vector<std::string> expand_placeholders(const std::vector<std::string>& argv,
                                             const LinkAddresses& addresses) {
  const std::array<std::pair<std::string_view, const std::string*>, 4> placeholders{{
      {"{remote}", &addresses.remote},
      {"{remote6}", &addresses.remote6},
      {"{local}", &addresses.local},
      {"{local6}", &addresses.local6},
  }};
  std::vector<std::string> expanded;
  expanded.reserve(argv.size());
  for (const std::string& argument : argv) {
    std::string out;
    std::size_t at = 0;
    while (at < argument.size()) {
      bool replaced = false;
      if (argument[at] == '{') {
        for (const auto& [name, value] : placeholders) {
          if (argument.compare(at, name.size(), name) == 0) {
            out += *value;
            at += name.size();
            replaced = true;
            break;
          }
        }
      }
      if (!replaced) out += argument[at++];
    }
    expanded.push_back(std::move(out));
  }
  return expanded;
}

std::optional<std::string> empty_argument_hint(const std::vector<std::string>& argv) {
  for (std::size_t i = 1; i < argv.size(); ++i) {
    if (!argv[i].empty()) continue;
    return fmt::format(
        "longhaul: argument {} of the command ({}) is empty. If you wrote \"$LONGHAUL_REMOTE\", "
        "your shell expanded it before longhaul started, where it is not set: write {{remote}} "
        "(or {{remote6}}) instead, which longhaul replaces with the address, or use it inside "
        "sh -c '... \"$LONGHAUL_REMOTE\"'",
        i, argv[0]);
  }
  return std::nullopt;
}

}  // namespace longhaul::lab
