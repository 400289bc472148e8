#pragma once
// What every HTTP listener of the control plane does alike, the engine's (api_server.hh) and
// `longhaul web`'s (web_proxy.hh): the token guard, the dashboard's assets, JSON errors, binding
// a TCP address, and the thread that runs the accept loop. Internal to src/control: it includes
// cpp-httplib.
#include <httplib.h>

#include <atomic>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/time.hh"

#include "control/api_server.hh"

namespace longhaul::control {

/// Threads (`threads`: event streams hold one each), body limit (kMaxBodyBytes), timeouts, and
/// JSON bodies for the errors httplib answers itself (413 for a body over the limit, 400 for a
/// bad request line).
void configure_server(httplib::Server& server, int threads);

/// The body of every error: {"error": MESSAGE, "status": STATUS}.
void json_error(httplib::Response& response, int status, const std::string& message);

/// With a token, every request must carry it (Authorization: Bearer, or the cookie that the
/// dashboard's `/?token=` sets: EventSource cannot send headers); others get 401. No-op without.
/// `endpoint` must outlive `server`.
void guard_with_token(httplib::Server& server, const ServerEndpoint& endpoint);

/// Answers a GET of the dashboard's page or one of its files from the binary; false for any
/// other request.
bool serve_dashboard_asset(const httplib::Request& request, httplib::Response& response);

/// Routes every method of every path to `handler` (after the more specific routes).
void route_everything(httplib::Server& server, const httplib::Server::Handler& handler);

/// Admits one GET /v1/events: its ?interval= parsed (400 when bad) and a place among the
/// kMaxEventStreams that `streams` counts (503 when full; `who` ends that message). The interval,
/// or nullopt when `response` already holds the refusal. An admitted stream must give its place
/// back (streams - 1) when it ends.
std::optional<core::Nanos> admit_event_stream(const httplib::Request& request,
                                              httplib::Response& response,
                                              std::atomic<int>& streams, std::string_view who);

/// Binds `endpoint`'s TCP address (port 0: any free one, written back). Throws
/// std::runtime_error naming the address when it cannot.
void bind_tcp(httplib::Server& server, ServerEndpoint& endpoint);

/// Runs a bound server's accept loop on its own thread; stops it and joins on destruction.
class ServerThread {
 public:
  explicit ServerThread(httplib::Server& server);
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;
  ~ServerThread();

 private:
  httplib::Server& server_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace longhaul::control
