// The control API's client side (control/api_client) against a real HTTP server on a unix
// socket in a temporary directory: requests and answers as sent, the server's error message,
// and "no answer" errors that name the socket and say why.
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "control/api_client.hh"

namespace longhaul::control {
namespace {

class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "lh-api-client-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const char* name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// An HTTP server on a unix socket, answering like an engine, until destroyed.
class FakeEngine {
 public:
  explicit FakeEngine(const std::string& path) {
    server_.set_address_family(AF_UNIX);
    server_.Get("/v1/lanes", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("{\"lanes\": []}\n", "application/json");
    });
    server_.Patch(
        "/v1/lanes/japan", [](const httplib::Request& request, httplib::Response& response) {
          response.set_content(request.get_header_value("Content-Type") + " " + request.body,
                               "text/plain");
        });
    server_.Patch("/v1/lanes/mars", [](const httplib::Request&, httplib::Response& response) {
      response.status = 404;
      response.set_content("{\"error\": \"no lane named \\\"mars\\\"\", \"status\": 404}\n",
                           "application/json");
    });
    // Binding also listens: a client may connect before the accept loop runs.
    if (!server_.bind_to_port(path.c_str(), 80)) throw std::runtime_error("bind failed");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeEngine() {
    server_.stop();
    thread_.join();
  }

 private:
  httplib::Server server_;
  std::thread thread_;
};

TEST(ApiClient, SendsTheRequestAndReturnsTheAnswer) {
  const TemporaryDirectory directory;
  const std::string socket = directory.file("lab.sock");
  const FakeEngine engine(socket);
  ApiClient client(socket);
  const ApiAnswer lanes = client.request("GET", "/v1/lanes");
  EXPECT_EQ(lanes.status, 200);
  EXPECT_TRUE(lanes.ok());
  EXPECT_EQ(lanes.body, "{\"lanes\": []}\n");
  const ApiAnswer patch = client.request("PATCH", "/v1/lanes/japan", R"({"rtt":"300ms"})");
  EXPECT_EQ(patch.body, R"(application/json {"rtt":"300ms"})");
}

TEST(ApiClient, AnErrorAnswerIsReturnedWithTheServersMessage) {
  const TemporaryDirectory directory;
  const std::string socket = directory.file("lab.sock");
  const FakeEngine engine(socket);
  ApiClient client(socket);
  const ApiAnswer answer = client.request("PATCH", "/v1/lanes/mars", "{}");
  EXPECT_EQ(answer.status, 404);
  EXPECT_FALSE(answer.ok());
  EXPECT_EQ(answer.error_message(), "no lane named \"mars\"");
  EXPECT_EQ((ApiAnswer{500, "plain words\n"}.error_message()), "plain words");
  EXPECT_EQ((ApiAnswer{502, ""}.error_message()), "HTTP status 502 with no message");
}

std::string unreachable(const std::string& socket) {
  try {
    ApiClient client(socket, std::chrono::seconds(2));
    (void)client.request("GET", "/v1/lanes");
  } catch (const ApiUnreachable& error) {
    return error.what();
  }
  return "";
}

TEST(ApiClient, NoSocketIsNamedWithWhy) {
  const TemporaryDirectory directory;
  const std::string socket = directory.file("gone.sock");
  EXPECT_EQ(unreachable(socket),
            "no answer from the control socket " + socket + ": No such file or directory");
  const std::string plain = directory.file("plain");
  std::FILE* file = std::fopen(plain.c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fclose(file);
  EXPECT_EQ(unreachable(plain), "no answer from the control socket " + plain + ": not a socket");
}

TEST(ApiClient, ASocketNobodyListensOnRefuses) {
  // What a crashed engine leaves: the socket file, and nobody behind it.
  const TemporaryDirectory directory;
  const std::string socket = directory.file("dead.sock");
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket.c_str(), socket.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  ::close(fd);
  EXPECT_EQ(unreachable(socket),
            "no answer from the control socket " + socket + ": Connection refused");
}

}  // namespace
}  // namespace longhaul::control
