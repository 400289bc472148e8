#pragma once
// The calling thread's scheduler statistics (/proc/thread-self/schedstat): how long it ran and
// how long it was runnable but waited on a run queue. The engine reads them to tell whether a
// late release was its thread waiting for a CPU.
#include <optional>

#include "core/time.hh"
#include "io/fd.hh"

namespace longhaul::io {

struct SchedulerTimes {
  core::Nanos running{0};  ///< time on a CPU
  core::Nanos waiting{0};  ///< time runnable, waiting for a CPU (run-queue delay)
};

/// Parses the first two fields of a schedstat line ("RUN_NS WAIT_NS SLICES"); nullopt when
/// malformed. Pure.
std::optional<SchedulerTimes> parse_schedstat(const char* text) noexcept;

class ThreadSchedstat {
 public:
  /// Reads nothing (read() returns nullopt) until replaced by for_this_thread().
  ThreadSchedstat() = default;
  /// Opens the calling thread's statistics; when the kernel has none (no CONFIG_SCHEDSTATS /
  /// SCHED_INFO), read() returns nullopt. Never throws.
  static ThreadSchedstat for_this_thread() noexcept;
  /// The thread's times so far: one pread, no allocation; nullopt when not available.
  std::optional<SchedulerTimes> read() const noexcept;

 private:
  explicit ThreadSchedstat(Fd fd) noexcept : fd_(std::move(fd)) {}
  Fd fd_;
};

}  // namespace longhaul::io
