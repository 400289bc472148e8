#include "lab/direction_setup.hh"

#include "engine/socket_ports.hh"
#include "engine/xsk_ports.hh"
#include "io/netns.hh"
#include "io/packet_socket.hh"
#include "io/xsk_socket.hh"
#include "link/link_options.hh"

namespace longhaul::lab {

namespace {

engine::DirectionSetup sized_setup(const core::DirectionConfig& config,
                                   std::uint64_t assumed_rate_bps, core::Nanos spin) {
  engine::DirectionSetup setup;
  setup.config = config;
  const link::BufferPlan plan = link::plan_buffers(config, assumed_rate_bps);
  setup.options.arena_bytes = plan.arena_bytes;
  setup.options.capacity_packets = plan.capacity_packets;
  setup.options.spin = spin;
  return setup;
}

void add_reply_port(engine::DirectionSetup& setup, const std::string& from) {
  if (!setup.config.mtu_icmp) return;
  setup.reply = std::make_unique<engine::SocketEgress>(
      io::PacketSocket::open(from, io::PacketSocket::Role::transmit));
}

}  // namespace

engine::DirectionSetup socket_direction(const core::DirectionConfig& config,
                                        std::uint64_t assumed_rate_bps, core::Nanos spin,
                                        const std::string& from, const std::string& to,
                                        bool promiscuous) {
  engine::DirectionSetup setup = sized_setup(config, assumed_rate_bps, spin);
  auto ingress = io::PacketSocket::open(from, io::PacketSocket::Role::receive);
  if (promiscuous) ingress.set_promiscuous();
  setup.ingress = std::make_unique<engine::SocketIngress>(std::move(ingress));
  setup.egress = std::make_unique<engine::SocketEgress>(
      io::PacketSocket::open(to, io::PacketSocket::Role::transmit));
  add_reply_port(setup, from);
  return setup;
}

std::optional<std::uint32_t> mtu_beyond_xdp(const link::LinkSpec& link) {
  for (const auto* config : {&link.up, &link.down}) {
    if (config->mtu_bytes > io::kXdpMaxMtu) return config->mtu_bytes;
  }
  return std::nullopt;
}

std::pair<engine::DirectionSetup, engine::DirectionSetup> xsk_directions(
    const core::DirectionConfig& a_to_b, const core::DirectionConfig& b_to_a,
    std::uint64_t assumed_rate_bps, core::Nanos spin, const std::string& a, const std::string& b,
    bool promiscuous) {
  // A NIC filters by destination MAC before XDP sees a frame; a packet socket that receives
  // nothing holds promiscuous mode, and the kernel drops it when the socket closes.
  const auto promiscuity = [&](const std::string& ifname) -> std::optional<io::PacketSocket> {
    if (!promiscuous) return std::nullopt;
    auto holder = io::PacketSocket::open(ifname, io::PacketSocket::Role::transmit);
    holder.set_promiscuous();
    return holder;
  };
  std::shared_ptr<io::XskSocket> socket_a = io::XskSocket::open(a);
  std::shared_ptr<io::XskSocket> socket_b = io::XskSocket::open(b);
  engine::DirectionSetup forward = sized_setup(a_to_b, assumed_rate_bps, spin);
  forward.ingress = std::make_unique<engine::XskIngress>(socket_a, promiscuity(a));
  forward.egress = std::make_unique<engine::XskEgress>(socket_b);
  // ICMP replies are rare: an AF_PACKET socket transmits fine beside the XDP program.
  add_reply_port(forward, a);
  engine::DirectionSetup backward = sized_setup(b_to_a, assumed_rate_bps, spin);
  backward.ingress = std::make_unique<engine::XskIngress>(socket_b, promiscuity(b));
  backward.egress = std::make_unique<engine::XskEgress>(socket_a);
  add_reply_port(backward, b);
  return {std::move(forward), std::move(backward)};
}

namespace {

template <class F>
auto in_namespace(int netns_fd, F&& fn) {
  if (netns_fd < 0) return fn();
  return io::run_in_netns(netns_fd, std::forward<F>(fn));
}

}  // namespace

std::unique_ptr<engine::Lane> make_lane(const core::DirectionConfig& up,
                                        const core::DirectionConfig& down, const LanePorts& ports,
                                        std::uint64_t assumed_rate_bps, core::Nanos spin,
                                        const engine::Clock& clock) {
  if (ports.kind == PortKind::xdp) {
    auto [a_to_b, b_to_a] = in_namespace(ports.netns_fd, [&] {
      return xsk_directions(up, down, assumed_rate_bps, spin, ports.a, ports.b, ports.promiscuous);
    });
    return std::make_unique<engine::Lane>(std::move(a_to_b), std::move(b_to_a), clock);
  }
  auto a_to_b = in_namespace(ports.netns_fd, [&] {
    return socket_direction(up, assumed_rate_bps, spin, ports.a, ports.b, ports.promiscuous);
  });
  auto b_to_a = in_namespace(ports.netns_fd, [&] {
    return socket_direction(down, assumed_rate_bps, spin, ports.b, ports.a, ports.promiscuous);
  });
  return std::make_unique<engine::Lane>(std::move(a_to_b), std::move(b_to_a), clock);
}

}  // namespace longhaul::lab
