#pragma once
// Corruption: bits flipped in the L4 payload, so the receiver's TCP or UDP
// checksum (which covers the payload) catches the damage as it would catch a
// real link error that slipped past the Ethernet FCS. Headers are never
// touched: a flipped port or address would deliver the packet elsewhere
// instead of exercising the receiver's checksum.
//
// Two independent processes, either or both:
// - per packet (netem's `corrupt P [CORR]`): with probability P per wire
//   packet, one uniformly chosen payload bit is flipped (netem flips one bit
//   anywhere in the frame);
// - bit error rate: every payload bit flips independently with probability
//   BER, so a packet of B payload bits gets Binomial(B, BER) flips. Sampled by
//   geometric skipping over the stream of all frame bits: the gap to the next
//   error is floor(ln U / ln(1 - BER)), so the cost is one draw per error, not
//   per bit, and 1e-12 costs nothing. Errors that land on header bits are not
//   applied, which leaves each payload bit's flip probability exactly BER.
// The bytes are fetched only for a frame that gets a flip.
//
// Frames without a parsable TCP/UDP header (ARP, ICMP, fragments) or without
// payload (pure ACKs) cannot be corrupted this way; they pass unchanged and
// are counted as uncorruptible. Checksums: PacketBytes must hand out bytes
// whose checksums are final (see packet_access.hh).
#include <cstdint>

#include "core/distribution.hh"
#include "core/packet_access.hh"
#include "core/random.hh"
#include "core/stage.hh"

namespace longhaul::core {

struct CorruptConfig {
  double probability = 0.0;     ///< per wire packet: flip one payload bit, 0..1
  double correlation = 0.0;     ///< 0..1 between successive per-packet decisions
  double bit_error_rate = 0.0;  ///< per payload bit, 0..1 (any small value, e.g. 1e-12)
  CorrelationModel correlation_model = CorrelationModel::preserving;

  /// True when per-packet decisions need super-frames segmented (BER does not).
  bool needs_wire_packets() const noexcept { return probability > 0.0; }
};

class Corrupt final : public Stage {
 public:
  /// `bytes` must outlive the stage.
  Corrupt(const CorruptConfig& config, std::uint64_t seed, PacketBytes& bytes) noexcept;

  /// Flips bits if chosen and passes the packet on (no time passes).
  void accept(const Packet& packet) noexcept override;
  void advance(Nanos) noexcept override {}
  Nanos next_wakeup() const noexcept override { return kNever; }

  std::uint64_t corrupted_frames() const noexcept { return corrupted_frames_; }
  std::uint64_t flipped_bits() const noexcept { return flipped_bits_; }
  /// Frames chosen (or hit by a bit error) that had no payload to corrupt.
  std::uint64_t uncorruptible_frames() const noexcept { return uncorruptible_frames_; }

 private:
  std::uint64_t geometric_gap() noexcept;

  CorrelatedBernoulli chooser_;
  double probability_;
  double ber_;
  double log_keep_;  // ln(1 - BER)
  Random random_;
  PacketBytes& bytes_;
  std::uint64_t bits_to_error_ = 0;  // BER: error-free bits before the next error
  std::uint64_t corrupted_frames_ = 0;
  std::uint64_t flipped_bits_ = 0;
  std::uint64_t uncorruptible_frames_ = 0;
};

}  // namespace longhaul::core
