#pragma once
// The control API over HTTP/1.1 (cpp-httplib, Debian's libcpp-httplib-dev) on a unix socket:
// mode 0660, group = the invoking user's under sudo (SUDO_GID), else the process's. The socket
// is bound under a temporary name, given its mode and owner, then renamed into place, so no one
// can connect while it is still open to all. Requests go to ControlApi on the server's threads.
#include <memory>
#include <string>
#include <thread>

#include "control/control_api.hh"

namespace httplib {
class Server;
}

namespace longhaul::control {

class ApiServer {
 public:
  /// Serves `api` on the unix socket `socket_path` (replacing a stale one). Throws
  /// std::runtime_error naming the path when it cannot be bound.
  ApiServer(ControlApi& api, ControlTarget& target, std::string socket_path);
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;
  /// Stops serving and removes the socket; never throws.
  ~ApiServer();

  const std::string& socket_path() const noexcept { return socket_path_; }

 private:
  ControlApi& api_;
  ControlTarget& target_;
  std::mutex api_mutex_;  // ControlApi is not thread-safe; requests are short
  std::string socket_path_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace longhaul::control
