#include "control/api_client.hh"

#include <httplib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace longhaul::control {

namespace {

/// Why connecting to `path` fails, in the kernel's words. httplib only says "Connection", which
/// cannot tell a missing socket from one nobody listens on or one the user may not open.
std::string connect_problem(const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return std::strerror(errno);
  if (!S_ISSOCK(status.st_mode)) return "not a socket";
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return "the path is too long for a unix socket";
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::strerror(errno);
  const int result = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int error = errno;
  ::close(fd);
  return result == 0 ? "it accepted a connection but did not answer" : std::strerror(error);
}

}  // namespace

std::string ApiAnswer::error_message() const {
  const auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string()) {
    return parsed["error"].get<std::string>();
  }
  std::string text = body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text.empty() ? fmt::format("HTTP status {} with no message", status) : text;
}

ApiClient::ApiClient(std::string socket_path, std::chrono::milliseconds timeout)
    : socket_path_(std::move(socket_path)),
      // For a unix socket httplib takes the path as the host; the port is not used.
      client_(std::make_unique<httplib::Client>(socket_path_, 80)) {
  client_->set_address_family(AF_UNIX);
  client_->set_connection_timeout(timeout);
  client_->set_read_timeout(timeout);
  client_->set_write_timeout(timeout);
}

ApiClient::~ApiClient() = default;

ApiAnswer ApiClient::request(std::string_view method, std::string_view path,
                             std::string_view body) {
  httplib::Request request;
  request.method = std::string(method);
  request.path = std::string(path);
  // The server ignores the host; "lab" is the convention of docs/api.md.
  request.set_header("Host", "lab");
  if (!body.empty()) {
    request.body = std::string(body);
    request.set_header("Content-Type", "application/json");
  }
  httplib::Response response;
  httplib::Error error = httplib::Error::Success;
  if (!client_->send(request, response, error)) {
    const std::string problem = error == httplib::Error::Connection ? connect_problem(socket_path_)
                                                                    : httplib::to_string(error);
    throw ApiUnreachable(
        fmt::format("no answer from the control socket {}: {}", socket_path_, problem));
  }
  return {response.status, response.body, response.get_header_value("Content-Type"),
          response.get_header_value("Allow")};
}

}  // namespace longhaul::control
