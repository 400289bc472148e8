#pragma once
// Kernel tunables under /proc/sys. Everything under /proc/sys/net answers for the network
// namespace of the *calling thread*, so inside run_in_netns() these read and write that
// namespace's values and leave the host's alone.
#include <string>

namespace longhaul::io {

/// The /proc/sys path for `key`: dotted ("net.ipv6.conf.eth0.accept_dad", dots become slashes),
/// slashed relative to /proc/sys ("net/ipv6/conf/eth0.100/accept_dad", dots kept), or an
/// absolute /proc/sys path (kept). Use a slashed form for interface names containing dots.
std::string sysctl_path(const std::string& key);
/// Writes `value` to the tunable `key` (see sysctl_path). Throws SystemError naming the path.
void write_sysctl(const std::string& key, const std::string& value);
/// Reads the tunable `key` (see sysctl_path), without surrounding whitespace.
std::string read_sysctl(const std::string& key);

}  // namespace longhaul::io
