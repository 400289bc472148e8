#include "io/ethtool.hh"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "io/error.hh"
#include "io/fd.hh"

namespace longhaul::io {

namespace {

// One legacy on/off offload: its get and set commands and their names for error messages.
struct Offload {
  std::uint32_t get_command;
  std::uint32_t set_command;
  const char* get_name;
  const char* set_name;
  bool required;  // false: a device that cannot change it is fine (GRO on some drivers)
};

constexpr Offload kTso{ETHTOOL_GTSO, ETHTOOL_STSO, "ioctl(ETHTOOL_GTSO)", "ioctl(ETHTOOL_STSO)",
                       true};
constexpr Offload kGso{ETHTOOL_GGSO, ETHTOOL_SGSO, "ioctl(ETHTOOL_GGSO)", "ioctl(ETHTOOL_SGSO)",
                       true};
// Transmit checksum offload: with it off the sender's stack fills in every checksum itself.
constexpr Offload kTxChecksum{ETHTOOL_GTXCSUM, ETHTOOL_STXCSUM, "ioctl(ETHTOOL_GTXCSUM)",
                              "ioctl(ETHTOOL_STXCSUM)", true};
constexpr Offload kGro{ETHTOOL_GGRO, ETHTOOL_SGRO, "ioctl(ETHTOOL_GGRO)", "ioctl(ETHTOOL_SGRO)",
                       false};

// The ioctl is answered in the network namespace of the socket, i.e. of the thread creating it.
Fd control_socket() {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) throw_errno("socket(AF_INET, SOCK_DGRAM)", "ethtool");
  return fd;
}

// Issues one ETHTOOL_{G,S}xxx with an ethtool_value; returns 0 or errno.
int ethtool_value_ioctl(int fd, const std::string& ifname, std::uint32_t command,
                        std::uint32_t& value) {
  ethtool_value request{};
  request.cmd = command;
  request.data = value;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  ifr.ifr_data = reinterpret_cast<char*>(&request);
  if (::ioctl(fd, SIOCETHTOOL, &ifr) != 0) return errno;
  value = request.data;
  return 0;
}

void check_ifname(const std::string& ifname) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ || ifname.find('\0') != std::string::npos) {
    throw std::invalid_argument("invalid interface name '" + ifname + "'");
  }
}

bool get_offload(int fd, const std::string& ifname, const Offload& offload) {
  std::uint32_t value = 0;
  if (const int err = ethtool_value_ioctl(fd, ifname, offload.get_command, value); err != 0) {
    throw_error(offload.get_name, ifname, err);
  }
  return value != 0;
}

void set_offload(int fd, const std::string& ifname, const Offload& offload, bool enabled) {
  std::uint32_t value = enabled ? 1 : 0;
  const int err = ethtool_value_ioctl(fd, ifname, offload.set_command, value);
  // EOPNOTSUPP: the device cannot change this feature. That is only a failure if the feature is
  // not already where we want it, which the read-back below decides.
  if (err != 0 && err != EOPNOTSUPP) throw_error(offload.set_name, ifname, err);
  // The kernel records the request as "wanted" and may still keep a feature on or off because of
  // others it depends on, returning 0 all the same: read back. Only a failure to turn an offload
  // *off* matters, since then super-packets reach the emulator; failing to enable one costs speed.
  if (enabled || !offload.required) return;
  if (get_offload(fd, ifname, offload)) throw_error(offload.set_name, ifname, EOPNOTSUPP);
}

}  // namespace

void set_segmentation_offloads(const std::string& ifname, bool enabled) {
  check_ifname(ifname);
  const Fd fd = control_socket();
  set_offload(fd.get(), ifname, kTso, enabled);
  set_offload(fd.get(), ifname, kGso, enabled);
  set_offload(fd.get(), ifname, kGro, enabled);
}

void set_tx_checksum_offload(const std::string& ifname, bool enabled) {
  check_ifname(ifname);
  const Fd fd = control_socket();
  set_offload(fd.get(), ifname, kTxChecksum, enabled);
}

