#include "cli/api_flags.hh"

#include <arpa/inet.h>

#include <fmt/format.h>

#include <charconv>

#include "cli/commands.hh"

namespace longhaul::cli {

void add_api_flags(CLI::App* app, ApiFlags& flags) {
  app->add_option("--listen", flags.listen,
                  "Also serve the control API on TCP [ADDR:]PORT (loopback unless an address "
                  "is given; any other needs --token-file)")
      ->type_name("[ADDR:]PORT");
  app->add_option("--web", flags.web,
                  "Serve the web dashboard and the API on TCP [ADDR:]PORT (loopback by default)")
      ->type_name("[ADDR:]PORT");
  app->add_option("--token-file", flags.token_file,
                  "Require the token on this file's first line for TCP requests (mode 600)")
      ->type_name("FILE");
}

control::ServerEndpoint parse_listen_address(const std::string& flag, const std::string& text) {
  control::ServerEndpoint endpoint;
  std::string host = "127.0.0.1";
  std::string port = text;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string::npos) {
      throw UsageError(
          fmt::format("{} {}: an IPv6 address goes in brackets before the port, e.g. "
                      "[::1]:8080",
                      flag, text));
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (const auto colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      throw UsageError(
          fmt::format("{} {}: put an IPv6 address in brackets, e.g. [::1]:8080", flag, text));
    }
  }
  if (host == "localhost") host = "127.0.0.1";
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) != 1 &&
      ::inet_pton(AF_INET6, host.c_str(), &v6) != 1) {
    throw UsageError(
        fmt::format("{} {}: '{}' is not an IP address (give one of this machine's, "
                    "e.g. 127.0.0.1, or 0.0.0.0 for all)",
                    flag, text, host));
  }
  int number = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || error != std::errc() || end != port.data() + port.size() || number < 1 ||
      number > 65535) {
    throw UsageError(
        fmt::format("{} {}: the port must be a number from 1 to 65535, e.g. 8080", flag, text));
  }
  endpoint.host = host;
  endpoint.port = number;
  return endpoint;
}

std::vector<control::ServerEndpoint> api_endpoints(const ApiFlags& flags) {
  std::vector<control::ServerEndpoint> endpoints;
  if (flags.listen) endpoints.push_back(parse_listen_address("--listen", *flags.listen));
  if (flags.web) {
    endpoints.push_back(parse_listen_address("--web", *flags.web));
    endpoints.back().dashboard = true;
  }
  if (endpoints.size() == 2 && endpoints[0].host == endpoints[1].host &&
      endpoints[0].port == endpoints[1].port) {
    throw UsageError(
        fmt::format("--listen and --web both name {}; --web serves the API too, so "
                    "give only --web",
                    endpoint_url(endpoints[0])));
  }
  if (flags.token_file && endpoints.empty()) {
    throw UsageError("--token-file guards a TCP listener: give --listen or --web with it");
  }
  std::string token;
  if (flags.token_file) {
    try {
      token = control::read_token_file(*flags.token_file);
    } catch (const std::runtime_error& error) {
      throw UsageError(error.what());
    }
  }
  for (auto& endpoint : endpoints) {
    if (token.empty() && !control::is_loopback(endpoint.host)) {
      throw UsageError(fmt::format(
          "{} {}: {} is not a loopback address, so anyone who reaches it could change the "
          "lab; give --token-file FILE (a secret on its first line, mode 600), or listen on "
          "127.0.0.1",
          endpoint.dashboard ? "--web" : "--listen",
          endpoint.dashboard ? *flags.web : *flags.listen, endpoint.host));
    }
    endpoint.token = token;
  }
  return endpoints;
}

std::string endpoint_url(const control::ServerEndpoint& endpoint) {
  return endpoint.host.find(':') != std::string::npos
             ? fmt::format("http://[{}]:{}/", endpoint.host, endpoint.port)
             : fmt::format("http://{}:{}/", endpoint.host, endpoint.port);
}

}  // namespace longhaul::cli
