#include "core/checksum.hh"

namespace longhaul::core {

std::uint32_t ones_complement_sum(std::span<const std::byte> bytes,
                                  std::uint32_t initial) noexcept {
  std::uint64_t sum = initial;
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) {
    sum += (std::to_integer<std::uint32_t>(bytes[i]) << 8) |
           std::to_integer<std::uint32_t>(bytes[i + 1]);
  }
  if (i < bytes.size()) sum += std::to_integer<std::uint32_t>(bytes[i]) << 8;  // pad odd byte
  while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint32_t>(sum);
}

bool complete_partial_checksum(std::span<std::byte> frame, std::uint16_t csum_start,
                               std::uint16_t csum_offset) noexcept {
  const std::size_t field = std::size_t{csum_start} + csum_offset;
  if (csum_start >= frame.size() || field + 2 > frame.size()) return false;
  const std::uint32_t sum = ones_complement_sum(frame.subspan(csum_start));
  auto result = static_cast<std::uint16_t>(~sum & 0xFFFF);
  // UDP transmits a computed zero as all ones (zero means "no checksum"); for
  // TCP the two encodings are equivalent, so the rule is safe for both.
  if (result == 0) result = 0xFFFF;
  frame[field] = static_cast<std::byte>(result >> 8);
  frame[field + 1] = static_cast<std::byte>(result & 0xFF);
  return true;
}

}  // namespace longhaul::core
