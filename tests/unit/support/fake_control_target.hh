#pragma once
// A running engine for the control layer's tests: two lanes whose state the test sets, a manual
// clock, and the changes the API posted.
#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/control_api.hh"

namespace longhaul::test_support {

using namespace std::chrono_literals;
using nlohmann::json;

class FakeControlTarget final : public control::ControlTarget {
 public:
  FakeControlTarget() {
    for (auto& lane : states)
      for (auto& direction : lane) direction.delay = 16ms;
    states[0][0].random_loss = states[0][1].random_loss = true;
  }
  json identity() const override {
    json value = {{"kind", "lab"}, {"name", "four\"sites"}};
    if (!topology.is_null()) value["topology"] = topology;
    return value;
  }
  const std::vector<std::string>& lane_names() const override { return names; }
  control::DirectionState state(std::size_t lane, int direction) const override {
    return states[lane][static_cast<std::size_t>(direction)];
  }
  core::Nanos now() const override { return clock; }
  core::Nanos origin() const override { return 1s; }
  std::string check_capacity(std::size_t, int, std::uint64_t rate, core::Nanos delay,
                             const core::QueueBound&) const override {
    return delay > 10s && rate > 1'000'000'000 ? "needs more buffer" : "";
  }
  bool post(const std::vector<control::PlannedChange>& changes) override {
    if (full) return false;
    posted.insert(posted.end(), changes.begin(), changes.end());
    return true;
  }
  std::vector<std::string> link_keys() const override {
    return {"rtt", "delay", "rate", "loss", "queue", "jitter", "qdisc", "seed"};
  }
  std::unique_ptr<control::FidelityCursor> fidelity_cursor() const override {
    return std::make_unique<control::FidelityCursor>();
  }
  /// "ok" until `degraded` names a lane; counts the calls that moved a cursor.
  json fidelity(std::size_t lane, int, control::FidelityCursor* since) const override {
    if (since != nullptr) ++cursor_moves;
    return {{"verdict", lane == degraded ? "degraded" : "ok"}};
  }
  json params() const override {
    json list = json::array();
    for (const auto& key : link_keys()) list.push_back({{"key", key}, {"live", key == "rate"}});
    return {{"schema", "longhaul.params/1"}, {"params", list}};
  }

  std::vector<std::string> names = {"california", "japan"};
  std::array<std::array<control::DirectionState, 2>, 2> states{};
  core::Nanos clock = 11s;
  bool full = false;
  std::vector<control::PlannedChange> posted;
  std::size_t degraded = 99;
  json topology;  ///< in the identity when set, as a lab engine's
  mutable int cursor_moves = 0;
};

}  // namespace longhaul::test_support
