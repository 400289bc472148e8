#pragma once
// The control API over HTTP/1.1 (cpp-httplib, Debian's libcpp-httplib-dev), on a unix socket or a
// TCP address.
//
// Unix socket: mode 0660, group = the invoking user's under sudo (SUDO_GID), else the process's.
// The socket is bound under a temporary name, given its mode and owner, then renamed into place,
// so no one can connect while it is still open to all.
//
// TCP (`--listen`, `--web`): with a token, every request must carry it (`Authorization: Bearer`,
// or the cookie the dashboard's `/?token=` sets); the commands refuse a non-loopback address
// without one. With the dashboard, GET / and /ui/... serve its page from the binary.
//
// Requests go to ControlApi on the server's threads; GET /v1/events holds its connection and
// streams (event_stream.hh).
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "control/control_api.hh"

namespace httplib {
class Server;
}

namespace longhaul::control {

class ServerThread;  // http_listener.hh

struct ServerEndpoint {
  std::string unix_path;  ///< a unix socket, or:
  std::string host;       ///< a TCP address (IPv4 or IPv6 literal)
  int port = 0;           ///< 0: any free port (see ApiServer::port())
  std::string token;      ///< TCP only; empty: none asked
  bool dashboard = false;
};

class ApiServer {
 public:
  /// Serves `api` at `endpoint` (a unix socket replaces a stale one). Throws std::runtime_error
  /// naming the path or address when it cannot be bound.
  ApiServer(ControlApi& api, ControlTarget& target, ServerEndpoint endpoint);
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;
  /// Stops serving (event streams end) and removes a unix socket; never throws.
  ~ApiServer();

  const std::string& socket_path() const noexcept { return endpoint_.unix_path; }
  /// The TCP port bound (the one asked, or the one the kernel chose for 0).
  int port() const noexcept { return endpoint_.port; }
  const ServerEndpoint& endpoint() const noexcept { return endpoint_; }

 private:
  void bind_unix();

  ControlApi& api_;
  ControlTarget& target_;
  std::mutex api_mutex_;  // ControlApi is not thread-safe; requests are short
  ServerEndpoint endpoint_;
  std::atomic<int> streams_{0};
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<ServerThread> thread_;  // after server_: stops before it goes
};

/// Whether `host` is a loopback address (127.0.0.0/8, ::1, or "localhost").
bool is_loopback(const std::string& host);

/// The token in a token file: its first line, trimmed. Throws std::runtime_error naming the file
/// and what to do when it is not a regular file, is readable by others, larger than 4 KiB, or
/// holds no token.
std::string read_token_file(const std::string& path);

}  // namespace longhaul::control
