#pragma once
// AF_PACKET port on one interface; every frame is preceded by a 10-byte
// struct virtio_net_hdr (see engine/port.hh for its layout).
//
// Why PACKET_VNET_HDR: a veth hands over TCP segmentation-offload super-frames
// (up to 64 KiB) and frames whose checksum is still to be filled in
// (CHECKSUM_PARTIAL). The virtio header carries the GSO size and checksum
// offsets across user space, so the frame can be sent on unchanged and the
// kernel finishes it, instead of the emulator segmenting and checksumming
// every packet itself. See docs/architecture.md for the measurements.
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "io/fd.hh"

namespace longhaul::io {

class PacketSocket {
 public:
  enum class Role { receive, transmit };

  /// Opens a non-blocking socket bound to `ifname` in the calling thread's network
  /// namespace. A receiving socket ignores frames sent on the interface (our own
  /// transmissions) and gets a large buffer; a transmitting one bypasses the qdisc.
  static PacketSocket open(const std::string& ifname, Role role);

  int fd() const noexcept { return fd_.get(); }
  int ifindex() const noexcept { return ifindex_; }
  const std::string& name() const noexcept { return name_; }

  /// recvmmsg without blocking (a receiving socket attaches an SCM_TIMESTAMPNS control message,
  /// CLOCK_REALTIME, when the message has room for it): number of messages filled, 0 when none is
  /// waiting, -errno on a real error. Never throws.
  int receive(mmsghdr* messages, unsigned count) noexcept;
  /// sendmmsg without blocking: number of messages sent, 0 when the socket is
  /// full, -errno when the first message was refused. Never throws.
  int send(mmsghdr* messages, unsigned count) noexcept;
  /// Frames the kernel dropped because this socket's buffer was full, since the last call.
  std::uint64_t take_kernel_drops() noexcept;
  /// Puts the interface in promiscuous mode for as long as this socket is open (a
  /// PACKET_MR_PROMISC membership: the kernel counts it and undoes it when the socket closes,
  /// even if the process dies), so frames for other hosts' MAC addresses reach it. Bridge mode.
  void set_promiscuous();

 private:
  PacketSocket(Fd fd, int ifindex, std::string name)
      : fd_(std::move(fd)), ifindex_(ifindex), name_(std::move(name)) {}

  Fd fd_;
  int ifindex_ = 0;
  std::string name_;
};

}  // namespace longhaul::io
