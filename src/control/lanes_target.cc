#include "control/lanes_target.hh"

#include <fmt/format.h>

#include <array>

#include "core/units.hh"

namespace longhaul::control {

namespace {
engine::Direction to_direction(int direction) {
  return direction == 0 ? engine::Direction::up : engine::Direction::down;
}

/// What each direction had measured when the reader last asked.
struct SampleCursor final : FidelityCursor {
  std::vector<std::array<engine::FidelitySample, 2>> samples;
};
}  // namespace

LanesTarget::LanesTarget(nlohmann::json identity, std::vector<std::string> names,
                         std::vector<engine::Lane*> lanes, const engine::Clock& clock,
                         core::Nanos origin, ArenaNeed arena_need, nlohmann::json params,
                         FidelityJudge judge)
    : identity_(std::move(identity)),
      names_(std::move(names)),
      lanes_(std::move(lanes)),
      clock_(clock),
      origin_(origin),
      arena_need_(std::move(arena_need)),
      params_(std::move(params)),
      judge_(std::move(judge)) {
  // Every name a parameter has ("rate", "rate-up", "rate-down"), as the schema lists them.
  if (params_.contains("params") && params_["params"].is_array()) {
    for (const auto& param : params_["params"]) {
      for (const auto& name : param.value("names", nlohmann::json::array())) {
        link_keys_.push_back(name.get<std::string>());
      }
    }
  }
}

DirectionState LanesTarget::state(std::size_t lane, int direction) const {
  const engine::Lane& running = *lanes_.at(lane);
  const engine::DirectionWorker& worker = running.worker(to_direction(direction));
  const core::LiveConditions& live = worker.pipeline().conditions();
  constexpr auto relaxed = std::memory_order_relaxed;
  DirectionState state;
  state.counters = running.counters(to_direction(direction));
  state.rate_bps = live.rate_bps.load(relaxed);
  state.delay = core::Nanos{live.delay_ns.load(relaxed)};
  state.loss = live.loss.load(relaxed);
  state.queue.max_bytes = live.queue_max_bytes.load(relaxed);
  state.queue.max_packets = live.queue_max_packets.load(relaxed);
  state.queue.max_delay = core::Nanos{live.queue_max_delay_ns.load(relaxed)};
  state.outage_until = core::Nanos{live.outage_until_ns.load(relaxed)};
  if (state.outage_until.count() != 0) state.outage_until -= origin_;
  state.changes_applied = live.changes_applied.get();
  if (const auto at = live.last_change_at_ns.load(relaxed); at != 0) {
    state.last_change_at = core::Nanos{at} - origin_;
  }
  state.live_applied = live.live_applied.get();
  state.live_late = live.live_late.get();
  // Fixed at start (the model's kind never changes live), so reading it is safe.
  state.random_loss = worker.pipeline().loss().has_random_loss();
  state.lateness = core::histogram_figures<core::LatenessBuckets>(
      worker.stats().release_lateness.snapshot(), lateness_edges());
  state.sojourn = worker.pipeline().rate_queue().sojourn().snapshot();
  state.bottleneck_packets = live.bottleneck_packets.load(relaxed);
  state.bottleneck_bytes = live.bottleneck_bytes.load(relaxed);
  return state;
}

std::string LanesTarget::check_capacity(std::size_t lane, int direction, std::uint64_t rate_bps,
                                        core::Nanos delay, const core::QueueBound& queue) const {
  const engine::DirectionWorker& worker = lanes_.at(lane)->worker(to_direction(direction));
  core::DirectionConfig config;
  config.rate_bps = rate_bps;
  config.delay = delay;
  config.queue = queue;
  const std::size_t needed = arena_need_(config);
  const std::size_t reserved = worker.arena().capacity_bytes();
  if (needed <= reserved) return {};
  return fmt::format(
      "{} at {} one way needs {} of packet buffer; this direction reserved {} when "
      "it started (start the {} again with the larger values)",
      rate_bps == 0 ? "unlimited rate" : core::format_rate(static_cast<double>(rate_bps)),
      core::format_duration(delay), core::format_bytes(static_cast<double>(needed)),
      core::format_bytes(static_cast<double>(reserved)),
      identity_.value("kind", std::string("lab")));
}

std::unique_ptr<FidelityCursor> LanesTarget::fidelity_cursor() const {
  auto cursor = std::make_unique<SampleCursor>();
  cursor->samples.resize(lanes_.size());
  return cursor;
}

nlohmann::json LanesTarget::fidelity(std::size_t lane, int direction, FidelityCursor* since) const {
  const engine::Lane& running = *lanes_.at(lane);
  const engine::Direction which = to_direction(direction);
  auto* cursor = dynamic_cast<SampleCursor*>(since);
  if (cursor == nullptr) return judge_(running, which, {});
  auto& earlier = cursor->samples.at(lane)[static_cast<std::size_t>(direction)];
  // Sampled just before the judge samples: what lands in between counts in two spans, never in
  // none.
  engine::FidelitySample now =
      engine::sample_fidelity(running.worker(which), running.counters(which));
  nlohmann::json verdict = judge_(running, which, earlier);
  earlier = now;
  return verdict;
}

bool LanesTarget::post(const std::vector<PlannedChange>& changes) {
  const std::lock_guard lock(post_mutex_);
  for (const auto& change : changes) {
    if (!lanes_.at(change.lane)->can_post(to_direction(change.direction))) return false;
  }
  for (const auto& change : changes) {
    lanes_[change.lane]->post(to_direction(change.direction), change.change);
  }
  return true;
}

}  // namespace longhaul::control
