#pragma once
// Loss models: independent (optionally correlated) loss, Gilbert-Elliott,
// netem's 4-state Markov model, and scheduled outages; one Stage applies them.
//
// The random models are netem's, decision for decision:
// - Gilbert-Elliott (`loss gemodel p [r [1-h [1-k]]]`): a good and a bad state.
//   Per packet, the current state decides the loss (1-k in good, 1-h in bad),
//   and the state moves good->bad with probability p, bad->good with r. Loss
//   rate = (r (1-k) + p (1-h)) / (p + r). In the simple Gilbert case (1-h = 1,
//   1-k = 0) every packet of a bad period is lost: bursts are geometric with
//   mean 1/r, gaps with mean 1/p. netem's defaults: r = 1-p, 1-h = 1, 1-k = 0
//   (so `gemodel p` alone is Bernoulli loss with probability p).
// - 4-state Markov (`loss state p13 [p31 [p32 [p23 [p14]]]]`, Salsano's GI
//   model): 1 = received in a gap period, 2 = received within a burst,
//   3 = lost within a burst, 4 = isolated loss. From 1: to 4 with p14, to 3
//   with p13, else stay; from 2: to 3 with p23; from 3: to 2 with p32, to 1
//   with p31, else stay; from 4: back to 1. A packet is lost when the chain
//   enters (or stays in) 3 or 4. netem's defaults: p31 = 1-p13, p32 = 0,
//   p23 = 1, p14 = 0 (so `state p13` alone is Bernoulli loss).
// Every decision is per wire packet: a GSO super-frame of n segments steps the
// model n times and is dropped whole if any segment is lost (the engine turns
// segmentation offloads off when a random model is configured, so this stays
// rare; partial_super_frames() counts it).
//
// Scheduled loss (a longhaul addition): everything arriving inside a window is
// lost, for explicit [start, end) windows and/or a periodic outage of `down`
// every `period` starting at `phase`, all relative to the schedule's origin
// (the engine passes the run's start time). The random model draws for every
// packet even inside an outage, so adding an outage shifts no other decision.
//
// ECN (netem's `ecn`): a packet the random model would drop is marked CE
// instead when it is ECN-capable (needs PacketBytes). Outages always drop.
#include <cstdint>
#include <variant>
#include <vector>

#include "core/distribution.hh"
#include "core/packet_access.hh"
#include "core/random.hh"
#include "core/stage.hh"

namespace longhaul::core {

/// `loss random P [CORR]`: each wire packet is lost with `probability`.
struct RandomLossConfig {
  double probability = 0.0;  ///< 0..1 (resolution 2^-53; netem's is 2^-32)
  double correlation = 0.0;  ///< 0..1, see distribution.hh for the two models
};

/// `loss gemodel p [r [1-h [1-k]]]`, all probabilities 0..1 per packet.
struct GilbertElliottConfig {
  double p = 0.0;            ///< good -> bad
  double r = 1.0;            ///< bad -> good
  double one_minus_h = 1.0;  ///< loss probability in the bad state
  double one_minus_k = 0.0;  ///< loss probability in the good state

  /// netem's values for the parameters not given: r = 1 - p, 1-h = 1, 1-k = 0.
  static GilbertElliottConfig netem_defaults(double p) noexcept;
  /// Long-run fraction of packets lost.
  double loss_rate() const noexcept;
};

/// `loss state p13 [p31 [p32 [p23 [p14]]]]`, all probabilities 0..1 per packet.
struct MarkovLossConfig {
  double p13 = 0.0;
  double p31 = 1.0;
  double p32 = 0.0;
  double p23 = 1.0;
  double p14 = 0.0;

  /// netem's values for the parameters not given: p31 = 1 - p13, p32 = 0, p23 = 1, p14 = 0.
  static MarkovLossConfig netem_defaults(double p13) noexcept;
  /// Long-run fraction of packets lost (stationary probability of states 3 and 4).
  double loss_rate() const noexcept;
};

/// No random loss, or one of the random models.
using LossModelConfig =
    std::variant<std::monostate, RandomLossConfig, GilbertElliottConfig, MarkovLossConfig>;

/// Lose everything arriving in [start, end), offsets from the schedule origin.
struct LossWindow {
  Nanos start{0};
  Nanos end{0};
};

struct LossScheduleConfig {
  std::vector<LossWindow> windows;  ///< any order; overlapping windows merge
  Nanos period{0};                  ///< periodic outage: 0 = none
  Nanos down{0};                    ///< length of each periodic outage (<= period)
  Nanos phase{0};                   ///< first periodic outage starts at origin + phase

