#pragma once
// Per-direction counters. One thread (the direction's engine thread) writes,
// any thread may read a snapshot; single-writer relaxed load+store avoids the
// cost of atomic read-modify-write on the packet path.
//
// Units: "packets" are wire packets (a GSO super-frame of n segments counts n),
// "bytes" are the L2 bytes of those wire packets. They reconcile:
//   packets_in + packets_duplicated == packets_out + sum(dropped) + packets_queued
#include <array>
#include <atomic>
#include <cstdint>

#include "core/packet.hh"

namespace longhaul::core {

class RelaxedCounter {
 public:
  void add(std::uint64_t n) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(std::uint64_t n) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// Plain copy of the counters at one moment.
struct CountersSnapshot {
  std::uint64_t packets_in = 0, bytes_in = 0;
  std::uint64_t packets_out = 0, bytes_out = 0;
  std::uint64_t packets_queued = 0, bytes_queued = 0;
  std::array<std::uint64_t, kDropCauseCount> dropped_packets{};
  std::array<std::uint64_t, kDropCauseCount> dropped_bytes{};
  std::uint64_t frames_in = 0, frames_out = 0;  ///< port-level frames (super-frames count once)
  std::uint64_t packets_duplicated = 0, bytes_duplicated = 0;  ///< copies made by duplication

  std::uint64_t packets_dropped() const noexcept;
  std::uint64_t bytes_dropped() const noexcept;
  /// True when in + duplicated == out + dropped + queued for both packets and bytes.
  bool reconciles() const noexcept;
};

struct DirectionCounters {
  RelaxedCounter packets_in, bytes_in, packets_out, bytes_out, packets_queued, bytes_queued;
  std::array<RelaxedCounter, kDropCauseCount> dropped_packets, dropped_bytes;
  RelaxedCounter frames_in, frames_out;
  RelaxedCounter packets_duplicated, bytes_duplicated;

  /// Reads every counter (consistent when the writer is idle or stopped).
  CountersSnapshot snapshot() const noexcept;
};

}  // namespace longhaul::core
