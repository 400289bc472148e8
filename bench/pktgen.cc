// longhaul_pktgen: blasts minimum-size UDP frames out of an interface with
// AF_PACKET + sendmmsg, for the packet-rate figure of `make bench`.
// Bounded in count and time; sends only to the address it is given, which
// the bench takes from the lab's benchmarking range.
//
//   longhaul_pktgen IFNAME DST_MAC SRC_IPV4 DST_IPV4 SECONDS MAX_PACKETS
//
// Frames go to the receiver's own MAC address, as real traffic does, so other
// stations on the path drop them early instead of routing them.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

double now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::uint16_t ip_checksum(const std::uint8_t* header, std::size_t length) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < length; i += 2) {
    sum += static_cast<std::uint32_t>((header[i] << 8) | header[i + 1]);
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s IFNAME DST_MAC SRC_IPV4 DST_IPV4 SECONDS MAX_PACKETS\n",
                 argv[0]);
    return 2;
  }
  const unsigned index = if_nametoindex(argv[1]);
  unsigned mac[6];
  in_addr source{}, destination{};
  if (index == 0 ||
      std::sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
                  &mac[5]) != 6 ||
      inet_pton(AF_INET, argv[3], &source) != 1 || inet_pton(AF_INET, argv[4], &destination) != 1) {
    std::fprintf(stderr, "pktgen: bad interface, MAC or address\n");
    return 2;
  }
  const double seconds = std::atof(argv[5]);
  const unsigned long long max_packets = std::strtoull(argv[6], nullptr, 10);
  const int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) {
    std::perror("pktgen: socket");
    return 1;
  }
  const int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_ifindex = static_cast<int>(index);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::perror("pktgen: bind");
    return 1;
  }
  // 60-byte frame (64 on the wire with FCS): Ethernet, IPv4, UDP to the discard port.
  std::array<std::uint8_t, 60> frame{};
  for (int i = 0; i < 6; ++i)
    frame[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(mac[i]);
  const std::uint8_t source_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
  std::memcpy(frame.data() + 6, source_mac, 6);
  frame[12] = 0x08;
  std::uint8_t* ip = frame.data() + 14;
  ip[0] = 0x45;
  ip[3] = 46;  // total length: 60 - 14
  ip[8] = 64;
  ip[9] = 17;
  std::memcpy(ip + 12, &source, 4);
  std::memcpy(ip + 16, &destination, 4);
  const std::uint16_t checksum = ip_checksum(ip, 20);
  ip[10] = static_cast<std::uint8_t>(checksum >> 8);
  ip[11] = static_cast<std::uint8_t>(checksum & 0xFF);
  std::uint8_t* udp = ip + 20;
  udp[0] = 0x13;  // source port 5000
  udp[1] = 0x88;
  udp[3] = 9;   // destination port 9 (discard)
  udp[5] = 26;  // UDP length; checksum 0 = none
  constexpr unsigned kBatch = 64;
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> messages{};
  for (unsigned i = 0; i < kBatch; ++i) {
    iov[i] = {frame.data(), frame.size()};
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned long long sent = 0;
  const double start = now_s();
  double elapsed = 0;
  while (sent < max_packets && (elapsed = now_s() - start) < seconds) {
    const int n = sendmmsg(fd, messages.data(), kBatch, 0);
    if (n > 0) sent += static_cast<unsigned>(n);
  }
  std::printf("{\"sent_packets\": %llu, \"seconds\": %.6f}\n", sent, elapsed);
  close(fd);
  return 0;
}
