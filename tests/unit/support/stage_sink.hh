#pragma once
// Test double for the end of a stage chain: collects what a stage releases
// and what it drops, in order, so tests can assert on both.
#include <utility>
#include <vector>

#include "core/stage.hh"

namespace longhaul::test_support {

class StageSink final : public core::PacketOutlet, public core::DropOutlet {
 public:
  void accept(const core::Packet& packet) noexcept override { out.push_back(packet); }
  void drop(const core::Packet& packet, core::DropCause cause) noexcept override {
    dropped.emplace_back(packet, cause);
  }

  std::vector<core::Packet> out;
  std::vector<std::pair<core::Packet, core::DropCause>> dropped;
};

}  // namespace longhaul::test_support
