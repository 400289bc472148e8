#pragma once
// Independent (Bernoulli) loss, decided per wire packet.
#include <cstdint>

#include "core/random.hh"
#include "core/stage.hh"

namespace longhaul::core {

class BernoulliLoss final : public Stage {
 public:
  /// Loses each wire packet with probability `probability` (0..1), seeded.
  BernoulliLoss(double probability, std::uint64_t seed) noexcept
      : probability_(probability), random_(seed) {}

  /// Passes or drops at once: loss takes no time.
  void accept(const Packet& packet) noexcept override;
  void advance(Nanos) noexcept override {}
  Nanos next_wakeup() const noexcept override { return kNever; }

  /// Super-frames with some but not all segments lost (then dropped whole; the
  /// engine turns segmentation offloads off when loss is configured so this stays 0).
  std::uint64_t partial_super_frames() const noexcept { return partial_super_frames_; }

 private:
  double probability_;
  Random random_;
  std::uint64_t partial_super_frames_ = 0;
};

}  // namespace longhaul::core
