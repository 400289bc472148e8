#include "engine/lane.hh"

#include <sys/eventfd.h>
#include <unistd.h>

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

void Lane::start() {
  for (auto& direction : directions_) {
    DirectionWorker* worker = direction.worker.get();
    const int stop_fd = stop_event_.get();
    direction.thread = std::thread([this, worker, stop_fd] { worker->run(stop_fd, stopping_); });
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
