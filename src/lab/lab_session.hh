#pragma once
// Labs: `longhaul up FILE` builds every site's namespace, the lanes and switches, and leaves an
// engine process running them until `longhaul down`.
//
//   site netns lh-LAB-SITE            emulator netns lh-LAB.emu
//   eth0 <-veth-> l0a ==[lane 0 engine]== l0b <-veth-> l0bs ─┐ bridge "sw0" (switch)
//   eth0 <-veth-> l1a ==[lane 1 engine]== l1b <-veth-> l1bs ─┘
//
// A switch is a Linux bridge inside the emulator's namespace: it learns MAC addresses and floods
// the unknown, so a frame between two remote sites leaves one lane's engine, crosses the bridge
// and enters the other lane's engine: both lanes' impairments apply (compound delay).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/api_server.hh"
#include "core/time.hh"
#include "engine/lane.hh"
#include "lab/direction_setup.hh"
#include "lab/lab_state.hh"
#include "lab/topology_file.hh"

namespace longhaul::lab {

struct UpRequest {
  LabDefinition lab;
  core::Nanos spin{std::chrono::microseconds(200)};
  engine::ThreadPlacement placement;  ///< lane-direction threads, in lane order (up, down)
  PortKind port = PortKind::packet;   ///< --port: the engine ports' socket type
  std::vector<control::ServerEndpoint> api_tcp;  ///< --listen, --web: the API on TCP too
};

/// Builds the lab and starts its engine process; returns once traffic flows (the engine runs
/// on in the background). Throws, after removing everything, when the lab cannot be built.
LabState lab_up(const UpRequest& request);

/// The lab named `name`, or the only lab when `name` is empty. Throws std::runtime_error naming
/// the labs that are up when the choice is not clear; `how_to_name` ends that message with how
/// the command takes a lab's name.
LabState choose_lab(const std::string& name, std::string_view how_to_name = "--lab NAME");

/// Stops the lab's engine (SIGTERM, then SIGKILL after `grace`) and removes everything.
void lab_down(const LabState& state);

struct ExecRequest {
  std::string lab;  ///< empty: the only lab
  std::string site;
  std::vector<std::string> command;  ///< empty: the user's $SHELL
};

/// Runs a command inside a site (its namespace, its /etc/hosts) as the invoking user, and
/// returns its exit status (128+N on signal N).
int lab_exec(const ExecRequest& request);

}  // namespace longhaul::lab
