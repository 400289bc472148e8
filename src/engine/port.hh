#pragma once
// What the engine needs from a port: batched, non-blocking receive and send of
// frames, each preceded by a virtio-net header. Real ports wrap AF_PACKET
// sockets; benchmarks and tests use synthetic ones.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/time.hh"

namespace longhaul::engine {

using core::Nanos;

/// The virtio-net header that precedes each frame (struct virtio_net_hdr;
/// <linux/virtio_net.h> itself does not compile as C++). Host byte order.
struct VnetHeader {
  std::uint8_t flags;
  std::uint8_t gso_type;
  std::uint16_t hdr_len;
  std::uint16_t gso_size;
  std::uint16_t csum_start;
  std::uint16_t csum_offset;
};
inline constexpr std::uint8_t kVnetGsoNone = 0;
inline constexpr std::uint8_t kVnetGsoEcn = 0x80;
/// VIRTIO_NET_HDR_F_NEEDS_CSUM: the transport checksum is still to be completed from csum_start.
inline constexpr std::uint8_t kVnetNeedsChecksum = 1;

/// Bytes of the virtio-net header that precedes each frame.
inline constexpr std::size_t kVnetHeaderBytes = sizeof(VnetHeader);
static_assert(kVnetHeaderBytes == 10);
/// Largest frame a port hands over: a 64 KiB GSO super-frame plus L2 headers.
inline constexpr std::size_t kMaxFrameBytes = 65536 + 64;

/// A receive buffer: [vnet header][frame], filled by the port.
struct RxSlot {
  std::byte* buffer = nullptr;  ///< capacity kVnetHeaderBytes + kMaxFrameBytes
  std::uint32_t length = 0;     ///< header + frame bytes received
  bool truncated = false;       ///< the frame was larger than the buffer
  /// When the kernel received the frame, on the engine's clock (CLOCK_MONOTONIC); 0 when the
  /// port has no such stamp. Lets the engine measure delay from the true arrival, not from
  /// when its thread woke up to read the frame.
  Nanos arrived{0};
};

/// A frame to send: [vnet header][frame], contiguous.
struct TxFrame {
  const std::byte* data = nullptr;
  std::uint32_t length = 0;
};

class IngressPort {
 public:
  virtual ~IngressPort() = default;
  /// Fills up to slots.size() slots without blocking; returns how many (0 = none waiting).
  virtual std::size_t receive(std::span<RxSlot> slots) noexcept = 0;
  /// A descriptor that polls readable when frames wait; -1 if the port cannot block.
  virtual int wait_fd() const noexcept = 0;
  /// Frames lost before the engine saw them (kernel buffer overflow), since the last call.
  virtual std::uint64_t take_lost_before_ingress() noexcept { return 0; }
};

class EgressPort {
 public:
  virtual ~EgressPort() = default;
  /// Result of a batched send.
  struct SendResult {
    std::size_t sent = 0;  ///< frames accepted, from the front of the batch
    bool refused = false;  ///< the next frame was rejected for good (count it, move on)
  };
  /// Sends from the front of `frames` without blocking; sent < size with !refused means "full,
  /// retry later".
  virtual SendResult send(std::span<const TxFrame> frames) noexcept = 0;
  /// A descriptor that polls writable when sending can resume; -1 if none.
  virtual int wait_fd() const noexcept = 0;
};

}  // namespace longhaul::engine