bool tso_enabled(const std::string& ifname) {
  check_ifname(ifname);
  const Fd fd = control_socket();
  return get_offload(fd.get(), ifname, kTso);
}

namespace {

int interface_ioctl(int fd, const std::string& ifname, unsigned long request, ifreq& ifr) {
  ifr = ifreq{};
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  return ::ioctl(fd, request, &ifr) == 0 ? 0 : errno;
}

// LRO is one bit of the legacy ETHTOOL_{G,S}FLAGS word.
bool lro_enabled(int fd, const std::string& ifname) {
  std::uint32_t flags = 0;
  if (ethtool_value_ioctl(fd, ifname, ETHTOOL_GFLAGS, flags) != 0) return false;
  return (flags & ETH_FLAG_LRO) != 0;
}

}  // namespace

ReceiveCoalescing receive_coalescing(const std::string& ifname) {
  check_ifname(ifname);
  const Fd fd = control_socket();
  std::uint32_t gro = 0;
  // A device without GRO support answers EOPNOTSUPP: nothing to turn off.
  if (const int err = ethtool_value_ioctl(fd.get(), ifname, ETHTOOL_GGRO, gro);
      err != 0 && err != EOPNOTSUPP) {
    throw_error("ioctl(ETHTOOL_GGRO)", ifname, err);
  }
  return ReceiveCoalescing{gro != 0, lro_enabled(fd.get(), ifname)};
}

void set_receive_coalescing(const std::string& ifname, ReceiveCoalescing wanted) {
  check_ifname(ifname);
  const Fd fd = control_socket();
  const ReceiveCoalescing now = receive_coalescing(ifname);
  if (now.gro != wanted.gro) {
    std::uint32_t value = wanted.gro ? 1 : 0;
    if (const int err = ethtool_value_ioctl(fd.get(), ifname, ETHTOOL_SGRO, value); err != 0) {
      throw_error("ioctl(ETHTOOL_SGRO)", ifname, err);
    }
  }
  if (now.lro != wanted.lro) {
    std::uint32_t flags = 0;
    if (const int err = ethtool_value_ioctl(fd.get(), ifname, ETHTOOL_GFLAGS, flags); err != 0) {
      throw_error("ioctl(ETHTOOL_GFLAGS)", ifname, err);
    }
    flags = wanted.lro ? (flags | ETH_FLAG_LRO) : (flags & ~std::uint32_t{ETH_FLAG_LRO});
    if (const int err = ethtool_value_ioctl(fd.get(), ifname, ETHTOOL_SFLAGS, flags); err != 0) {
      throw_error("ioctl(ETHTOOL_SFLAGS)", ifname, err);
    }
  }
  // The kernel may keep a feature on because of others it depends on and still return 0.
  const ReceiveCoalescing after = receive_coalescing(ifname);
  if (!wanted.gro && after.gro) throw_error("ioctl(ETHTOOL_SGRO)", ifname, EOPNOTSUPP);
  if (!wanted.lro && after.lro) throw_error("ioctl(ETHTOOL_SFLAGS, LRO)", ifname, EOPNOTSUPP);
}

bool link_is_up(const std::string& ifname) {
  check_ifname(ifname);
  const Fd fd = control_socket();
  ifreq ifr{};
  if (const int err = interface_ioctl(fd.get(), ifname, SIOCGIFFLAGS, ifr); err != 0) {
    throw_error("ioctl(SIOCGIFFLAGS)", ifname, err);
  }
  return (ifr.ifr_flags & IFF_UP) != 0;
}

unsigned link_mtu(const std::string& ifname) {
  check_ifname(ifname);
  const Fd fd = control_socket();
  ifreq ifr{};
  if (const int err = interface_ioctl(fd.get(), ifname, SIOCGIFMTU, ifr); err != 0) {
    throw_error("ioctl(SIOCGIFMTU)", ifname, err);
  }
  return static_cast<unsigned>(ifr.ifr_mtu);
}

}  // namespace longhaul::io
