#pragma once
// The client side of the control API (docs/api.md): one request to an engine's unix socket and
// its answer, for the commands that talk to a running lab (`set`, `watch`). Errors that mean
// "no answer" name the socket, so a message says which engine could not be reached.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace httplib {
class Client;
}

namespace longhaul::control {

/// No HTTP answer came: the socket is missing, refuses connections, or the engine stopped
/// mid-request. The message names the socket and what went wrong.
class ApiUnreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ApiAnswer {
  int status = 0;
  std::string body;
  std::string content_type{};  ///< as the server sent it
  std::string allow{};         ///< the Allow header of a 405

  bool ok() const noexcept { return status >= 200 && status < 300; }
  /// The server's message of an error answer ({"error": "..."}), else the body as it came.
  std::string error_message() const;
};

class ApiClient {
 public:
  /// `timeout` bounds connecting, sending and waiting for the answer.
  explicit ApiClient(std::string socket_path,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;
  ~ApiClient();

  /// Sends `method path` with `body` (JSON when not empty) and returns whatever status the
  /// server answered. Throws ApiUnreachable when no answer came.
  ApiAnswer request(std::string_view method, std::string_view path, std::string_view body = {});

  const std::string& socket_path() const noexcept { return socket_path_; }

 private:
  std::string socket_path_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace longhaul::control
