#pragma once
// GET /v1/events: the engine's life as Server-Sent Events (text/event-stream), one reader each.
// Pure apart from reading the target: the HTTP server calls poll() every kEventPoll and writes
// what it returns, so tests drive it on a fake target and a manual clock.
//
// Events, each `event: NAME` and one line of JSON `data:` (docs/api.md, "Events"):
//   hello    once: the engine (as GET /v1/), the interval, every lane's configuration
//   sample   every interval: per lane direction the rates over the interval, drops by cause in it,
//            the queue now, the configuration in force, release lateness and the fidelity verdict
//            over the interval
//   change   a change the API accepted: its id, the instant it applies at, what it sets
//   applied  a direction whose conditions changed (live, schedule or trace): the engine instant
//            it switched at, and its configuration from then on
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/control_api.hh"

namespace longhaul::control {

/// How often the server asks a stream for due events (change and applied events are at most
/// this late; samples keep their own interval).
inline constexpr core::Nanos kEventPoll{std::chrono::milliseconds(50)};
inline constexpr core::Nanos kMinEventInterval{std::chrono::milliseconds(100)};  // "100ms"
inline constexpr core::Nanos kMaxEventInterval{std::chrono::seconds(60)};        // "60s"

/// Event streams one engine serves at once (each holds a server thread).
inline constexpr int kMaxEventStreams = 16;

/// Reads `?interval=` ("500ms", "2s"; empty: 1 s); the error names the bounds.
struct ParsedInterval {
  core::Nanos interval{std::chrono::seconds(1)};
  std::string error;
};
ParsedInterval parse_event_interval(const std::string& text);

class EventStream {
 public:
  EventStream(const ControlTarget& target, const ChangeLog& changes, core::Nanos interval);
  /// The events due by now, as event-stream text (empty when none is).
  std::string poll();

 private:
  struct Previous {
    core::CountersSnapshot counters;
    core::SojournHistogram::Snapshot sojourn;
    std::uint64_t changes_applied = 0;
  };
  nlohmann::json sample(core::Nanos now);

  const ControlTarget& target_;
  const ChangeLog& changes_;
  core::Nanos interval_;
  bool started_ = false;
  core::Nanos last_sample_{0};
  std::uint64_t last_change_ = 0;
  std::vector<std::array<Previous, 2>> previous_;
  std::unique_ptr<FidelityCursor> fidelity_;
};

}  // namespace longhaul::control
