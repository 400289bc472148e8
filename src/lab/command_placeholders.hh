#pragma once
// `longhaul run -- COMMAND {remote}`: the addresses of a link exist only once it is up, so a
// command line cannot name them with "$LONGHAUL_REMOTE" (the calling shell expands that to
// nothing before longhaul starts). longhaul replaces these placeholders in the command's
// arguments instead; the environment variables stay for scripts (`sh -c '... "$LONGHAUL_REMOTE"'`).
#include <optional>
#include <string>
#include <vector>

namespace longhaul::lab {

struct LinkAddresses {
  std::string remote;   ///< {remote}: the host's IPv4 address on the link
  std::string remote6;  ///< {remote6}: the host's IPv6 address
  std::string local;    ///< {local}: the command's IPv4 address
  std::string local6;   ///< {local6}: the command's IPv6 address
};

/// Every {remote}, {remote6}, {local} and {local6} in each argument (anywhere in it, so
/// "http://{remote}:8080/" works) replaced by its address; other text is left alone.
std::vector<std::string> expand_placeholders(const std::vector<std::string>& argv,
                                             const LinkAddresses& addresses);

/// A warning for the first empty argument of the command (usually "$LONGHAUL_REMOTE" expanded
/// by the caller's shell, where it is unset), or nothing when no argument is empty.
std::optional<std::string> empty_argument_hint(const std::vector<std::string>& argv);

}  // namespace longhaul::lab
