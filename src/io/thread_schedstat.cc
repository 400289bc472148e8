#include "io/thread_schedstat.hh"

#include <fcntl.h>

#include <cstdlib>

namespace longhaul::io {

std::optional<SchedulerTimes> parse_schedstat(const char* text) noexcept {
  char* end = nullptr;
  const unsigned long long running = std::strtoull(text, &end, 10);
  if (end == text || *end != ' ') return std::nullopt;
  const char* second = end + 1;
  const unsigned long long waiting = std::strtoull(second, &end, 10);
  if (end == second) return std::nullopt;
  return SchedulerTimes{core::Nanos{static_cast<std::int64_t>(running)},
                        core::Nanos{static_cast<std::int64_t>(waiting)}};
}

ThreadSchedstat ThreadSchedstat::for_this_thread() noexcept {
  return ThreadSchedstat(Fd(::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)));
}

std::optional<SchedulerTimes> ThreadSchedstat::read() const noexcept {
  if (!fd_.valid()) return std::nullopt;
  char text[128];
  const ssize_t got = ::pread(fd_.get(), text, sizeof text - 1, 0);
  if (got <= 0) return std::nullopt;
  text[got] = '\0';
  return parse_schedstat(text);
}

}  // namespace longhaul::io
