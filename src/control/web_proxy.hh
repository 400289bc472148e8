#pragma once
// `longhaul web`: the dashboard for an engine that is already running (started without --web).
// Serves the page from the binary on a TCP address and passes every API request, the event
// stream included, to the engine's unix socket:
//
//   browser --HTTP/TCP--> [web proxy: page, token guard] --HTTP/unix--> engine (lab, run, bridge)
//
// The engine keeps its own limits and validation: the proxy only relays, so an answer reads the
// same through it. When the engine does not answer, API requests get 502 naming the socket (the
// page then says the engine has gone).
#include <atomic>
#include <memory>
#include <string>

#include "control/api_server.hh"

namespace httplib {
class Server;
}

namespace longhaul::control {

class ServerThread;  // http_listener.hh

class WebProxy {
 public:
  /// Serves the dashboard at `endpoint` (TCP; its token, if any, guards it) for the engine on
  /// `socket_path`. Throws std::runtime_error naming the address when it cannot listen.
  WebProxy(std::string socket_path, ServerEndpoint endpoint);
  WebProxy(const WebProxy&) = delete;
  WebProxy& operator=(const WebProxy&) = delete;
  ~WebProxy();

  const ServerEndpoint& endpoint() const noexcept { return endpoint_; }

 private:
  std::string socket_path_;
  ServerEndpoint endpoint_;
  std::atomic<int> streams_{0};
  std::atomic<bool> stopping_{false};
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<ServerThread> thread_;  // after server_: stops before it goes
};

}  // namespace longhaul::control
