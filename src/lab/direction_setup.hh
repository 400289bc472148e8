#pragma once
// One lane direction whose ports are packet sockets, as run, labs and bridge all build it.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/pipeline.hh"
#include "core/time.hh"
#include "engine/lane.hh"
#include "link/link_options.hh"

namespace longhaul::lab {

/// The direction `config` from interface `from` to interface `to`, with buffers sized from its
/// rate × delay (`assumed_rate_bps` when it has no rate). The sockets are opened in the calling
/// thread's network namespace: call it inside io::run_in_netns (or on the thread that owns the
/// interfaces). `promiscuous`: receive frames addressed to other MACs (appliance mode).
/// With --mtu-icmp, replies leave through a second socket on `from`, back toward the sender.
engine::DirectionSetup socket_direction(const core::DirectionConfig& config,
                                        std::uint64_t assumed_rate_bps, core::Nanos spin,
                                        const std::string& from, const std::string& to,
                                        bool promiscuous = false);

/// Which kind of socket a run's ports use (--port).
enum class PortKind {
  packet,  ///< AF_PACKET with virtio-net headers: keeps TSO/GSO, the default
  xdp,     ///< AF_XDP copy mode: more packets per second, no segmentation or checksum offload
};

/// "packet" or "xdp", as --port spells it and the JSON reports say it.
inline const char* port_name(PortKind kind) {
  return kind == PortKind::xdp ? "xdp" : "packet";
}

/// An emulated MTU (--mtu, a lane's mtu) above what an AF_XDP port carries (io::kXdpMaxMtu: a
/// veth with XDP attached takes frames up to one page), if either direction of `link` has one.
/// Such an MTU is a contradiction, not a limit to emulate: larger packets could never cross.
std::optional<std::uint32_t> mtu_beyond_xdp(const link::LinkSpec& link);

/// Both directions between interfaces `a` and `b` over AF_XDP: `a_to_b` reads `a` and writes
/// `b`, `b_to_a` the other way; each interface gets one socket that the direction reading it and
/// the direction writing it share. Call it in the interfaces' namespace, like socket_direction.
/// `promiscuous`: both interfaces receive frames addressed to other MACs while the ports exist
/// (appliance mode on NICs; a veth passes every frame to XDP anyway).
/// Throws io::SystemError naming the call and the interface when XDP cannot attach.
std::pair<engine::DirectionSetup, engine::DirectionSetup> xsk_directions(
    const core::DirectionConfig& a_to_b, const core::DirectionConfig& b_to_a,
    std::uint64_t assumed_rate_bps, core::Nanos spin, const std::string& a, const std::string& b,
    bool promiscuous = false);

/// Where a lane's two directions read and write: interfaces `a` and `b` (up is a → b), the kind
/// of socket, the namespace that holds the interfaces (-1: the calling thread's), and whether
/// they receive frames addressed to other MACs.
struct LanePorts {
  std::string a, b;
  PortKind kind = PortKind::packet;
  int netns_fd = -1;
  bool promiscuous = false;
};

/// The lane `up` and `down` run over `ports`, as run, labs and bridge build it: both directions'
/// sockets opened in the interfaces' namespace, one AF_XDP socket per interface shared by the two
/// directions, or a packet socket per direction.
std::unique_ptr<engine::Lane> make_lane(const core::DirectionConfig& up,
                                        const core::DirectionConfig& down, const LanePorts& ports,
                                        std::uint64_t assumed_rate_bps, core::Nanos spin,
                                        const engine::Clock& clock);

}  // namespace longhaul::lab
