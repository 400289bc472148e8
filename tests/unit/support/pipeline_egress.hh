#pragma once
// A core::PipelineEgress that records what a pipeline sends and discards.
#include <utility>
#include <vector>

#include "core/pipeline.hh"

namespace longhaul::test_support {

class PipelineRecorder final : public core::PipelineEgress {
 public:
  void transmit(const core::Packet& packet) noexcept override { sent.push_back(packet); }
  void discard(const core::Packet& packet, core::DropCause cause) noexcept override {
    discarded.emplace_back(packet, cause);
  }
  std::vector<core::Packet> sent;
  std::vector<std::pair<core::Packet, core::DropCause>> discarded;
};

}  // namespace longhaul::test_support
