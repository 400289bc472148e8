#include "core/frame.hh"

#include <algorithm>

namespace longhaul::core {

namespace {

std::uint16_t read16(std::span<const std::byte> bytes, std::size_t at) noexcept {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(bytes[at]) << 8) |
                                    std::to_integer<unsigned>(bytes[at + 1]));
}
unsigned byte_at(std::span<const std::byte> bytes, std::size_t at) noexcept {
  return std::to_integer<unsigned>(bytes[at]);
}

constexpr std::uint16_t kEthIpv4 = 0x0800;
constexpr std::uint16_t kEthIpv6 = 0x86DD;
constexpr std::uint16_t kEthVlan = 0x8100;
constexpr std::uint16_t kEthQinQ = 0x88A8;
constexpr unsigned kProtoTcp = 6;
constexpr unsigned kProtoUdp = 17;

}  // namespace

std::optional<std::uint32_t> l4_payload_offset(std::span<const std::byte> frame) noexcept {
  std::size_t at = 12;
  if (frame.size() < at + 2) return std::nullopt;
  std::uint16_t ether_type = read16(frame, at);
  at += 2;
  for (int tags = 0; (ether_type == kEthVlan || ether_type == kEthQinQ) && tags < 2; ++tags) {
    if (frame.size() < at + 4) return std::nullopt;
    ether_type = read16(frame, at + 2);
    at += 4;
  }
  unsigned protocol = 0;
  if (ether_type == kEthIpv4) {
    if (frame.size() < at + 20) return std::nullopt;
    const std::size_t ihl = (byte_at(frame, at) & 0x0F) * 4U;
    if (ihl < 20) return std::nullopt;
    protocol = byte_at(frame, at + 9);
    at += ihl;
  } else if (ether_type == kEthIpv6) {
    if (frame.size() < at + 40) return std::nullopt;
    protocol = byte_at(frame, at + 6);
    at += 40;
    // Hop-by-hop, routing, destination options: length in 8-octet units past the first 8.
    for (int hops = 0; hops < 8 && (protocol == 0 || protocol == 43 || protocol == 60); ++hops) {
      if (frame.size() < at + 8) return std::nullopt;
      protocol = byte_at(frame, at);
      at += (byte_at(frame, at + 1) + 1U) * 8U;
    }
  } else {
    return std::nullopt;
  }
  if (protocol == kProtoTcp) {
    if (frame.size() < at + 20) return std::nullopt;
    const std::size_t data_offset = (byte_at(frame, at + 12) >> 4) * 4U;
    if (data_offset < 20) return std::nullopt;
    at += data_offset;
  } else if (protocol == kProtoUdp) {
    at += 8;
  } else {
    return std::nullopt;
  }
  if (at > frame.size()) return std::nullopt;
  return static_cast<std::uint32_t>(at);
}

std::optional<std::uint32_t> l3_offset(std::span<const std::byte> frame) noexcept {
  std::size_t at = 12;
  if (frame.size() < at + 2) return std::nullopt;
  std::uint16_t ether_type = read16(frame, at);
  at += 2;
  for (int tags = 0; (ether_type == kEthVlan || ether_type == kEthQinQ) && tags < 2; ++tags) {
    if (frame.size() < at + 4) return std::nullopt;
    ether_type = read16(frame, at + 2);
    at += 4;
  }
  return static_cast<std::uint32_t>(at);
}

std::optional<std::uint32_t> largest_l3_bytes(std::span<const std::byte> frame,
                                              std::uint16_t gso_size) noexcept {
  const auto length = static_cast<std::uint32_t>(frame.size());
  const std::uint32_t l3 = l3_offset(frame).value_or(std::min<std::uint32_t>(length, 14));
  if (gso_size == 0) return length - std::min(l3, length);
  const auto header = l4_payload_offset(frame);
  if (!header || *header < l3) return std::nullopt;
  const std::uint32_t payload = length - *header;
  return *header - l3 + std::min<std::uint32_t>(payload, gso_size);
}

std::optional<WireShape> wire_shape(std::span<const std::byte> frame,
                                    std::uint16_t gso_size) noexcept {
  const auto length = static_cast<std::uint32_t>(frame.size());
  if (gso_size == 0) return WireShape{1, length};
  const auto header = l4_payload_offset(frame);
  if (!header) return std::nullopt;
  const std::uint32_t payload = length - *header;
  const std::uint32_t segments = payload == 0 ? 1 : (payload + gso_size - 1U) / gso_size;
  if (segments > 0xFFFF) return std::nullopt;
  return WireShape{static_cast<std::uint16_t>(segments), payload + segments * *header};
}

}  // namespace longhaul::core
