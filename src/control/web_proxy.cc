#include "control/web_proxy.hh"

#include <fmt/format.h>

#include <chrono>

#include "control/api_client.hh"
#include "control/event_stream.hh"
#include "control/http_listener.hh"

namespace longhaul::control {

namespace {

constexpr int kProxyThreads = kMaxEventStreams + 8;  // as the engine's own listener
constexpr auto kRequestTimeout = std::chrono::seconds(10);

}  // namespace

WebProxy::WebProxy(std::string socket_path, ServerEndpoint endpoint)
    : socket_path_(std::move(socket_path)),
      endpoint_(std::move(endpoint)),
      server_(std::make_unique<httplib::Server>()) {
  endpoint_.dashboard = true;
  configure_server(*server_, kProxyThreads);
  guard_with_token(*server_, endpoint_);
  server_->Get("/v1/events", [this](const httplib::Request& request, httplib::Response& response) {
    // Checked here too, so a bad interval gets its 400 rather than a stream that ends at once.
    if (!admit_event_stream(request, response, streams_, "`longhaul web` relays")) return;
    response.set_header("Cache-Control", "no-cache");
    const std::string target = request.target;
    response.set_chunked_content_provider(
        "text/event-stream",
        [this, target](std::size_t, httplib::DataSink& sink) {
          // One upstream stream for the whole response: relay its bytes as they come, until
          // the engine ends it (gone, stopping) or the browser leaves (a write fails).
          httplib::Client upstream(socket_path_, 80);
          upstream.set_address_family(AF_UNIX);
          upstream.set_connection_timeout(kRequestTimeout);
          // Samples come every interval (at most 60 s): a longer silence is a hung engine.
          upstream.set_read_timeout(std::chrono::seconds(90));
          const httplib::Headers headers = {{"Host", "lab"}};
          upstream.Get(target, headers, [&](const char* data, std::size_t length) {
            return !stopping_ && sink.write(data, length);
          });
          sink.done();
          return true;
        },
        [this](bool) { streams_.fetch_sub(1); });
  });
  const auto relay = [this](const httplib::Request& request, httplib::Response& response) {
    if (serve_dashboard_asset(request, response)) return;
    ApiClient client(socket_path_, kRequestTimeout);
    ApiAnswer answer;
    try {
      answer = client.request(request.method, request.target, request.body);
    } catch (const ApiUnreachable& error) {
      return json_error(
          response, 502,
          fmt::format("the engine does not answer (it may have gone): {}", error.what()));
    }
    response.status = answer.status;
    if (!answer.allow.empty()) response.set_header("Allow", answer.allow);
    response.set_content(answer.body, answer.content_type.empty() ? "application/json"
                                                                  : answer.content_type.c_str());
  };
  route_everything(*server_, relay);
  bind_tcp(*server_, endpoint_);
  thread_ = std::make_unique<ServerThread>(*server_);
}

WebProxy::~WebProxy() {
  // A relayed stream waits on the engine: it ends at its next event (one interval) or now.
  stopping_ = true;
  thread_.reset();
}

}  // namespace longhaul::control
