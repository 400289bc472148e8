#include "control/api_server.hh"

#include <httplib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cstdlib>
#include <stdexcept>

namespace longhaul::control {

namespace {
gid_t socket_group() {
  // Under sudo the invoking user's group may talk to the engine; otherwise the process's own.
  if (const char* sudo_gid = std::getenv("SUDO_GID"); sudo_gid != nullptr && *sudo_gid != '\0') {
    char* end = nullptr;
    const unsigned long gid = std::strtoul(sudo_gid, &end, 10);
    if (end != nullptr && *end == '\0') return static_cast<gid_t>(gid);
  }
  return ::getgid();
}
}  // namespace

ApiServer::ApiServer(ControlApi& api, ControlTarget& target, std::string socket_path)
    : api_(api),
      target_(target),
      socket_path_(std::move(socket_path)),
      server_(std::make_unique<httplib::Server>()) {
  server_->set_address_family(AF_UNIX);
  server_->set_payload_max_length(kMaxBodyBytes);
  server_->set_read_timeout(5, 0);
  server_->set_write_timeout(5, 0);
  const auto serve = [this](const httplib::Request& request, httplib::Response& response) {
    HttpResponse answer;
    {
      const std::lock_guard lock(api_mutex_);
      answer = api_.handle({request.method, request.path, request.body});
    }
    // A change answers once its instant has come (at most kApplyLead away when no "at" was
    // given), so a client that acts on the answer sees the new conditions.
    if (answer.applies_at.count() != 0) {
      const core::Nanos wait = answer.applies_at - target_.now();
      if (wait.count() > 0 && wait <= 4 * kApplyLead) std::this_thread::sleep_for(wait);
      // The direction threads apply it when they wake at the instant: wait (bounded) until
      // each has, so a GET right after the answer shows the new configuration.
      if (wait <= 4 * kApplyLead) {
        const core::Nanos deadline = target_.now() + kAppliedWait;
        for (const auto& await : answer.awaits) {
          while (target_.state(await.lane, await.direction).live_applied < await.live_applied &&
                 target_.now() < deadline) {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
          }
        }
      }
    }
    response.status = answer.status;
    if (!answer.allow.empty()) response.set_header("Allow", answer.allow);
    response.set_content(answer.body, answer.content_type.c_str());
  };
  for (const char* pattern : {R"(/.*)"}) {
    server_->Get(pattern, serve);
    server_->Post(pattern, serve);
    server_->Patch(pattern, serve);
    server_->Put(pattern, serve);
    server_->Delete(pattern, serve);
    server_->Options(pattern, serve);
  }
  // Errors httplib answers itself (413 for a body over the limit, 400 for a bad request line).
  server_->set_error_handler([](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return;
    const std::string message =
        response.status == 413
            ? fmt::format("the body is larger than the limit of {} bytes", kMaxBodyBytes)
            : fmt::format("HTTP status {}", response.status);
    response.set_content(
        nlohmann::json{{"error", message}, {"status", response.status}}.dump() + "\n",
        "application/json");
  });
  const std::string temporary = socket_path_ + ".new";
  ::unlink(temporary.c_str());
  if (!server_->bind_to_port(temporary.c_str(), 80)) {
    throw std::runtime_error(fmt::format("control API: cannot bind the unix socket {}", temporary));
  }
  if (::chmod(temporary.c_str(), 0660) != 0 || ::chown(temporary.c_str(), 0, socket_group()) != 0 ||
      ::rename(temporary.c_str(), socket_path_.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    throw std::runtime_error(fmt::format("control API: cannot set up the socket {}: {}",
                                         socket_path_, std::strerror(error)));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

ApiServer::~ApiServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
  ::unlink(socket_path_.c_str());
}

}  // namespace longhaul::control
