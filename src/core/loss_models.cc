#include "core/loss_models.hh"

#include <algorithm>

#include "core/ecn.hh"

namespace longhaul::core {

namespace {

double clamp01(double value) noexcept {
  if (!(value > 0.0)) return 0.0;
  return value < 1.0 ? value : 1.0;
}

}  // namespace

GilbertElliottConfig GilbertElliottConfig::netem_defaults(double p) noexcept {
  return GilbertElliottConfig{p, 1.0 - p, 1.0, 0.0};
}

double GilbertElliottConfig::loss_rate() const noexcept {
  if (p + r <= 0.0) return one_minus_k;  // never leaves the good state it starts in
  return (r * one_minus_k + p * one_minus_h) / (p + r);
}

MarkovLossConfig MarkovLossConfig::netem_defaults(double p13) noexcept {
  return MarkovLossConfig{p13, 1.0 - p13, 0.0, 1.0, 0.0};
}

double MarkovLossConfig::loss_rate() const noexcept {
  // Balance: pi4 = p14 pi1; p31 pi3 = p13 pi1; p23 pi2 = p32 pi3.
  if (p13 <= 0.0) return p14 / (1.0 + p14);  // never leaves states 1 and 4
  if (p32 > 0.0 && p23 <= 0.0) return 0.0;   // ends up in state 2 for good
  if (p31 <= 0.0) {                          // ends up in states 2 and 3 for good
    return p32 <= 0.0 ? 1.0 : p23 / (p23 + p32);
  }
  const double pi3 = p13 / p31;
  const double pi2 = p32 * pi3 / p23;
  const double pi4 = p14;
  return (pi3 + pi4) / (1.0 + pi2 + pi3 + pi4);
}

// ------------------------------------------------------------ GilbertElliottLoss

GilbertElliottLoss::GilbertElliottLoss(const GilbertElliottConfig& config) noexcept
    : config_{clamp01(config.p), clamp01(config.r), clamp01(config.one_minus_h),
              clamp01(config.one_minus_k)} {}

bool GilbertElliottLoss::lose(Random& random) noexcept {
  // sch_netem.c loss_gilb_ell: first the transition, then the loss decided by
  // the state the packet found (before the transition).
  const bool was_bad = bad_;
  const double transition = random.uniform();
  if (was_bad) {
    if (transition < config_.r) bad_ = false;
  } else {
    if (transition < config_.p) bad_ = true;
  }
  return random.uniform() < (was_bad ? config_.one_minus_h : config_.one_minus_k);
}

// -------------------------------------------------------------------- MarkovLoss

MarkovLoss::MarkovLoss(const MarkovLossConfig& config) noexcept
    : config_{clamp01(config.p13), clamp01(config.p31), clamp01(config.p32), clamp01(config.p23),
              clamp01(config.p14)} {}

bool MarkovLoss::lose(Random& random) noexcept {
  // sch_netem.c loss_4state, with the same order of comparisons.
  const double u = random.uniform();
  switch (state_) {
    case 1:
      if (u < config_.p14) {
        state_ = 4;
        return true;
      }
      if (u < config_.p14 + config_.p13) {
        state_ = 3;
        return true;
      }
      return false;
    case 2:
      if (u < config_.p23) {
        state_ = 3;
        return true;
      }
      return false;
    case 3:
      if (u < config_.p32) {
        state_ = 2;
        return false;
      }
      if (u < config_.p32 + config_.p31) {
        state_ = 1;
        return false;
      }
      return true;
    default:  // 4: an isolated loss is always followed by a received packet
      state_ = 1;
      return false;
  }
}

// ------------------------------------------------------------------ ScheduledLoss

ScheduledLoss::ScheduledLoss(const LossScheduleConfig& config, Nanos origin)
    : period_(config.period.count() > 0 ? config.period : Nanos{0}),
      down_(std::clamp(config.down, Nanos{0}, period_)),
      phase_(config.phase),
      origin_(origin) {
  std::vector<LossWindow> sorted;
  for (const LossWindow& window : config.windows) {
    if (window.end > window.start) sorted.push_back(window);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const LossWindow& a, const LossWindow& b) { return a.start < b.start; });
  for (const LossWindow& window : sorted) {
    if (!windows_.empty() && window.start <= windows_.back().end) {
      windows_.back().end = std::max(windows_.back().end, window.end);
    } else {
      windows_.push_back(window);
    }
  }
}

bool ScheduledLoss::lose(Nanos ts) noexcept {
  const Nanos t = ts - origin_;
  while (cursor_ < windows_.size() && windows_[cursor_].end <= t) ++cursor_;
  if (cursor_ < windows_.size() && windows_[cursor_].start <= t) return true;
  if (down_.count() > 0 && t >= phase_) return (t - phase_) % period_ < down_;
  return false;
}

// --------------------------------------------------------------------- LossStage

LossStage::LossStage(const LossStageConfig& config, std::uint64_t seed, PacketBytes* bytes)
    : schedule_(config.schedule, config.schedule_origin),
      has_schedule_(!config.schedule.empty()),
      ecn_(config.ecn),
      bytes_(bytes),
      random_(seed) {
  if (const auto* random_loss = std::get_if<RandomLossConfig>(&config.model)) {
    model_.emplace<CorrelatedBernoulli>(random_loss->probability, random_loss->correlation,
                                        config.correlation_model);
  } else if (const auto* ge = std::get_if<GilbertElliottConfig>(&config.model)) {
    model_.emplace<GilbertElliottLoss>(*ge);
  } else if (const auto* markov = std::get_if<MarkovLossConfig>(&config.model)) {
    model_.emplace<MarkovLoss>(*markov);
  }
}

bool LossStage::set_random_loss(double probability) noexcept {
  auto* bernoulli = std::get_if<CorrelatedBernoulli>(&model_);
  if (bernoulli == nullptr) return false;
  bernoulli->set_probability(probability);
  return true;
}

bool LossStage::draw(Random& random) noexcept {
  switch (model_.index()) {
    case 1:
      return std::get<1>(model_).next(random);
    case 2:
      return std::get<2>(model_).lose(random);
    case 3:
      return std::get<3>(model_).lose(random);
    default:
      return false;
  }
}

void LossStage::accept(const Packet& packet) noexcept {
  bool randomly_lost = false;
  if (model_.index() != 0) {
    // One decision per wire packet, always, so the random stream does not
    // depend on how the sender batched its segments or on the schedule.
    unsigned lost = 0;
    for (unsigned i = 0; i < packet.segments; ++i) lost += draw(random_) ? 1U : 0U;
    if (lost != 0 && lost != packet.segments) ++partial_super_frames_;
    randomly_lost = lost != 0;
  }
  if ((has_schedule_ && schedule_.lose(packet.ts)) || packet.ts < outage_until_) {
    ++scheduled_drops_;
    drops_->drop(packet, DropCause::loss);
    return;
  }
  if (randomly_lost) {
    if (ecn_ && bytes_ != nullptr && mark_ecn_ce(bytes_->bytes(packet))) {
      ++ecn_marked_;
      next_->accept(packet);
      return;
    }
    ++random_drops_;
    drops_->drop(packet, DropCause::loss);
    return;
  }
  next_->accept(packet);
}

}  // namespace longhaul::core
