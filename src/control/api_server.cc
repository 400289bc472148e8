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
#include "io/text_file.hh"
#include "web/dashboard_assets.hh"

namespace longhaul::control {

namespace {

constexpr int kServerThreads = kMaxEventStreams + 8;  // streams, plus short requests beside them
constexpr const char* kTokenCookie = "longhaul_token";

gid_t socket_group() {
  // Under sudo the invoking user's group may talk to the engine; otherwise the process's own.
  if (const char* sudo_gid = std::getenv("SUDO_GID"); sudo_gid != nullptr && *sudo_gid != '\0') {
    char* end = nullptr;
    const unsigned long gid = std::strtoul(sudo_gid, &end, 10);
    if (end != nullptr && *end == '\0') return static_cast<gid_t>(gid);
  }
  return ::getgid();
}

void json_error(httplib::Response& response, int status, const std::string& message) {
  response.status = status;
  response.set_content(nlohmann::json{{"error", message}, {"status", status}}.dump() + "\n",
                       "application/json");
}

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
  server_->new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  server_->set_payload_max_length(kMaxBodyBytes);
  server_->set_read_timeout(5, 0);
  server_->set_write_timeout(5, 0);
  if (!endpoint_.token.empty()) {
    // Every request carries the token; the dashboard's page gets it once in its URL and keeps it
    // as a cookie (EventSource cannot send headers).
    server_->set_pre_routing_handler([this](const httplib::Request& request,
                                            httplib::Response& response) {
      const std::string& token = endpoint_.token;
      const std::string bearer = request.get_header_value("Authorization");
      if (bearer.starts_with("Bearer ") && same_secret(bearer.substr(7), token)) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      if (same_secret(cookie_value(request, kTokenCookie), token)) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      if (endpoint_.dashboard && request.path == "/" && request.has_param("token") &&
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
  server_->Get("/v1/events", [this](const httplib::Request& request, httplib::Response& response) {
    const ParsedInterval interval = parse_event_interval(
        request.has_param("interval") ? request.get_param_value("interval") : std::string());
    if (!interval.error.empty()) return json_error(response, 400, interval.error);
    if (streams_.fetch_add(1) >= kMaxEventStreams) {
      streams_.fetch_sub(1);
      return json_error(response, 503,
                        fmt::format("{} event streams are open already, the most this engine "
                                    "serves; close one",
                                    kMaxEventStreams));
    }
    auto stream = std::make_shared<EventStream>(target_, api_.change_log(), interval.interval);
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
    if (endpoint_.dashboard && request.method == "GET") {
      if (const web::Asset* asset = web::find_asset(request.path); asset != nullptr) {
        response.set_content(std::string(asset->body), std::string(asset->content_type).c_str());
        return;
      }
    }
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
    json_error(response, response.status, message);
  });
  if (endpoint_.unix_path.empty()) {
    bind_tcp();
  } else {
    bind_unix();
  }
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listening_done_ = true;
  });
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

void ApiServer::bind_tcp() {
  const std::string& host = endpoint_.host;
  const int asked = endpoint_.port;
  if (endpoint_.port == 0) {
    endpoint_.port = server_->bind_to_any_port(host.c_str());
  } else if (!server_->bind_to_port(host.c_str(), endpoint_.port)) {
    endpoint_.port = -1;
  }
  if (endpoint_.port <= 0) {
    const int error = errno;
    throw std::runtime_error(fmt::format(
        "cannot listen on {}: {} (is the port taken, or the address not this machine's?)",
        host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, asked)
                                            : fmt::format("{}:{}", host, asked),
        std::strerror(error)));
  }
}

ApiServer::~ApiServer() {
  // stop() only stops a server that is running: one destroyed right after it was made (another
  // listener failed) must first have started, or its thread would listen on forever.
  for (int waited_ms = 0; waited_ms < 2000 && !listening_done_ && !server_->is_running();
       ++waited_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server_->stop();
  if (thread_.joinable()) thread_.join();
  if (!endpoint_.unix_path.empty()) ::unlink(endpoint_.unix_path.c_str());
}

}  // namespace longhaul::control
