#include "control/api_server.hh"

#include <arpa/inet.h>
#include <httplib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "control/event_stream.hh"
#include "control/http_listener.hh"
#include "io/text_file.hh"

namespace longhaul::control {

namespace {

constexpr int kServerThreads = kMaxEventStreams + 8;  // streams, plus short requests beside them

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

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

std::string read_token_file(const std::string& path) {
  constexpr std::uint64_t kTokenFileLimit = 4096;
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && (info.st_mode & 0007) != 0) {
    throw std::runtime_error(fmt::format(
        "--token-file {}: others can read it; make it private (chmod 600 {})", path, path));
  }
  const io::InputFile file = io::read_input_file(path, "token", kTokenFileLimit);
  if (!file) throw std::runtime_error("--token-file " + file.error);
  std::string token = file.text.substr(0, file.text.find('\n'));
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) {
    token.pop_back();
  }
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.erase(0, 1);
  if (token.size() < 16) {
    throw std::runtime_error(fmt::format(
        "--token-file {}: its first line must hold a token of at least 16 characters (e.g. "
        "head -c 24 /dev/urandom | base64 > {})",
        path, path));
  }
  return token;
}

ApiServer::ApiServer(ControlApi& api, ControlTarget& target, ServerEndpoint endpoint)
    : api_(api),
      target_(target),
      endpoint_(std::move(endpoint)),
      server_(std::make_unique<httplib::Server>()) {
  configure_server(*server_, kServerThreads);
  guard_with_token(*server_, endpoint_);
  server_->Get("/v1/events", [this](const httplib::Request& request, httplib::Response& response) {
    const auto interval = admit_event_stream(request, response, streams_, "this engine serves");
    if (!interval) return;
    auto stream = std::make_shared<EventStream>(target_, api_.change_log(), *interval);
    response.set_header("Cache-Control", "no-cache");
    response.set_chunked_content_provider(
        "text/event-stream",
        [stream](std::size_t, httplib::DataSink& sink) {
          const std::string text = stream->poll();
          if (!text.empty() && !sink.write(text.data(), text.size())) return false;
          std::this_thread::sleep_for(kEventPoll);
          return true;  // the server ends it when the client goes or the server stops
        },
        [this](bool) { streams_.fetch_sub(1); });
  });
  const auto serve = [this](const httplib::Request& request, httplib::Response& response) {
    if (endpoint_.dashboard && serve_dashboard_asset(request, response)) return;
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
  route_everything(*server_, serve);
  if (endpoint_.unix_path.empty()) {
    bind_tcp(*server_, endpoint_);
  } else {
    bind_unix();
  }
  thread_ = std::make_unique<ServerThread>(*server_);
}

void ApiServer::bind_unix() {
  server_->set_address_family(AF_UNIX);
  const std::string& path = endpoint_.unix_path;
  const std::string temporary = path + ".new";
  ::unlink(temporary.c_str());
  if (!server_->bind_to_port(temporary.c_str(), 80)) {
    throw std::runtime_error(fmt::format("control API: cannot bind the unix socket {}", temporary));
  }
  if (::chmod(temporary.c_str(), 0660) != 0 || ::chown(temporary.c_str(), 0, socket_group()) != 0 ||
      ::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    throw std::runtime_error(
        fmt::format("control API: cannot set up the socket {}: {}", path, std::strerror(error)));
  }
}

ApiServer::~ApiServer() {
  thread_.reset();  // event streams end, requests in flight finish
  if (!endpoint_.unix_path.empty()) ::unlink(endpoint_.unix_path.c_str());
}

}  // namespace longhaul::control
