#include "core/duplicate.hh"

namespace longhaul::core {

Duplicate::Duplicate(const DuplicateConfig& config, std::uint64_t seed,
                     PacketCloner& cloner) noexcept
    : chooser_(config.probability, config.correlation, config.correlation_model),
      random_(seed),
      cloner_(cloner),
      enabled_(config.probability > 0.0) {}

void Duplicate::accept(const Packet& packet) noexcept {
  if (!enabled_) {
    next_->accept(packet);
    return;
  }
  // One draw per wire packet, always (the stream must not depend on batching).
  unsigned chosen = 0;
  for (unsigned i = 0; i < packet.segments; ++i) chosen += chooser_.next(random_) ? 1U : 0U;
  // Clone before passing the original on: a later stage may change its bytes.
  std::optional<BufferHandle> copy_buffer;
  if (chosen != 0) {
    if (chosen != packet.segments) ++partial_super_frames_;
    copy_buffer = cloner_.clone(packet);
    if (!copy_buffer) ++clone_failures_;
  }
  next_->accept(packet);
  if (copy_buffer) {
    Packet copy = packet;
    copy.buffer = *copy_buffer;
    ++duplicated_;
    next_->accept(copy);
  }
}

}  // namespace longhaul::core
