#include "core/loss.hh"

namespace longhaul::core {

void BernoulliLoss::accept(const Packet& packet) noexcept {
  if (probability_ <= 0.0) {
    next_->accept(packet);
    return;
  }
  // One draw per wire packet, always, so the random stream (and with it every
  // later decision) does not depend on how the sender batched its segments.
  unsigned lost = 0;
  for (unsigned i = 0; i < packet.segments; ++i) lost += random_.bernoulli(probability_) ? 1U : 0U;
  if (lost == 0) {
    next_->accept(packet);
    return;
  }
  if (lost != packet.segments) ++partial_super_frames_;
  drops_->drop(packet, DropCause::loss);
}

}  // namespace longhaul::core
