#include "lab/direction_setup.hh"

#include "engine/socket_ports.hh"
#include "io/packet_socket.hh"
#include "lab/link_options.hh"

namespace longhaul::lab {

engine::DirectionSetup socket_direction(const core::DirectionConfig& config,
                                        std::uint64_t assumed_rate_bps, core::Nanos spin,
                                        const std::string& from, const std::string& to,
                                        bool promiscuous) {
  engine::DirectionSetup setup;
  setup.config = config;
  const BufferPlan plan = plan_buffers(config, assumed_rate_bps);
  setup.options.arena_bytes = plan.arena_bytes;
  setup.options.capacity_packets = plan.capacity_packets;
  setup.options.spin = spin;
  auto ingress = io::PacketSocket::open(from, io::PacketSocket::Role::receive);
  if (promiscuous) ingress.set_promiscuous();
  setup.ingress = std::make_unique<engine::SocketIngress>(std::move(ingress));
  setup.egress = std::make_unique<engine::SocketEgress>(
      io::PacketSocket::open(to, io::PacketSocket::Role::transmit));
  if (config.mtu_icmp) {
    setup.reply = std::make_unique<engine::SocketEgress>(
        io::PacketSocket::open(from, io::PacketSocket::Role::transmit));
  }
  return setup;
}

}  // namespace longhaul::lab
