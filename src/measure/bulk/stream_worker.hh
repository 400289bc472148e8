#pragma once
// One data connection's thread: a sender writes until its deadline or byte
// count, half-closes and waits until the receiver has read everything and
// closed; a receiver reads until end of file and half-closes.
//
// Why every loop ends: the socket has 100 ms send/receive timeouts, so each
// blocking call returns at least that often to check the stop flag, the
// deadline and the idle limit (kIdleTimeout without any progress: the peer is
// gone). The socket stays open until the worker is destroyed, so the sampling
// thread can read TCP_INFO from it at any time without racing a close.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "io/fd.hh"
#include "measure/bench_config.hh"
#include "measure/bulk/tcp_sample.hh"
#include "measure/net.hh"

namespace longhaul::measure {

class StreamWorker {
 public:
  struct Plan {
    Role role = Role::sender;
    SteadyTime send_until{};       ///< senders stop writing here
    std::uint64_t byte_limit = 0;  ///< senders stop after this many bytes (0: none)
    Nanos idle_timeout = kIdleTimeout;
  };

  /// Takes the connected socket; `payload` (shared, read-only) is what senders write.
  StreamWorker(io::Fd fd, Plan plan, std::shared_ptr<const std::vector<std::byte>> payload);
  StreamWorker(const StreamWorker&) = delete;
  StreamWorker& operator=(const StreamWorker&) = delete;
  /// Stops and joins the thread.
  ~StreamWorker();

  /// Moves the senders' deadline (before start(): the test's start time is known late).
  void set_send_until(SteadyTime until) { plan_.send_until = until; }
  /// Starts the thread.
  void start();
  /// Asks the thread to stop early (within about 100 ms).
  void request_stop() noexcept { stop_.store(true, std::memory_order_relaxed); }
  /// Waits for the thread to end.
  void join();

  int fd() const { return fd_.get(); }
  Role role() const { return plan_.role; }
  /// Bytes written (sender) or read (receiver) so far.
  std::uint64_t app_bytes() const { return bytes_.load(std::memory_order_relaxed); }
  /// True once the thread has finished; the fields below are then valid.
  bool done() const { return done_.load(std::memory_order_acquire); }
  SteadyTime finished_at() const { return finished_at_; }
  const std::optional<TcpInfoSample>& final_info() const { return final_info_; }
  /// Empty when the stream ended normally.
  const std::string& error() const { return error_; }

 private:
  void run() noexcept;
  void send_phase();
  void drain_phase();
  void receive_phase();

  io::Fd fd_;
  Plan plan_;
  std::shared_ptr<const std::vector<std::byte>> payload_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<bool> done_{false};
  SteadyTime finished_at_{};
  std::optional<TcpInfoSample> final_info_;
  std::string error_;
};

/// Payload for senders: `size` bytes from a generator seeded with `seed` (incompressible,
/// and the same for the same seed).
std::shared_ptr<const std::vector<std::byte>> make_payload(std::uint64_t seed, std::size_t size);

}  // namespace longhaul::measure
