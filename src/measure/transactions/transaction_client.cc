#include "measure/transactions/transaction_client.hh"

#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <random>

#include "io/error.hh"
#include "measure/bench_error.hh"
#include "measure/transactions/frame_codec.hh"

namespace longhaul::measure {

namespace {

using namespace std::chrono_literals;

constexpr auto kReplyTimeout = 10s;
constexpr auto kSocketPoll = 100ms;

bool transient(int err) {
  return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

}  // namespace

std::string random_test_id() {
  std::random_device entropy;
  return fmt::format("{:08x}{:08x}", entropy(), entropy());
}

TransactionSession::TransactionSession(const std::string& host, std::uint16_t port,
                                       Nanos connect_timeout, const TransactionConfig& config) {
  io::Fd fd = connect_tcp(host, port, connect_timeout);
  set_nodelay(fd.get());
  server_address_length_ = sizeof(server_address_);
  if (::getpeername(fd.get(), reinterpret_cast<sockaddr*>(&server_address_),
                    &server_address_length_) != 0) {
    io::throw_errno("getpeername", fmt::format("{} port {}", host, port));
  }
  control_ = std::make_unique<ControlChannel>(std::move(fd), fmt::format("{} port {}", host, port));
  control_->send({{"type", "hello"},
                  {"role", "control"},
                  {"schema", kSchema},
                  {"protocol", kTransactionProtocolVersion},
                  {"kind", kind_name(config.kind)},
                  {"test_id", test_id_},
                  {"transactions", to_json(config)}});
  const auto reply = control_->receive(SteadyClock::now() + kReplyTimeout);
  if (!reply) {
    throw BenchError(fmt::format(
        "no answer from {} port {} within {} s; is `longhaul bench server` listening there?", host,
        port, kReplyTimeout.count()));
  }
  const std::string type = message_type(*reply);
  if (type == "error") {
    throw BenchError("server refused the test: " +
                     reply->value("message", std::string("no reason given")));
  }
  if (type != "accept") throw BenchError("unexpected reply from the server: " + reply->dump());
}

std::optional<ProcEndpoint> TransactionSession::server_endpoint() const {
  return proc_endpoint_of_peer(control_->fd());
}

nlohmann::json TransactionSession::finish(bool more) {
  control_->send({{"type", "finish"}, {"more", more}});
  const auto deadline = SteadyClock::now() + kReplyTimeout;
  for (;;) {
    const auto message = control_->receive(deadline);
    if (!message) throw BenchError("the server did not confirm the end of the test within 10 s");
    const std::string type = message_type(*message);
    if (type == "done") return *message;
    if (type == "abort" || type == "error") {
      throw BenchError("server: " + message->value("message", std::string("test aborted")));
    }
  }
}

void TransactionSession::abort(const std::string& why) noexcept {
  if (control_) control_->send_quietly({{"type", "abort"}, {"message", why}});
}

io::Fd open_transaction_connection(const std::string& host, std::uint16_t port,
                                   Nanos connect_timeout, const std::string& test_id) {
  io::Fd fd = connect_tcp(host, port, connect_timeout);
  set_nodelay(fd.get());
  send_all(fd.get(),
           encode_message({{"type", "hello"}, {"role", "transaction"}, {"test_id", test_id}}),
           SteadyClock::now() + kReplyTimeout, fmt::format("{} port {}", host, port));
  return fd;
}

RrPhase run_transactions(int fd, const TransactionConfig& config, std::uint64_t planned,
                         SteadyTime until, const std::function<bool()>& stop,
                         const std::function<void(std::uint64_t)>& progress) {
  set_io_timeouts(fd, kSocketPoll);
  const std::string request(config.request_bytes, 'q');
  std::vector<char> buffer(std::min<std::size_t>(config.response_bytes, 256 * 1024));
  std::vector<Nanos> samples;
  samples.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(planned, 100'000)));
  RrPhase phase;
  const SteadyTime begin = SteadyClock::now();
  // A transaction that moves nothing for this long means the peer is gone.
  const auto stalled = [](SteadyTime since) { return SteadyClock::now() - since > kIdleTimeout; };
  try {
    while (samples.size() < planned && SteadyClock::now() < until && !stop()) {
      const SteadyTime t = SteadyClock::now();
      std::size_t sent = 0;
      SteadyTime last_progress = t;
      while (sent < request.size()) {
        const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
          sent += static_cast<std::size_t>(n);
          last_progress = SteadyClock::now();
          continue;
        }
        if (n < 0 && !transient(errno)) io::throw_errno("send", "transaction connection");
        if (stop()) break;
        if (stalled(last_progress)) throw BenchError("the server stopped reading requests");
      }
      std::size_t got = 0;
      while (sent == request.size() && got < config.response_bytes) {
        const ssize_t n =
            ::recv(fd, buffer.data(), std::min(buffer.size(), config.response_bytes - got), 0);
        if (n > 0) {
          got += static_cast<std::size_t>(n);
          last_progress = SteadyClock::now();
          continue;
        }
        if (n == 0) throw BenchError("the server closed the transaction connection");
        if (!transient(errno)) io::throw_errno("recv", "transaction connection");
        if (stop()) break;
        if (stalled(last_progress)) throw BenchError("no response from the server for 60 s");
      }
      if (got < config.response_bytes) break;  // stopped mid-way: not a whole transaction
      samples.push_back(std::chrono::duration_cast<Nanos>(SteadyClock::now() - t));
      if (progress) progress(samples.size());
    }
  } catch (const std::exception& error) {
    phase.error = error.what();
  }
  phase.elapsed = std::chrono::duration_cast<Nanos>(SteadyClock::now() - begin);
  phase.transactions = samples.size();
  phase.latency = summarize_latencies(samples);
  return phase;
}

}  // namespace longhaul::measure
