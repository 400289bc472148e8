#pragma once
// The control connection: framed JSON messages (frame_codec.hh) over TCP,
// every wait bounded by a deadline.
//
// Messages ("type" names them):
//   client -> server  hello {role: "control", schema, protocol, test_id, config}
//   client -> server  hello {role: "data", test_id, stream}   (first bytes of a data connection)
//   server -> client  accept {version} | error {message}
//   server -> client  start {server: socket report, warnings}  (all data connections are in)
//   server -> client  interval {interval}   (the server's side, each interval)
//   server -> client  done {error?}          (the server's streams have finished)
//   either way        abort {message}        (the test is being given up)
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "io/fd.hh"
#include "measure/net.hh"
#include "measure/transactions/frame_codec.hh"

namespace longhaul::measure {

class ControlChannel {
 public:
  /// Takes the connected socket; `peer` names it in errors.
  ControlChannel(io::Fd fd, std::string peer);

  int fd() const { return fd_.get(); }
  const std::string& peer() const { return peer_; }
  /// True once the peer closed the connection (or it broke).
  bool closed() const { return closed_; }

  /// Sends one message within 10 s; throws on failure.
  void send(const nlohmann::json& message);
  /// Sends without throwing (for goodbyes on a connection that may be gone).
  void send_quietly(const nlohmann::json& message) noexcept;
  /// Waits for the next message until `deadline`; empty on timeout. Throws when the
  /// peer closes, the connection breaks or the peer does not speak the protocol.
  std::optional<nlohmann::json> receive(SteadyTime deadline);
  /// Reads what is available now without blocking and returns the complete messages.
  /// On end of file sets closed(); throws on a broken connection or protocol error.
  std::vector<nlohmann::json> read_available();
  /// Half-closes (FIN), so the peer sees the end after everything sent.
  void shutdown_write() noexcept;

 private:
  bool fill_once();

  io::Fd fd_;
  std::string peer_;
  FrameReader reader_;
  bool closed_ = false;
};

/// Reads exactly one framed message from `fd` (nothing after it, so data that follows
/// stays in the socket) before `deadline`. Empty on timeout, end of file, error or a
/// frame that is not a JSON object: the connection is then useless.
std::optional<nlohmann::json> read_one_message(int fd, SteadyTime deadline);

/// The "type" of a message ("" when missing or not a string).
std::string message_type(const nlohmann::json& message);

}  // namespace longhaul::measure