  bool empty() const noexcept {
    return windows.empty() && (period.count() <= 0 || down.count() <= 0);
  }
};

class GilbertElliottLoss {
 public:
  /// Starts in the good state, as netem does.
  explicit GilbertElliottLoss(const GilbertElliottConfig& config) noexcept;
  /// Decides one wire packet (two uniforms: the transition, then the loss).
  bool lose(Random& random) noexcept;
  bool in_bad_state() const noexcept { return bad_; }

 private:
  GilbertElliottConfig config_;
  bool bad_ = false;
};

class MarkovLoss {
 public:
  /// Starts in state 1, as netem does.
  explicit MarkovLoss(const MarkovLossConfig& config) noexcept;
  /// Decides one wire packet (one uniform).
  bool lose(Random& random) noexcept;
  /// Current state, 1..4.
  int state() const noexcept { return state_; }

 private:
  MarkovLossConfig config_;
  int state_ = 1;
};

class ScheduledLoss {
 public:
  /// Allocates (sorts and merges the windows) here, never in lose().
  ScheduledLoss(const LossScheduleConfig& config, Nanos origin);
  /// True when `ts` falls in an outage; ts must not decrease between calls.
  bool lose(Nanos ts) noexcept;

 private:
  std::vector<LossWindow> windows_;  // sorted, disjoint
  std::size_t cursor_ = 0;           // first window that may still matter
  Nanos period_;
  Nanos down_;
  Nanos phase_;
  Nanos origin_;
};

struct LossStageConfig {
  LossModelConfig model;  ///< random loss (monostate: none)
  CorrelationModel correlation_model = CorrelationModel::preserving;  ///< for RandomLossConfig
  LossScheduleConfig schedule;                                        ///< outages
  Nanos schedule_origin{0};  ///< time the schedule's offsets count from
  bool ecn = false;          ///< mark CE instead of dropping ECN-capable packets (random models)

  /// True when a random model decides per wire packet (super-frames should arrive segmented).
  bool needs_wire_packets() const noexcept {
    return !std::holds_alternative<std::monostate>(model);
  }
};

class LossStage final : public Stage {
 public:
  /// `bytes` is needed only for ecn (without it ecn drops as usual).
  LossStage(const LossStageConfig& config, std::uint64_t seed, PacketBytes* bytes = nullptr);

  /// Passes, marks or drops at once: loss takes no time.
  void accept(const Packet& packet) noexcept override;
  void advance(Nanos) noexcept override {}
  Nanos next_wakeup() const noexcept override { return kNever; }

  /// Sets the independent loss probability from the next packet on (a
  /// schedule). Only for RandomLossConfig models: false (nothing changed) otherwise.
  bool set_random_loss(double probability) noexcept;
  /// Loses everything arriving before `end` (an outage started now by the control API),
  /// counted like a scheduled outage.
  void set_outage_until(Nanos end) noexcept { outage_until_ = end; }
  /// True when the independent loss probability can be changed (a RandomLossConfig model).
  bool has_random_loss() const noexcept { return model_.index() == 1; }

  std::uint64_t random_drops() const noexcept { return random_drops_; }        ///< frames
  std::uint64_t scheduled_drops() const noexcept { return scheduled_drops_; }  ///< frames
  std::uint64_t ecn_marked() const noexcept { return ecn_marked_; }            ///< frames
  /// Super-frames with some but not all segments chosen (then treated whole).
  std::uint64_t partial_super_frames() const noexcept { return partial_super_frames_; }

 private:
  bool draw(Random& random) noexcept;

  std::variant<std::monostate, CorrelatedBernoulli, GilbertElliottLoss, MarkovLoss> model_;
  ScheduledLoss schedule_;
  bool has_schedule_;
  bool ecn_;
  PacketBytes* bytes_;
  Random random_;
  Nanos outage_until_{0};
  std::uint64_t random_drops_ = 0;
  std::uint64_t scheduled_drops_ = 0;
  std::uint64_t ecn_marked_ = 0;
  std::uint64_t partial_super_frames_ = 0;
};

}  // namespace longhaul::core
