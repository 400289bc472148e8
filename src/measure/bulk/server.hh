#pragma once
// `longhaul bench server`: listens on one TCP port for control and data
// connections, runs one test at a time (a client arriving meanwhile is told
// the server is busy), sends its side's intervals to the client as they
// complete, and reports each test to an observer.
#include <cstdint>
#include <optional>
#include <string>

#include "io/fd.hh"
#include "measure/bench_config.hh"
#include "measure/bulk/control_channel.hh"
#include "measure/report/reporter.hh"

namespace longhaul::measure {

struct ServerOptions {
  std::optional<std::string> bind_address;  ///< empty: every address (IPv6 and IPv4)
  std::uint16_t port = kDefaultPort;        ///< 0: any free port (see BenchServer::port)
  bool once = false;                        ///< exit after one test
  std::string version = "longhaul";
  Nanos setup_timeout = std::chrono::seconds(10);  ///< for hellos and data connections
  int interrupt_fd = -1;  ///< readable when the server should stop (a SignalWatch)
};

class BenchServer {
 public:
  /// Opens the listening socket (throws naming the port when it cannot).
  explicit BenchServer(ServerOptions options);

  /// The port listened on.
  std::uint16_t port() const { return port_; }
  /// Serves tests until interrupted, or until one test has run with `once`. Returns 0,
  /// or 1 when the --once test failed.
  int serve(BenchObserver& observer);

 private:
  /// Runs the test a client asked for on `control`: true when it succeeded, false when
  /// it failed, empty when the connection was not a client asking for a test.
  std::optional<bool> run_test(io::Fd control, BenchObserver& observer);
  /// Serves a `bench rr` or `bench churn` test whose hello is `hello`: answers
  /// transaction connections until the client says it has finished. Empty when it
  /// succeeded and the client announced a second part (that one counts for --once).
  std::optional<bool> run_transaction_test(ControlChannel& control, const nlohmann::json& hello,
                                           BenchObserver& observer);
  /// Tells a connection that arrived during a test that we are busy, and closes it.
  void refuse_busy(io::Fd connection) noexcept;
  bool interrupted() const;

  ServerOptions options_;
  io::Fd listener_;
  std::uint16_t port_ = 0;
  bool stop_ = false;
};

}  // namespace longhaul::measure
