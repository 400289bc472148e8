#pragma once
// IngressPort / EgressPort over AF_PACKET sockets, batched with recvmmsg/sendmmsg.
#include <sys/socket.h>
#include <time.h>

#include <array>
#include <vector>

#include "engine/port.hh"
#include "engine/stamp_clock.hh"
#include "io/packet_socket.hh"

namespace longhaul::engine {

inline constexpr std::size_t kMaxBatch = 64;

class SocketIngress final : public IngressPort {
 public:
  explicit SocketIngress(io::PacketSocket socket) : socket_(std::move(socket)) {}
  std::size_t receive(std::span<RxSlot> slots) noexcept override;
  int wait_fd() const noexcept override { return socket_.fd(); }
  std::uint64_t take_lost_before_ingress() noexcept override { return socket_.take_kernel_drops(); }

 private:
  // Room for one SCM_TIMESTAMPNS control message per frame.
  struct alignas(cmsghdr) Control {
    std::byte bytes[CMSG_SPACE(sizeof(timespec))];
  };

  io::PacketSocket socket_;
  RealtimeStamps stamps_;
  std::array<mmsghdr, kMaxBatch> messages_{};
  std::array<iovec, kMaxBatch> iovecs_{};
  std::array<Control, kMaxBatch> controls_{};
};

class SocketEgress final : public EgressPort {
 public:
  explicit SocketEgress(io::PacketSocket socket) : socket_(std::move(socket)) {}
  SendResult send(std::span<const TxFrame> frames) noexcept override;
  int wait_fd() const noexcept override { return socket_.fd(); }

 private:
  io::PacketSocket socket_;
  std::array<mmsghdr, kMaxBatch> messages_{};
  std::array<iovec, kMaxBatch> iovecs_{};
};

}  // namespace longhaul::engine
