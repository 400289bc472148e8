#pragma once
// The link flags (--rtt, --rate, --loss, ...), declared once for every command that emulates a
// link (`run`, `bridge`), so they cannot drift apart.
#include <CLI/CLI.hpp>

#include <string>

#include "link/link_options.hh"

namespace longhaul::cli {

/// How a command names its two directions in help texts.
struct DirectionWords {
  std::string up = "command -> remote";
  std::string down = "remote -> command";
};

/// Declares every link flag on `app`, storing into `flags` (which must outlive parsing).
void add_link_flags(CLI::App* app, link::LinkFlags& flags, const DirectionWords& words = {});

}  // namespace longhaul::cli
