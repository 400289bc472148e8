#include "lab/capture_session.hh"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cstring>
#include <iostream>
#include <stdexcept>

#include "io/error.hh"
#include "io/fd.hh"
#include "io/netns.hh"
#include "io/pcap_capture.hh"
#include "io/process.hh"
#include "lab/lab_session.hh"
#include "lab/run_session.hh"
#include "lab/supervise.hh"

namespace longhaul::lab {

namespace {

using namespace std::chrono_literals;

std::string lane_names(const nlohmann::json& lanes) {
  std::string names;
  for (const auto& lane : lanes) {
    names += (names.empty() ? "" : ", ") + lane.at("name").get<std::string>();
  }
  return names;
}

/// How often the loop looks up from the sockets: to notice a deadline or the lab going down.
constexpr auto kTick = 200ms;

}  // namespace

std::vector<CapturePoint> plan_capture(const nlohmann::json& description,
                                       const std::string& lab_name, const std::string& lane,
                                       CaptureDirections directions, bool before) {
  const auto& lanes = description.at("lanes");
  const auto found = std::find_if(lanes.begin(), lanes.end(), [&](const nlohmann::json& entry) {
    return entry.at("name").get<std::string>() == lane;
  });
  if (found == lanes.end()) {
    throw std::runtime_error(
        fmt::format("lab '{}' has no lane '{}' (lanes: {})", lab_name, lane, lane_names(lanes)));
  }
  if (!before && !found->contains("peers")) {
    throw std::runtime_error(
        fmt::format("lab '{}' was brought up by an older longhaul that did not record where its "
                    "lanes' frames leave; capture with --before, or bring the lab up again",
                    lab_name));
  }
  const std::string emulator = description.at("emulator_netns").get<std::string>();
  std::vector<CapturePoint> points;
  for (const auto direction : {engine::Direction::up, engine::Direction::down}) {
    if (directions == CaptureDirections::up && direction != engine::Direction::up) continue;
    if (directions == CaptureDirections::down && direction != engine::Direction::down) continue;
    // Up is a -> b: it enters at port a and leaves by port b.
    const char* ingress = direction == engine::Direction::up ? "a" : "b";
    const char* egress = direction == engine::Direction::up ? "b" : "a";
    if (before) {
      points.push_back({emulator, found->at("ports").at(ingress).get<std::string>(), direction});
    } else {
      const auto& peer = found->at("peers").at(egress);
      points.push_back(
          {peer.at("netns").get<std::string>(), peer.at("ifname").get<std::string>(), direction});
    }
  }
  return points;
}

int capture_session(const CaptureRequest& request) {
  check_privileges("to capture in a lab's namespaces (CAP_NET_RAW and CAP_SYS_ADMIN)");
  const LabState state = choose_lab(request.lab);
  if (!lab_is_alive(state)) {
    throw std::runtime_error(fmt::format(
        "lab '{}' is not running (its engine is gone): take it down with `longhaul down {}`",
        state.name, state.name));
  }
  const auto points =
      plan_capture(state.description, state.name, request.lane, request.directions, request.before);

  // Signals end the capture in order (flush, summary) instead of killing it mid-write.
  const BlockRunSignals block_signals;
  sigset_t stop_signals = run_signals();
  sigdelset(&stop_signals, SIGCHLD);
  const io::Fd signal_fd(::signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd.valid()) io::throw_errno("signalfd", "capture stop signals");

  std::vector<io::Netns> namespaces;  // kept open while the handles are activated
  std::vector<io::CaptureSource> sources;
  for (const auto& point : points) {
    namespaces.push_back(io::Netns::open(point.netns));
    sources.push_back({namespaces.back().fd(), point.netns, point.ifname, true});
  }
  io::PcapCapture capture(sources, request.path);
  namespaces.clear();
  if (request.path != "-") {
    // Under sudo, the file belongs to the user who asked for it.
    if (const auto user = io::sudo_invoker()) {
      [[maybe_unused]] const int ignored =
          ::fchown(capture.file_descriptor(), user->uid, user->gid);
    }
  }
  if (!request.quiet) {
    std::string what;
    for (const auto& point : points) {
      what += fmt::format("\n  {:<4} incoming on {} in {}", engine::direction_name(point.direction),
                          point.ifname, point.netns);
    }
    std::cerr << fmt::format("longhaul: capturing lane {} of lab {} {} impairment to {}:{}\n",
                             request.lane, state.name, request.before ? "before" : "after",
                             request.path == "-" ? "standard output" : request.path, what);
  }

  const auto started = std::chrono::steady_clock::now();
  const auto deadline = request.duration ? std::optional(started + *request.duration)
                                         : std::optional<std::chrono::steady_clock::time_point>();
  std::uint64_t total = 0;
  int signal_received = 0;
  std::string ended_by;
  std::vector<pollfd> fds;
  for (std::size_t i = 0; i < capture.source_count(); ++i) {
    fds.push_back({capture.wait_fd(i), POLLIN, 0});
  }
  fds.push_back({signal_fd.get(), POLLIN, 0});
  auto last_check = started;
  for (;;) {
    if (request.count && total >= *request.count) {
      ended_by = fmt::format("{} frames", *request.count);
      break;
    }
    auto now = std::chrono::steady_clock::now();
    if (deadline && now >= *deadline) {
      ended_by = "the time limit";
      break;
    }
    if (now - last_check >= 1s) {
      last_check = now;
      if (!lab_is_alive(state)) {
        ended_by = "the lab going down";
        break;
      }
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(kTick);
    if (deadline) {
      wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(*deadline - now));
    }
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
    if (ready < 0 && errno != EINTR) io::throw_errno("poll", "capture sockets");
    if (fds.back().revents != 0) {
      signalfd_siginfo info{};
      if (::read(signal_fd.get(), &info, sizeof info) == sizeof info) {
        signal_received = static_cast<int>(info.ssi_signo);
      }
    }
    try {
      for (std::size_t i = 0; i < capture.source_count(); ++i) {
        // Drain every source each round (not only the ready ones): cheap, and what arrived
        // just before a stop signal still gets written.
        const std::uint64_t room = request.count ? *request.count - total : UINT64_MAX;
        total += capture.drain(i, room);
      }
    } catch (const io::CaptureError&) {
      // A deleted interface is how `longhaul down` looks from here.
      if (lab_is_alive(state)) throw;
      ended_by = "the lab going down";
      break;
    }
    if (signal_received != 0) {
      ended_by = fmt::format("signal {}", ::strsignal(signal_received));
      break;
    }
  }
  capture.flush();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!request.quiet) {
    std::string per_direction;
    std::uint64_t drops = 0;
    for (std::size_t i = 0; i < points.size(); ++i) {
      per_direction += fmt::format("{}{} {}", per_direction.empty() ? "" : ", ",
                                   engine::direction_name(points[i].direction), capture.written(i));
      drops += capture.kernel_drops(i);
    }
    std::cerr << fmt::format(
        "longhaul: {} frames written ({}) in {:.1f} s, stopped by {}; {} lost by the kernel's "
        "capture buffer\n",
        total, per_direction, seconds, ended_by, drops);
  }
  if (signal_received != 0 && signal_received != SIGINT) return 128 + signal_received;
  return 0;
}

}  // namespace longhaul::lab
