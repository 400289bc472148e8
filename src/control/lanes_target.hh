#pragma once
// The ControlTarget of a running engine: its lanes' direction threads (engine::Lane), read
// without locks, changed through their mailboxes. One producer at a time (a mutex), as the
// mailboxes require.
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "control/control_api.hh"
#include "engine/clock.hh"
#include "engine/fidelity_sample.hh"
#include "engine/lane.hh"

namespace longhaul::control {

/// Bytes of packet buffer a direction with this configuration needs (lab::plan_buffers).
using ArenaNeed = std::function<std::size_t(const core::DirectionConfig&)>;
/// A direction's fidelity verdict as JSON over the span since `earlier` (lab::direction_fidelity).
using FidelityJudge = std::function<nlohmann::json(const engine::Lane&, engine::Direction,
                                                   const engine::FidelitySample& earlier)>;

class LanesTarget final : public ControlTarget {
 public:
  /// `lanes` and `clock` outlive this object; `names[i]` names `lanes[i]`.
  LanesTarget(nlohmann::json identity, std::vector<std::string> names,
              std::vector<engine::Lane*> lanes, const engine::Clock& clock, core::Nanos origin,
              ArenaNeed arena_need, nlohmann::json params, FidelityJudge judge);

  nlohmann::json identity() const override { return identity_; }
  const std::vector<std::string>& lane_names() const override { return names_; }
  DirectionState state(std::size_t lane, int direction) const override;
  core::Nanos now() const override { return clock_.now(); }
  core::Nanos origin() const override { return origin_; }
  std::string check_capacity(std::size_t lane, int direction, std::uint64_t rate_bps,
                             core::Nanos delay, const core::QueueBound& queue) const override;
  bool post(const std::vector<PlannedChange>& changes) override;
  std::vector<std::string> link_keys() const override { return link_keys_; }
  nlohmann::json params() const override { return params_; }
  std::unique_ptr<FidelityCursor> fidelity_cursor() const override;
  nlohmann::json fidelity(std::size_t lane, int direction, FidelityCursor* since) const override;

 private:
  nlohmann::json identity_;
  std::vector<std::string> names_;
  std::vector<engine::Lane*> lanes_;
  const engine::Clock& clock_;
  core::Nanos origin_;
  ArenaNeed arena_need_;
  nlohmann::json params_;  ///< the link parameter schema
  FidelityJudge judge_;
  std::vector<std::string> link_keys_;  ///< every name in it
  std::mutex post_mutex_;
};

}  // namespace longhaul::control
