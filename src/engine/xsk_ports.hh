#pragma once
// IngressPort / EgressPort over one AF_XDP socket per interface (io/xsk_socket.hh). The ingress
// of one lane direction and the egress of the other share the socket of their interface; each
// uses only its own side of it.
#include <array>
#include <memory>
#include <optional>

#include "engine/port.hh"
#include "engine/socket_ports.hh"
#include "io/packet_socket.hh"
#include "io/xsk_socket.hh"

namespace longhaul::engine {

class XskIngress final : public IngressPort {
 public:
  /// `promiscuity`, when given, is a packet socket holding the interface in promiscuous mode for
  /// as long as this port exists (appliance mode).
  explicit XskIngress(std::shared_ptr<io::XskSocket> socket,
                      std::optional<io::PacketSocket> promiscuity = std::nullopt)
      : socket_(std::move(socket)), promiscuity_(std::move(promiscuity)) {}
  /// Frames arrive without offload state (XDP sees finished wire frames) and without a kernel
  /// stamp: the header is all zeros and `arrived` is 0.
  std::size_t receive(std::span<RxSlot> slots) noexcept override;
  int wait_fd() const noexcept override { return socket_->fd(); }
  std::uint64_t take_lost_before_ingress() noexcept override {
    return socket_->take_receive_drops();
  }

 private:
  std::shared_ptr<io::XskSocket> socket_;
  std::optional<io::PacketSocket> promiscuity_;
  std::array<io::XskSocket::Frame, kMaxBatch> frames_{};
};

class XskEgress final : public EgressPort {
 public:
  explicit XskEgress(std::shared_ptr<io::XskSocket> socket) : socket_(std::move(socket)) {}
  /// Refuses GSO super-frames and frames larger than a UMEM chunk; completes a checksum left to
  /// offload in software, since XDP transmit has no offloads.
  SendResult send(std::span<const TxFrame> frames) noexcept override;
  int wait_fd() const noexcept override { return socket_->fd(); }

 private:
  std::shared_ptr<io::XskSocket> socket_;
  // Frames at the front of the engine's batch that sit in the TX ring, not yet taken by the
  // kernel. They are reported as sent only once taken, so the engine offers them again (and
  // calls again, kicking the ring) instead of leaving them stranded when its queue runs empty.
  std::size_t in_ring_ = 0;
  std::array<std::uint32_t, kMaxBatch> lengths_{};
};

}  // namespace longhaul::engine
