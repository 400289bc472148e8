#pragma once
// A lane: two directions between two ports, each on its own thread.
#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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

/// Where the lane-direction threads run. Empty `cpus`: wherever the scheduler likes.
struct ThreadPlacement {
  std::vector<int> cpus;      ///< thread k of a lab runs on cpus[k % size]
  int realtime_priority = 0;  ///< > 0: SCHED_FIFO at this priority (1..99)
};

class Lane {
 public:
  /// Builds both directions (allocating their buffers); threads start with start().
  Lane(DirectionSetup up, DirectionSetup down, const Clock& clock);
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;
  /// Stops and joins the threads if still running.
  ~Lane();

  /// Starts one thread per direction; with a placement, direction d (0 up, 1 down) runs on
  /// placement.cpus[(first_slot + d) % size]. Throws SystemError (threads stopped) when the
  /// kernel refuses the placement.
  void start(const ThreadPlacement& placement = {}, std::size_t first_slot = 0);
  /// Asks both threads to finish and waits for them; idempotent, never throws.
  void stop() noexcept;

  const DirectionWorker& worker(Direction direction) const noexcept {
    return *directions_[static_cast<std::size_t>(direction)].worker;
  }
  /// Hands a live change to a direction's thread (callers serialise: one producer at a time).
  /// False when its mailbox is full.
  bool post(Direction direction, const core::LiveChange& change) noexcept {
    return directions_[static_cast<std::size_t>(direction)].worker->mailbox().post(change);
  }
  /// True when post() to `direction` would succeed (with one producer at a time).
  bool can_post(Direction direction) const noexcept {
    return directions_[static_cast<std::size_t>(direction)].worker->mailbox().has_room();
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
