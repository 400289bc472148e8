#include "core/counters.hh"

#include <numeric>

namespace longhaul::core {

std::uint64_t CountersSnapshot::packets_dropped() const noexcept {
  return std::accumulate(dropped_packets.begin(), dropped_packets.end(), std::uint64_t{0});
}

std::uint64_t CountersSnapshot::bytes_dropped() const noexcept {
  return std::accumulate(dropped_bytes.begin(), dropped_bytes.end(), std::uint64_t{0});
}

bool CountersSnapshot::reconciles() const noexcept {
  return packets_in + packets_duplicated == packets_out + packets_dropped() + packets_queued &&
         bytes_in + bytes_duplicated == bytes_out + bytes_dropped() + bytes_queued;
}

CountersSnapshot DirectionCounters::snapshot() const noexcept {
  CountersSnapshot s;
  s.packets_in = packets_in.get();
  s.bytes_in = bytes_in.get();
  s.packets_out = packets_out.get();
  s.bytes_out = bytes_out.get();
  s.packets_queued = packets_queued.get();
  s.bytes_queued = bytes_queued.get();
  for (int i = 0; i < kDropCauseCount; ++i) {
    s.dropped_packets[static_cast<std::size_t>(i)] =
        dropped_packets[static_cast<std::size_t>(i)].get();
    s.dropped_bytes[static_cast<std::size_t>(i)] = dropped_bytes[static_cast<std::size_t>(i)].get();
  }
  s.frames_in = frames_in.get();
  s.frames_out = frames_out.get();
  s.packets_duplicated = packets_duplicated.get();
  s.bytes_duplicated = bytes_duplicated.get();
  return s;
}

}  // namespace longhaul::core
