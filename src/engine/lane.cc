#include "engine/lane.hh"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <string>

#include "io/error.hh"

namespace longhaul::engine {

const char* direction_name(Direction direction) noexcept {
  return direction == Direction::up ? "up" : "down";
}

Lane::Lane(DirectionSetup up, DirectionSetup down, const Clock& clock)
    : stop_event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!stop_event_.valid()) io::throw_errno("eventfd", "lane stop event");
  directions_[0].setup = std::move(up);
  directions_[1].setup = std::move(down);
  for (auto& direction : directions_) {
    direction.counters = std::make_unique<core::DirectionCounters>();
    direction.worker = std::make_unique<DirectionWorker>(
        direction.setup.config, direction.setup.options, *direction.setup.ingress,
        *direction.setup.egress, clock, *direction.counters, direction.setup.reply.get());
  }
}

Lane::~Lane() {
  stop();
}

void Lane::start(const ThreadPlacement& placement, std::size_t first_slot) {
  for (std::size_t d = 0; d < directions_.size(); ++d) {
    auto& direction = directions_[d];
    DirectionWorker* worker = direction.worker.get();
    const int stop_fd = stop_event_.get();
    direction.thread = std::thread([this, worker, stop_fd] { worker->run(stop_fd, stopping_); });
    // Placed from here, not from inside the thread, so a refusal is an error of start().
    const pthread_t handle = direction.thread.native_handle();
    int error = 0;
    std::string what;
    if (!placement.cpus.empty()) {
      const int cpu = placement.cpus[(first_slot + d) % placement.cpus.size()];
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(static_cast<std::size_t>(cpu), &set);
      error = ::pthread_setaffinity_np(handle, sizeof set, &set);
      what = "CPU " + std::to_string(cpu);
    }
    if (error == 0 && placement.realtime_priority > 0) {
      sched_param param{};
      param.sched_priority = placement.realtime_priority;
      error = ::pthread_setschedparam(handle, SCHED_FIFO, &param);
      what = "SCHED_FIFO priority " + std::to_string(placement.realtime_priority);
    }
    if (error != 0) {
      stop();
      io::throw_error(
          "pthread_setaffinity_np/pthread_setschedparam",
          std::string(direction_name(static_cast<Direction>(d))) + " direction thread on " + what,
          error);
    }
  }
}

void Lane::stop() noexcept {
  stopping_.store(true, std::memory_order_relaxed);
  const std::uint64_t one = 1;
  if (stop_event_.valid()) {
    [[maybe_unused]] const auto written = ::write(stop_event_.get(), &one, sizeof one);
  }
  for (auto& direction : directions_) {
    if (direction.thread.joinable()) direction.thread.join();
  }
}

}  // namespace longhaul::engine
