#include "core/ecn.hh"

#include <cstdint>

namespace longhaul::core {

namespace {

unsigned byte_at(std::span<const std::byte> bytes, std::size_t at) noexcept {
  return std::to_integer<unsigned>(bytes[at]);
}

std::uint16_t read16(std::span<const std::byte> bytes, std::size_t at) noexcept {
  return static_cast<std::uint16_t>((byte_at(bytes, at) << 8) | byte_at(bytes, at + 1));
}

void write16(std::span<std::byte> bytes, std::size_t at, std::uint16_t value) noexcept {
  bytes[at] = static_cast<std::byte>(value >> 8);
  bytes[at + 1] = static_cast<std::byte>(value & 0xFF);
}

constexpr unsigned kEcnMask = 0x03;
constexpr unsigned kEcnCe = 0x03;

}  // namespace

bool mark_ecn_ce(std::span<std::byte> frame) noexcept {
  std::size_t at = 12;
  if (frame.size() < at + 2) return false;
  std::uint16_t ether_type = read16(frame, at);
  at += 2;
  for (int tags = 0; (ether_type == 0x8100 || ether_type == 0x88A8) && tags < 2; ++tags) {
    if (frame.size() < at + 4) return false;
    ether_type = read16(frame, at + 2);
    at += 4;
  }
  if (ether_type == 0x0800) {
    if (frame.size() < at + 20) return false;
    const unsigned tos = byte_at(frame, at + 1);
    if ((tos & kEcnMask) == 0) return false;  // Not-ECT
    if ((tos & kEcnMask) == kEcnCe) return true;
    // RFC 1624: HC' = ~(~HC + ~m + m') over the 16-bit word holding the TOS byte.
    const std::uint16_t old_word = read16(frame, at);
    const auto new_word = static_cast<std::uint16_t>(old_word | kEcnCe);
    std::uint32_t sum = static_cast<std::uint16_t>(~read16(frame, at + 10)) +
                        static_cast<std::uint32_t>(static_cast<std::uint16_t>(~old_word)) +
                        new_word;
    sum = (sum & 0xFFFF) + (sum >> 16);
    sum = (sum & 0xFFFF) + (sum >> 16);
    write16(frame, at, new_word);
    write16(frame, at + 10, static_cast<std::uint16_t>(~sum));
    return true;
  }
  if (ether_type == 0x86DD) {
    if (frame.size() < at + 40) return false;
    // Traffic class straddles bytes 0 and 1; its ECN bits are bits 5..4 of byte 1.
    const unsigned second = byte_at(frame, at + 1);
    const unsigned ecn = (second >> 4) & kEcnMask;
    if (ecn == 0) return false;
    frame[at + 1] = static_cast<std::byte>(second | (kEcnCe << 4));
    return true;
  }
  return false;
}

}  // namespace longhaul::core
