#pragma once
// Flags that open the control API on TCP beside its unix socket: --listen (the API) and --web
// (the API and the dashboard), with --token-file. Checked before anything is built.
#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "control/api_server.hh"

namespace longhaul::cli {

struct ApiFlags {
  std::optional<std::string> listen;
  std::optional<std::string> web;
  std::optional<std::string> token_file;
};

/// Declares --listen, --web and --token-file on `app`.
void add_api_flags(CLI::App* app, ApiFlags& flags);

/// "8080", "127.0.0.1:8080", "[::1]:8080" -> host and port (a bare port is loopback's).
/// UsageError naming the flag when it is none of these.
control::ServerEndpoint parse_listen_address(const std::string& flag, const std::string& text);

/// The TCP endpoints the flags ask for; UsageError when an address does not parse, a
/// non-loopback address has no --token-file, or the token file is unusable.
std::vector<control::ServerEndpoint> api_endpoints(const ApiFlags& flags);

/// "http://127.0.0.1:8080/" for an endpoint.
std::string endpoint_url(const control::ServerEndpoint& endpoint);

}  // namespace longhaul::cli
