#pragma once
// `longhaul capture LANE`: what crosses one lane of a running lab, written as pcap.
//
// Where frames are read (lane l, ports l<l>a / l<l>b in the lab's emulator namespace):
//
//   before impairment, up   = incoming on l<l>a (what the a side handed to the engine)
//   before impairment, down = incoming on l<l>b
//   after impairment,  up   = incoming on the veth peer of l<l>b (what the engine sent toward b)
//   after impairment,  down = incoming on the veth peer of l<l>a
//
// "After" is read on the far side of the veth rather than as outgoing on the engine's port: the
// engine transmits with PACKET_QDISC_BYPASS, and frames sent that way skip the kernel's taps, so
// no capture on the port itself ever sees them. A veth is a pipe: the peer receives exactly what
// the port sent, at the same instant.
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/lane.hh"

namespace longhaul::lab {

enum class CaptureDirections { up, down, both };

/// One interface to read: in which namespace, and which lane direction it shows.
struct CapturePoint {
  std::string netns;
  std::string ifname;
  engine::Direction direction = engine::Direction::up;
};

/// The interfaces to read for `lane` of a lab described by `description` (the lab state's
/// "description": lanes[].name, ports, peers). Pure. Throws std::runtime_error naming the lab's
/// lanes when there is no such lane.
std::vector<CapturePoint> plan_capture(const nlohmann::json& description,
                                       const std::string& lab_name, const std::string& lane,
                                       CaptureDirections directions, bool before);

struct CaptureRequest {
  std::string lab;  ///< empty: the only lab that is up
  std::string lane;
  CaptureDirections directions = CaptureDirections::both;
  bool before = false;
  std::string path;                                  ///< pcap file, "-" = standard output
  std::optional<std::uint64_t> count;                ///< stop after this many frames
  std::optional<std::chrono::nanoseconds> duration;  ///< stop after this long
  bool quiet = false;
};

/// Captures until the count, the duration, SIGINT/SIGTERM/SIGHUP or the lab going down; prints a
/// summary on stderr. Returns 0, or 128+N when stopped by signal N other than SIGINT.
int capture_session(const CaptureRequest& request);

}  // namespace longhaul::lab
