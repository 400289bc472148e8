#pragma once
// Reordering, as netem's `reorder P [CORR] gap G`: after G-1 packets have been
// delayed normally, each following packet is sent immediately (without the
// delay) with probability P, which resets the count; the others are delayed.
// With G = 1 (the default) every packet has probability P. For example
// `delay 10ms reorder 100% gap 5` sends packets 5, 10, 15, ... (1-based) at
// once and delays the rest by 10 ms. The long-run fraction sent early is
// P / (1 + (G - 1) P). netem requires a delay for reordering; so does the
// parser (reordering is meaningless without one).
//
// Being sent early means skipping the delay stage, so this stage wraps the
// delay stage (DelayLine or JitterDelay): the pipeline connects Reorder, never
// the wrapped stage, and Reorder merges the early packets with what the delay
// stage releases, in time order (an early packet leaves at its arrival time;
// on a tie it goes first, as netem puts it at the head of its queue). One
// decision per frame, as netem makes one per skb.
#include <cstdint>

#include "core/distribution.hh"
#include "core/random.hh"
#include "core/ring.hh"
#include "core/stage.hh"

namespace longhaul::core {

struct ReorderConfig {
  double probability = 0.0;  ///< 0..1: chance that an eligible packet is sent immediately
  double correlation = 0.0;  ///< 0..1 between successive decisions
  std::uint32_t gap = 1;     ///< packets delayed normally before one may go early (0 = 1)
  CorrelationModel correlation_model = CorrelationModel::preserving;
};

class Reorder final : public Stage {
 public:
  /// Wraps `delay` (connected here to this stage; it must outlive it). Holds up
  /// to capacity_packets early packets waiting for their turn.
  Reorder(const ReorderConfig& config, Stage& delay, std::size_t capacity_packets,
          std::uint64_t seed);
  Reorder(const Reorder&) = delete;
  Reorder& operator=(const Reorder&) = delete;

  /// Sends the packet early or through the delay stage.
  void accept(const Packet& packet) noexcept override;
  /// Releases early packets and the delay stage's packets due by `now`, in time order.
  void advance(Nanos now) noexcept override;
  Nanos next_wakeup() const noexcept override;

  std::uint64_t reordered() const noexcept { return reordered_; }  ///< frames sent early

 private:
  // Receives what the wrapped delay stage releases or drops.
  class Relay final : public PacketOutlet, public DropOutlet {
   public:
    explicit Relay(Reorder& owner) noexcept : owner_(owner) {}
    void accept(const Packet& packet) noexcept override { owner_.next_->accept(packet); }
    void drop(const Packet& packet, DropCause cause) noexcept override {
      owner_.drops_->drop(packet, cause);
    }

   private:
    Reorder& owner_;
  };

  Stage& delay_;
  Relay relay_;
  CorrelatedBernoulli chooser_;
  Random random_;
  std::uint32_t gap_;
  std::uint32_t counter_ = 0;
  Ring<Packet> early_;
  std::uint64_t reordered_ = 0;
};

}  // namespace longhaul::core
