#pragma once
// A lane: two directions between two ports, each on its own thread.
#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "engine/direction_worker.hh"
#include "io/fd.hh"

namespace longhaul::engine {

enum class Direction { up = 0, down = 1 };
/// "up" or "down".
const char* direction_name(Direction direction) noexcept;

/// Everything one direction needs: its model, its sizing and its ports.
struct DirectionSetup {
  core::DirectionConfig config;
  WorkerOptions options;
  std::unique_ptr<IngressPort> ingress;
  std::unique_ptr<EgressPort> egress;
  /// Transmits on the ingress interface, back toward the senders: ICMP "too
  /// big" replies for the MTU (config.mtu_icmp). Optional.
  std::unique_ptr<EgressPort> reply;
};

class Lane {
 public:
  /// Builds both directions (allocating their buffers); threads start with start().
  Lane(DirectionSetup up, DirectionSetup down, const Clock& clock);
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;
  /// Stops and joins the threads if still running.
  ~Lane();

  /// Starts one thread per direction.
  void start();
  /// Asks both threads to finish and waits for them; idempotent, never throws.
  void stop() noexcept;

  const DirectionWorker& worker(Direction direction) const noexcept {
    return *directions_[static_cast<std::size_t>(direction)].worker;
  }
  core::CountersSnapshot counters(Direction direction) const noexcept {
    return directions_[static_cast<std::size_t>(direction)].counters->snapshot();
  }

 private:
  struct Running {
    DirectionSetup setup;
    std::unique_ptr<core::DirectionCounters> counters;
    std::unique_ptr<DirectionWorker> worker;
    std::thread thread;
  };
  std::array<Running, 2> directions_;
  io::Fd stop_event_;                  // wakes sleeping threads
  std::atomic<bool> stopping_{false};  // seen by threads that busy-poll
};

}  // namespace longhaul::engine
