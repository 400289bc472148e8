#pragma once
// Segmentation offloads via the legacy ethtool ioctl. The emulator decides loss, queueing and
// rate per wire packet; turning TSO/GSO/GRO off on its ports means the kernel hands it MTU-sized
// frames instead of 64 KB super-packets that it would otherwise have to split itself.
#include <string>

namespace longhaul::io {

/// Turns TSO and GSO (and GRO where the device allows) on or off for `ifname` in the calling
/// thread's network namespace. Throws SystemError naming the ioctl and the device.
void set_segmentation_offloads(const std::string& ifname, bool enabled);
/// True if TSO is currently active on `ifname` (in the calling thread's network namespace).
bool tso_enabled(const std::string& ifname);

}  // namespace longhaul::io
