#include "core/corrupt.hh"

#include <cmath>

#include "core/frame.hh"

namespace longhaul::core {

namespace {

double clamp01(double value) noexcept {
  if (!(value > 0.0)) return 0.0;
  return value < 1.0 ? value : 1.0;
}

void flip(std::span<std::byte> bytes, std::uint64_t bit) noexcept {
  bytes[static_cast<std::size_t>(bit / 8)] ^= static_cast<std::byte>(1U << (bit % 8));
}

}  // namespace

Corrupt::Corrupt(const CorruptConfig& config, std::uint64_t seed, PacketBytes& bytes) noexcept
    : chooser_(config.probability, config.correlation, config.correlation_model),
      probability_(clamp01(config.probability)),
      ber_(clamp01(config.bit_error_rate)),
      log_keep_(std::log1p(-ber_)),
      random_(seed),
      bytes_(bytes) {
  if (ber_ > 0.0) bits_to_error_ = geometric_gap();
}

std::uint64_t Corrupt::geometric_gap() noexcept {
  // P(gap >= n) = (1 - BER)^n: floor(ln U / ln(1 - BER)) with U in (0, 1].
  if (ber_ >= 1.0) return 0;
  const double gap = std::floor(std::log(1.0 - random_.uniform()) / log_keep_);
  if (!(gap < 1.8e19)) return UINT64_MAX;
  return static_cast<std::uint64_t>(gap);
}

void Corrupt::accept(const Packet& packet) noexcept {
  unsigned chosen = 0;
  if (probability_ > 0.0) {
    for (unsigned i = 0; i < packet.segments; ++i) chosen += chooser_.next(random_) ? 1U : 0U;
  }
  const std::uint64_t frame_bits = std::uint64_t{packet.frame_bytes} * 8;
  const bool bit_error_here = ber_ > 0.0 && bits_to_error_ < frame_bits;
  if (chosen == 0 && !bit_error_here) {
    if (ber_ > 0.0) bits_to_error_ -= frame_bits;
    next_->accept(packet);
    return;
  }
  const std::span<std::byte> bytes = bytes_.bytes(packet);
  const std::optional<std::uint32_t> header = l4_payload_offset(bytes);
  const bool has_payload = header && *header < bytes.size();
  const std::uint64_t header_bits = has_payload ? std::uint64_t{*header} * 8 : 0;
  const std::uint64_t span_bits = std::uint64_t{bytes.size()} * 8;
  std::uint64_t flipped = 0;
  bool missed = false;
  if (chosen != 0) {
    if (has_payload) {
      const std::uint64_t payload_bits = span_bits - header_bits;
      for (unsigned i = 0; i < chosen; ++i) {
        auto bit =
            static_cast<std::uint64_t>(random_.uniform() * static_cast<double>(payload_bits));
        if (bit >= payload_bits) bit = payload_bits - 1;
        flip(bytes, header_bits + bit);
        ++flipped;
      }
    } else {
      missed = true;
    }
  }
  if (ber_ > 0.0) {
    std::uint64_t position = 0;
    while (bits_to_error_ < frame_bits - position) {
      const std::uint64_t error = position + bits_to_error_;
      if (!has_payload) {
        missed = true;
      } else if (error >= header_bits && error < span_bits) {
        flip(bytes, error);
        ++flipped;
      }
      position = error + 1;
      bits_to_error_ = geometric_gap();
    }
    bits_to_error_ -= frame_bits - position;
  }
  flipped_bits_ += flipped;
  if (flipped != 0) ++corrupted_frames_;
  if (missed) ++uncorruptible_frames_;
  next_->accept(packet);
}

}  // namespace longhaul::core
