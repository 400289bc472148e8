#pragma once
// The control API's request -> response core (docs/api.md): routing, validation of a whole change
// before anything moves, error messages naming the key, the value and the rule, and the metrics
// text. Pure: no sockets, no threads, no clock of its own; it talks to the running engine through
// ControlTarget, so tests drive it with a fake. api_server.cc puts it behind HTTP.
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/counters.hh"
#include "core/histogram.hh"
#include "core/pipeline.hh"
#include "core/time.hh"

namespace longhaul::control {

inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;  ///< larger request bodies get 413
/// A change applies at least this long after the request, so every affected direction thread has
/// it in hand before its instant (atomic across lanes: one engine instant for all).
inline constexpr core::Nanos kApplyLead{std::chrono::milliseconds(2)};
/// How long the server waits, after the instant, for the direction threads to have applied a
/// change before it answers anyway (a thread that a busy machine keeps off its CPU).
inline constexpr core::Nanos kAppliedWait{std::chrono::milliseconds(200)};

struct HttpRequest {
  std::string method;
  std::string path;  ///< without the query
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;          ///< for 405: the methods the path takes
  core::Nanos applies_at{0};  ///< a change's engine instant (0: not a change)
  /// A change's directions and the live_applied count each reaches once it has applied, so the
  /// server answers only when the new conditions are visible.
  struct Await {
    std::size_t lane = 0;
    int direction = 0;
    std::uint64_t live_applied = 0;
  };
  std::vector<Await> awaits;
};

/// One direction of one lane as the engine runs it now (read without locks).
struct DirectionState {
  core::CountersSnapshot counters;
  std::uint64_t rate_bps = 0;  ///< 0 = unlimited
  core::Nanos delay{0};        ///< one-way
  double loss = 0.0;
  core::QueueBound queue;
  core::Nanos outage_until{0};
  std::uint64_t changes_applied = 0;  ///< schedule, trace and live steps
  core::Nanos last_change_at{0};      ///< when the last of them applied, from the origin
  std::uint64_t live_applied = 0;
  std::uint64_t live_late = 0;
  bool random_loss = false;  ///< the loss model is independent loss (live loss changes work)
  /// Release lateness since the start, at lateness_edges().
  core::HistogramFigures lateness;
  /// Queue sojourn since the start (the rate queue's histogram; empty without a rate).
  core::SojournHistogram::Snapshot sojourn;
  /// Wire packets and bytes at the bottleneck (waiting for the rate or on the wire).
  std::uint64_t bottleneck_packets = 0, bottleneck_bytes = 0;
};

/// The `le` bounds /metrics gives release lateness (1-2-5 from 1 us to 100 ms, all edges of
/// core::LatenessBuckets) and queue sojourn (1-2.5-5 from 1 us to 5 s, and 10 s: edges of
/// core::SojournBuckets).
const std::vector<core::Nanos>& lateness_edges();
const std::vector<core::Nanos>& sojourn_edges();

/// A change planned for one direction.
struct PlannedChange {
  std::size_t lane = 0;
  int direction = 0;  ///< 0 up, 1 down
  core::LiveChange change;
};

/// Where a reader of fidelity verdicts left off (what the engine had measured then); the target
/// makes them, so the control layer needs no engine types.
class FidelityCursor {
 public:
  virtual ~FidelityCursor() = default;
};

/// What the API needs from the running engine.
class ControlTarget {
 public:
  virtual ~ControlTarget() = default;
  /// kind (run, lab, bridge), name, seed, started, version.
  virtual nlohmann::json identity() const = 0;
  virtual const std::vector<std::string>& lane_names() const = 0;
  virtual DirectionState state(std::size_t lane, int direction) const = 0;
  /// The engine clock, and the instant the lanes came up.
  virtual core::Nanos now() const = 0;
  virtual core::Nanos origin() const = 0;
  /// "" when a direction with this rate (0: unlimited), one-way delay and queue fits the packet
  /// buffers it reserved at start; otherwise why not, with the numbers.
  virtual std::string check_capacity(std::size_t lane, int direction, std::uint64_t rate_bps,
                                     core::Nanos delay, const core::QueueBound& queue) const = 0;
  /// Hands every change to its direction thread, all or none; false when a mailbox is full.
  virtual bool post(const std::vector<PlannedChange>& changes) = 0;
  /// Every parameter key topology files and `run` know (to tell "not live" from "unknown").
  virtual std::vector<std::string> link_keys() const = 0;
  /// The link parameter schema (`longhaul params --json`, schema longhaul.params/1).
  virtual nlohmann::json params() const = 0;
  /// A cursor at the lane direction's start.
  virtual std::unique_ptr<FidelityCursor> fidelity_cursor() const = 0;
  /// The direction's fidelity verdict (measure::fidelity_json) over the span since `since`
  /// (a cursor from fidelity_cursor()), which then moves to now; with no cursor, since the start.
  virtual nlohmann::json fidelity(std::size_t lane, int direction, FidelityCursor* since) const = 0;
};

/// The changes the API accepted, in order, for the event stream. Thread-safe: the API appends
/// under its own lock while event streams read on their threads. Keeps the latest kKept.
class ChangeLog {
 public:
  static constexpr std::size_t kKept = 256;
  /// Appends and returns the entry's sequence number (1, 2, ...).
  std::uint64_t add(nlohmann::json entry);
  /// Entries after sequence number `after` (older ones than kKept are gone), with their numbers.
  std::vector<std::pair<std::uint64_t, nlohmann::json>> since(std::uint64_t after) const;
  std::uint64_t last() const;

 private:
  mutable std::mutex mutex_;
  std::deque<nlohmann::json> entries_;
  std::uint64_t last_ = 0;
};

/// Keys a running engine changes live, each also with -up/-down (rtt: both directions only).
const std::vector<std::string>& live_keys();

class ControlApi {
 public:
  explicit ControlApi(ControlTarget& target) : target_(target) {}
  /// Answers one request; never throws (an internal error is a 500 naming it).
  HttpResponse handle(const HttpRequest& request);
  const ChangeLog& change_log() const noexcept { return change_log_; }

 private:
  HttpResponse route(const HttpRequest& request);
  HttpResponse apply(const nlohmann::json& changes, const nlohmann::json* at);
  nlohmann::json lane_json(std::size_t lane) const;

  ControlTarget& target_;
  ChangeLog change_log_;  ///< its sequence numbers are the change ids
};

/// The JSON of one direction's state, as /v1/lanes shows it.
nlohmann::json direction_json(const DirectionState& state);
/// Count, p50, p99 and max of queue sojourn samples (since the start, or over an interval).
nlohmann::json sojourn_json(const core::SojournHistogram::Snapshot& sojourn);

/// The Prometheus text exposition (format 0.0.4) of every lane direction's counters and state.
std::string metrics_text(const ControlTarget& target);

/// Parses a request body as a JSON object; the error says where it is not one. Pure (fuzzable).
struct ParsedBody {
  nlohmann::json value;
  std::string error;  ///< empty when value is an object
};
ParsedBody parse_body(std::string_view body);

}  // namespace longhaul::control
