#pragma once
// The client's side of transaction tests: the control session of a `bench rr`
// or `bench churn` test, transaction connections, and the request/response
// loop that times each transaction.
#include <sys/socket.h>

#include <functional>
#include <optional>
#include <string>

#include "io/fd.hh"
#include "measure/bench_result.hh"
#include "measure/bulk/control_channel.hh"
#include "measure/transactions/transaction_config.hh"
#include "measure/transactions/transaction_result.hh"

namespace longhaul::measure {

/// Control protocol version that introduced transaction tests and probes; bulk tests
/// without a probe still say 1, so they run against older servers.
inline constexpr int kTransactionProtocolVersion = 2;

/// A random test id (16 hex digits) shared by a test's connections.
std::string random_test_id();

/// The control connection of a transaction test: hello {kind, transactions}, accept,
/// and at the end finish -> done {connections, transactions}.
class TransactionSession {
 public:
  /// Connects and has the test accepted; throws BenchError naming the server.
  TransactionSession(const std::string& host, std::uint16_t port, Nanos connect_timeout,
                     const TransactionConfig& config);

  const std::string& test_id() const { return test_id_; }
  int control_fd() const { return control_->fd(); }
  /// The address the control connection reached: churn connects its connections there.
  const sockaddr_storage& server_address() const { return server_address_; }
  socklen_t server_address_length() const { return server_address_length_; }
  std::optional<ProcEndpoint> server_endpoint() const;
  /// Tells the server the client is done and waits (10 s) for its counts. `more`: another
  /// test of the same run follows (a `--once` server then stays for it).
  nlohmann::json finish(bool more = false);
  /// Tells the server the test is given up.
  void abort(const std::string& why) noexcept;

 private:
  std::string test_id_ = random_test_id();
  std::unique_ptr<ControlChannel> control_;
  sockaddr_storage server_address_{};
  socklen_t server_address_length_ = 0;
};

/// Connects a transaction connection (TCP_NODELAY, so small requests leave at once) and
/// sends its hello; the first request follows.
io::Fd open_transaction_connection(const std::string& host, std::uint16_t port,
                                   Nanos connect_timeout, const std::string& test_id);

/// Runs transactions back to back on `fd` (a blocking socket) until `planned` are done,
/// `until` passes or `stop()` says so; each is timed from the first byte of the request
/// written to the last byte of the response read. `progress` sees the count (may be empty).
RrPhase run_transactions(int fd, const TransactionConfig& config, std::uint64_t planned,
                         SteadyTime until, const std::function<bool()>& stop,
                         const std::function<void(std::uint64_t)>& progress);

}  // namespace longhaul::measure
