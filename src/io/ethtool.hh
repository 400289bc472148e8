#pragma once
// Segmentation offloads via the legacy ethtool ioctl. The emulator decides loss, queueing and
// rate per wire packet; turning TSO/GSO/GRO off on its ports means the kernel hands it MTU-sized
// frames instead of 64 KB super-packets that it would otherwise have to split itself.
#include <string>

namespace longhaul::io {

/// Turns TSO and GSO (and GRO where the device allows) on or off for `ifname` in the calling
/// thread's network namespace. Throws SystemError naming the ioctl and the device.
void set_segmentation_offloads(const std::string& ifname, bool enabled);
/// Turns transmit checksum offload on or off for `ifname` (ethtool -K IF tx off). A frame that
/// crosses an AF_XDP port loses the kernel's "checksum still to be filled in" mark, so senders
/// whose frames take that path must compute checksums themselves. Throws SystemError.
void set_tx_checksum_offload(const std::string& ifname, bool enabled);
/// True if TSO is currently active on `ifname` (in the calling thread's network namespace).
bool tso_enabled(const std::string& ifname);

/// Receive-side coalescing that merges wire packets into super-frames before a packet socket sees
/// them: GRO (software) and LRO (the NIC). Bridge mode turns them off on its receiving interfaces
/// when a direction needs wire-sized packets, and restores what it found.
struct ReceiveCoalescing {
  bool gro = false;
  bool lro = false;
};
/// Current GRO and LRO of `ifname` in the calling thread's namespace (off when the device cannot
/// report one).
ReceiveCoalescing receive_coalescing(const std::string& ifname);
/// Sets GRO and LRO of `ifname`; turning one off that stays on is a SystemError.
void set_receive_coalescing(const std::string& ifname, ReceiveCoalescing wanted);

/// True if `ifname` is administratively up (IFF_UP), in the calling thread's namespace.
bool link_is_up(const std::string& ifname);
/// MTU of `ifname` in bytes (L3, as `ip link`), in the calling thread's namespace.
unsigned link_mtu(const std::string& ifname);

}  // namespace longhaul::io
