#include "control/http_listener.hh"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "control/control_api.hh"
#include "control/event_stream.hh"
#include "web/dashboard_assets.hh"

namespace longhaul::control {

namespace {

constexpr const char* kTokenCookie = "longhaul_token";

/// Compares in time independent of where the strings differ (the token is a secret).
bool same_secret(std::string_view given, std::string_view expected) {
  unsigned char difference = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    difference |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
  }
  return difference == 0;
}

std::string cookie_value(const httplib::Request& request, std::string_view name) {
  const std::string cookies = request.get_header_value("Cookie");
  std::string_view rest = cookies;
  while (!rest.empty()) {
    const std::size_t end = rest.find(';');
    std::string_view item = rest.substr(0, end);
    while (item.starts_with(' ')) item.remove_prefix(1);
    if (item.starts_with(name) && item.size() > name.size() && item[name.size()] == '=') {
      return std::string(item.substr(name.size() + 1));
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return {};
}

}  // namespace

void json_error(httplib::Response& response, int status, const std::string& message) {
  response.status = status;
  response.set_content(nlohmann::json{{"error", message}, {"status", status}}.dump(
                           -1, ' ', false, nlohmann::json::error_handler_t::replace) +
                           "\n",
                       "application/json");
}

void configure_server(httplib::Server& server, int threads) {
  server.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<std::size_t>(threads));
  };
  server.set_payload_max_length(kMaxBodyBytes);
  server.set_read_timeout(5, 0);
  server.set_write_timeout(5, 0);
  server.set_error_handler([](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return;
    const std::string message =
        response.status == 413
            ? fmt::format("the body is larger than the limit of {} bytes", kMaxBodyBytes)
            : fmt::format("HTTP status {}", response.status);
    json_error(response, response.status, message);
  });
}

void guard_with_token(httplib::Server& server, const ServerEndpoint& endpoint) {
  if (endpoint.token.empty()) return;
  server.set_pre_routing_handler(
      [&endpoint](const httplib::Request& request, httplib::Response& response) {
        const std::string& token = endpoint.token;
        const std::string bearer = request.get_header_value("Authorization");
        if (bearer.starts_with("Bearer ") && same_secret(bearer.substr(7), token)) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        if (same_secret(cookie_value(request, kTokenCookie), token)) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        if (endpoint.dashboard && request.path == "/" && request.has_param("token") &&
            same_secret(request.get_param_value("token"), token)) {
          response.set_header("Set-Cookie", fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict",
                                                        kTokenCookie, token));
          response.set_redirect("/");  // the token leaves the address bar and the history
          return httplib::Server::HandlerResponse::Handled;
        }
        json_error(response, 401,
                   "this API needs its token: send \"Authorization: Bearer TOKEN\" (the first line "
                   "of the --token-file), or open the dashboard at /?token=TOKEN");
        response.set_header("WWW-Authenticate", "Bearer");
        return httplib::Server::HandlerResponse::Handled;
      });
}

bool serve_dashboard_asset(const httplib::Request& request, httplib::Response& response) {
  if (request.method != "GET") return false;
  const web::Asset* asset = web::find_asset(request.path);
  if (asset == nullptr) return false;
  response.set_content(std::string(asset->body), std::string(asset->content_type).c_str());
  return true;
}

void route_everything(httplib::Server& server, const httplib::Server::Handler& handler) {
  const char* const pattern = R"(/.*)";
  server.Get(pattern, handler);
  server.Post(pattern, handler);
  server.Patch(pattern, handler);
  server.Put(pattern, handler);
  server.Delete(pattern, handler);
  server.Options(pattern, handler);
}

std::optional<core::Nanos> admit_event_stream(const httplib::Request& request,
                                              httplib::Response& response,
                                              std::atomic<int>& streams, std::string_view who) {
  const ParsedInterval interval = parse_event_interval(
      request.has_param("interval") ? request.get_param_value("interval") : std::string());
  if (!interval.error.empty()) {
    json_error(response, 400, interval.error);
    return std::nullopt;
  }
  if (streams.fetch_add(1) >= kMaxEventStreams) {
    streams.fetch_sub(1);
    json_error(response, 503,
               fmt::format("{} event streams are open already, the most {}; close one",
                           kMaxEventStreams, who));
    return std::nullopt;
  }
  return interval.interval;
}

void bind_tcp(httplib::Server& server, ServerEndpoint& endpoint) {
  const std::string& host = endpoint.host;
  const int asked = endpoint.port;
  if (endpoint.port == 0) {
    endpoint.port = server.bind_to_any_port(host.c_str());
  } else if (!server.bind_to_port(host.c_str(), endpoint.port)) {
    endpoint.port = -1;
  }
  if (endpoint.port <= 0) {
    const int error = errno;
    throw std::runtime_error(fmt::format(
        "cannot listen on {}: {} (is the port taken, or the address not this machine's?)",
        host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, asked)
                                            : fmt::format("{}:{}", host, asked),
        std::strerror(error)));
  }
}

ServerThread::ServerThread(httplib::Server& server)
    : server_(server), thread_([this] {
        server_.listen_after_bind();
        done_ = true;
      }) {}

ServerThread::~ServerThread() {
  // stop() only stops a server that is running: one destroyed right after it was made (another
  // listener failed) must first have started, or its thread would listen on forever.
  for (int waited_ms = 0; waited_ms < 2000 && !done_ && !server_.is_running(); ++waited_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace longhaul::control
