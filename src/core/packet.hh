#pragma once
// Packet metadata as the models see it. The bytes live in a BufferArena; the
// pipeline moves this small value type between fixed-capacity rings, so the
// packet path never allocates.
#include <cstdint>

#include "core/time.hh"

namespace longhaul::core {

/// Handle of a frame's bytes inside a BufferArena.
using BufferHandle = std::uint32_t;

struct Packet {
  Nanos ts{0};              ///< exact (virtual) time the packet entered its current stage
  std::uint64_t seq = 0;    ///< arrival order in this direction, from 0
  BufferHandle buffer = 0;  ///< where the frame's bytes are
  std::uint32_t frame_bytes =
      0;                         ///< L2 frame as handed over by the port (may be a GSO super-frame)
  std::uint32_t wire_bytes = 0;  ///< bytes on the wire for all its wire packets, overhead included
  std::uint32_t l2_bytes = 0;  ///< L2 bytes of all its wire packets (headers repeated per segment)
  std::uint16_t segments = 1;  ///< MTU-sized wire packets this frame stands for
};

/// Why a packet did not come out. Counted separately so counters reconcile.
enum class DropCause : std::uint8_t {
  queue_full,        ///< bottleneck queue limit reached (configured behaviour)
  loss,              ///< loss model decided so (configured behaviour)
  malformed,         ///< truncated, oversized or unparsable frame
  buffer_exhausted,  ///< emulator ran out of packet buffer (a sizing problem, never configured)
  tx_error,          ///< the egress port refused the frame
  aqm,               ///< the queue discipline dropped it early (RED, CoDel, PIE, drop-head)
  mtu,               ///< larger than the direction's MTU (configured behaviour)
};
inline constexpr int kDropCauseCount = 7;

/// Stable lower-case name of a drop cause, used in tables and JSON.
const char* drop_cause_name(DropCause cause) noexcept;

}  // namespace longhaul::core
