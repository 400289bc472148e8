#pragma once
// A lab's engine process, which `longhaul up` forks once the lab is built (lab_session.cc).
#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "control/api_server.hh"
#include "core/time.hh"
#include "engine/lane.hh"
#include "lab/direction_setup.hh"
#include "lab/lab_state.hh"
#include "lab/topology_file.hh"

namespace longhaul::lab {

/// The engine's port (a veth end in the emulator namespace) at lane `lane`'s end `end` ('a' or
/// 'b').
std::string engine_port(std::size_t lane, char end);

/// Runs every lane of `lab` until SIGTERM or SIGINT, then removes the lab. Writes "ok" to
/// `ready_fd` once the lanes run and the API answers, or the reason it could not start (and
/// removes the lab). Dies with `up` (pid `up_pid`) until then. Never returns.
[[noreturn]] void run_lab_engine(LabState state, const LabDefinition& lab, core::Nanos spin,
                                 const engine::ThreadPlacement& placement, PortKind port,
                                 const std::vector<control::ServerEndpoint>& api_tcp, int ready_fd,
                                 pid_t up_pid);

}  // namespace longhaul::lab
