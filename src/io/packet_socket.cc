#include "io/packet_socket.hh"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>

#include <cerrno>

#include "io/error.hh"

namespace longhaul::io {

namespace {

void set_option(int fd, int level, int option, int value, const std::string& name,
                const char* what) {
  if (::setsockopt(fd, level, option, &value, sizeof value) != 0) {
    throw_errno(std::string("setsockopt(") + what + ")", name);
  }
}

// SO_*BUFFORCE needs CAP_NET_ADMIN over the host, which a rootless session (user namespace)
// lacks: there the plain option gives what net.core.rmem_max / wmem_max allow (docs/rootless.md).
void set_buffer(int fd, int force_option, int plain_option, int bytes, const std::string& name,
                const char* what) {
  if (::setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof bytes) == 0) return;
  if (errno != EPERM) throw_errno(std::string("setsockopt(") + what + ")", name);
  set_option(fd, SOL_SOCKET, plain_option, bytes, name, what);
}

}  // namespace

PacketSocket PacketSocket::open(const std::string& ifname, Role role) {
  const unsigned index = ::if_nametoindex(ifname.c_str());
  if (index == 0) throw_errno("if_nametoindex", ifname);
  Fd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL)));
  if (!fd.valid()) throw_errno("socket(AF_PACKET)", ifname);
  // Must precede bind and any ring setup.
  set_option(fd.get(), SOL_PACKET, PACKET_VNET_HDR, 1, ifname, "PACKET_VNET_HDR");
  if (role == Role::receive) {
    // Without this the socket would also see every frame the emulator sends out
    // of this interface and forward it again.
    set_option(fd.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, 1, ifname, "PACKET_IGNORE_OUTGOING");
    // Room for bursts while the engine thread is busy (SO_RCVBUFFORCE ignores rmem_max).
    set_buffer(fd.get(), SO_RCVBUFFORCE, SO_RCVBUF, 64 << 20, ifname, "SO_RCVBUFFORCE");
    // The kernel's receive time of each frame (SCM_TIMESTAMPNS): the engine measures delay
    // from it, so the time its thread takes to wake up is not added to every packet.
    set_option(fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, 1, ifname, "SO_TIMESTAMPNS");
  } else {
    // Veths have no queue of their own; skipping the qdisc layer saves a lock per frame.
    set_option(fd.get(), SOL_PACKET, PACKET_QDISC_BYPASS, 1, ifname, "PACKET_QDISC_BYPASS");
    set_buffer(fd.get(), SO_SNDBUFFORCE, SO_SNDBUF, 16 << 20, ifname, "SO_SNDBUFFORCE");
  }
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  // A transmit-only socket binds with protocol 0 so the kernel queues nothing to it.
  address.sll_protocol = role == Role::receive ? htons(ETH_P_ALL) : 0;
  address.sll_ifindex = static_cast<int>(index);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw_errno("bind(AF_PACKET)", ifname);
  }
  PacketSocket port(std::move(fd), static_cast<int>(index), ifname);
  port.take_kernel_drops();  // start counting from zero
  return port;
}

int PacketSocket::receive(mmsghdr* messages, unsigned count) noexcept {
  const int got = ::recvmmsg(fd_.get(), messages, count, MSG_DONTWAIT | MSG_TRUNC, nullptr);
  if (got >= 0) return got;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
  return -errno;
}

int PacketSocket::send(mmsghdr* messages, unsigned count) noexcept {
  const int sent = ::sendmmsg(fd_.get(), messages, count, MSG_DONTWAIT);
  if (sent >= 0) return sent;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EINTR) return 0;
  return -errno;
}

void PacketSocket::set_promiscuous() {
  packet_mreq request{};
  request.mr_ifindex = ifindex_;
  request.mr_type = PACKET_MR_PROMISC;
  if (::setsockopt(fd_.get(), SOL_PACKET, PACKET_ADD_MEMBERSHIP, &request, sizeof request) != 0) {
    throw_errno("setsockopt(PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC)", name_);
  }
}

std::uint64_t PacketSocket::take_kernel_drops() noexcept {
  tpacket_stats stats{};
  socklen_t length = sizeof stats;
  // Reading PACKET_STATISTICS resets the kernel's counters.
  if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &stats, &length) != 0) return 0;
  return stats.tp_drops;
}

}  // namespace longhaul::io
