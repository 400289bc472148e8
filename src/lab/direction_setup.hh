#pragma once
// One lane direction whose ports are packet sockets, as run, labs and bridge all build it.
#include <cstdint>
#include <string>

#include "core/pipeline.hh"
#include "core/time.hh"
#include "engine/lane.hh"

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

}  // namespace longhaul::lab
