#pragma once
// AF_XDP socket (copy mode, native XDP) on one interface, with its own UMEM. One socket carries
// both ways: its receive side (RX and fill rings, first half of the UMEM) belongs to the thread
// that reads the interface, its transmit side (TX and completion rings, second half) to the
// thread that writes it. The kernel allows one UMEM-owning socket per interface queue, and the
// lane's two directions each use the interface one way, so the halves are split by thread and
// no ring is ever touched by two threads.
//
// Why AF_XDP: for small frames it forwards about twice the packets per second of AF_PACKET on a
// veth (docs/performance.md). What it loses: XDP cannot carry GSO super-frames or the "checksum
// still to be filled in" state, so senders must segment and checksum themselves (see
// docs/run.md, --port xdp).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace longhaul::io {

/// Largest L3 MTU a veth accepts while an XDP program is attached (4 KiB pages).
inline constexpr unsigned kXdpMaxMtu = 3506;

class XskSocket {
 public:
  /// A received frame, valid until release_received().
  struct Frame {
    const std::byte* data = nullptr;
    std::uint32_t length = 0;
  };

  /// Attaches libxdp's default redirect program to `ifname` (native XDP, queue 0) in the calling
  /// thread's network namespace and binds a copy-mode socket to it. Throws SystemError naming the
  /// failing call and the interface.
  static std::unique_ptr<XskSocket> open(const std::string& ifname);
  ~XskSocket();
  XskSocket(const XskSocket&) = delete;
  XskSocket& operator=(const XskSocket&) = delete;

  int fd() const noexcept;
  const std::string& name() const noexcept { return name_; }

  // Receive side (one thread). Never throw.
  /// Up to out.size() received frames; each stays valid until release_received().
  std::size_t peek_received(std::span<Frame> out) noexcept;
  /// Gives the frames of the last peek back to the kernel's fill ring.
  void release_received(std::size_t count) noexcept;
  /// Frames the kernel dropped for want of ring or buffer room, since the last call.
  std::uint64_t take_receive_drops() noexcept;

  // Transmit side (one thread). Never throw.
  /// Largest frame a transmit buffer holds.
  static std::uint32_t max_transmit_bytes() noexcept;
  /// Reserves up to `wanted` transmit buffers (fewer when the ring or the pool is short).
  std::uint32_t reserve_transmit(std::uint32_t wanted) noexcept;
  /// Buffer `index` (< the last reservation) to copy a frame into.
  std::byte* transmit_buffer(std::uint32_t index) noexcept;
  /// Queues the first `count` reserved buffers with their lengths; the rest are given back.
  void submit_transmit(std::span<const std::uint32_t> lengths) noexcept;
  /// Makes the kernel send what the TX ring holds (copy mode sends only inside sendto, at most
  /// 32 frames per call), a bounded number of times; returns frames still waiting in the ring.
  std::uint32_t kick_transmit() noexcept;
  /// Frames queued in the TX ring that the kernel has not taken yet.
  std::uint32_t transmit_waiting() const noexcept;

 private:
  struct State;
  explicit XskSocket(std::string name);
  std::string name_;
  std::unique_ptr<State> state_;
};

}  // namespace longhaul::io
