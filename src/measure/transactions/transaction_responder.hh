#pragma once
// The server's side of request/response traffic: for every connection, read
// a request of the agreed size, answer with a response of the agreed size,
// until the client closes. One thread with epoll serves them all, so churn at
// thousands of connections per second costs no thread per connection.
//
// A connection starts with a framed hello (frame_codec.hh)
//   {"type": "hello", "role": "transaction", "test_id": ID}
// followed directly by the first request. Connections with another test id are
// closed; a second client's control hello is told the server is busy.
//
// Bounded: at most kMaxResponderConnections open (more are closed at once), a
// connection idle for 60 s is closed, and the thread checks its stop flag at
// least every 100 ms.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/fd.hh"
#include "measure/net.hh"

namespace longhaul::measure {

inline constexpr std::size_t kMaxResponderConnections = 16384;

class TransactionResponder {
 public:
  struct Counts {
    std::uint64_t connections = 0;   ///< accepted with a valid hello
    std::uint64_t transactions = 0;  ///< responses sent in full
    std::uint64_t rejected = 0;      ///< closed for a bad hello, the wrong test or the limit
  };

  TransactionResponder(std::string test_id, std::uint32_t request_bytes,
                       std::uint32_t response_bytes);
  TransactionResponder(const TransactionResponder&) = delete;
  TransactionResponder& operator=(const TransactionResponder&) = delete;
  /// Stops the thread and closes every connection.
  ~TransactionResponder();

  void start();
  /// A connection just accepted: its hello is still to be read.
  void add(io::Fd fd);
  /// A connection whose hello was read and checked by the caller.
  void add_greeted(io::Fd fd);
  /// Stops within about 100 ms and closes every connection.
  void stop() noexcept;
  Counts counts() const;

 private:
  struct Connection;
  void run() noexcept;
  void take_new(int epoll_fd, std::vector<std::unique_ptr<Connection>>& table);
  /// Handles readiness; false when the connection is finished and must be closed.
  bool serve(Connection& connection);
  bool parse_hello(Connection& connection);
  bool write_responses(Connection& connection);

  std::string test_id_;
  std::uint32_t request_bytes_;
  std::uint32_t response_bytes_;
  std::vector<char> response_;
  io::Fd wake_;  ///< eventfd: new connections or stop
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::pair<io::Fd, bool>> incoming_;  ///< fd, greeted
  std::atomic<std::uint64_t> connections_{0}, transactions_{0}, rejected_{0};
};

}  // namespace longhaul::measure
