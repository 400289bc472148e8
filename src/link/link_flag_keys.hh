#pragma once
// The link parameters by name, as topology files spell them: the `longhaul run` flag without its
// leading "--" ("rtt", "rate-up", "netem"). One table, so a parameter added to LinkFlags is added
// here once and works in files and on the command line alike.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "link/link_options.hh"

namespace longhaul::link {

/// A value as a file gives it: text ("32ms"), a whole number, true/false, or a list of texts.
using LinkFlagValue =
    std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>>;

/// Sets `key` in `flags`. Returns an error sentence (without the place) when the key is unknown
/// (listing the link keys) or the value has the wrong type, e.g. a number without a unit.
std::optional<std::string> set_link_flag(LinkFlags& flags, std::string_view key,
                                         const LinkFlagValue& value);

/// Every key set_link_flag accepts, in table order.
std::vector<std::string> link_flag_keys();

}  // namespace longhaul::link
