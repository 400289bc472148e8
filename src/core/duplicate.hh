#pragma once
// Duplication, as netem's `duplicate P [CORR]`: with probability P per wire
// packet the frame is followed, at the same instant, by a second copy with its
// own buffer (made through PacketCloner). The copy carries the original's seq
// and moves on independently: it may be corrupted differently, queues behind
// the original, and in reordering mode draws its own delay.
//
// Differences from netem, both deliberate: loss comes before duplication here,
// so a lost packet is never duplicated (netem decides both independently and a
// duplicated-then-lost packet still delivers one copy); and netem re-enqueues
// the copy at the root qdisc, where loss is decided again for it, while here
// the copy is not subjected to loss a second time.
#include <cstdint>

#include "core/distribution.hh"
#include "core/packet_access.hh"
#include "core/random.hh"
#include "core/stage.hh"

namespace longhaul::core {

struct DuplicateConfig {
  double probability = 0.0;  ///< per wire packet, 0..1
  double correlation = 0.0;  ///< 0..1 between successive decisions
  CorrelationModel correlation_model = CorrelationModel::preserving;

  /// True when decisions are made per wire packet at random.
  bool needs_wire_packets() const noexcept { return probability > 0.0; }
};

class Duplicate final : public Stage {
 public:
  /// `cloner` must outlive the stage.
  Duplicate(const DuplicateConfig& config, std::uint64_t seed, PacketCloner& cloner) noexcept;

  /// Passes the packet on, then its copy when chosen (no time passes).
  void accept(const Packet& packet) noexcept override;
  void advance(Nanos) noexcept override {}
  Nanos next_wakeup() const noexcept override { return kNever; }

  std::uint64_t duplicated() const noexcept { return duplicated_; }          ///< copies emitted
  std::uint64_t clone_failures() const noexcept { return clone_failures_; }  ///< copies not made
  /// Super-frames with some but not all segments chosen (duplicated whole).
  std::uint64_t partial_super_frames() const noexcept { return partial_super_frames_; }

 private:
  CorrelatedBernoulli chooser_;
  Random random_;
  PacketCloner& cloner_;
  bool enabled_;
  std::uint64_t duplicated_ = 0;
  std::uint64_t clone_failures_ = 0;
  std::uint64_t partial_super_frames_ = 0;
};

}  // namespace longhaul::core
