// Frames as they arrive from the wire, any bytes at all: L3/L4 offsets, wire shapes of
// super-frames, and the ICMP "too big" reply built from them (which must fit where it says).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "core/frame.hh"
#include "core/icmp.hh"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace longhaul::core;
  if (size < 6) return 0;
  // The first 6 bytes pick gso_size and the MTU, the rest is the frame.
  std::uint16_t gso_size = 0;
  std::uint32_t mtu = 0;
  std::memcpy(&gso_size, data, 2);
  std::memcpy(&mtu, data + 2, 4);
  // An exactly-sized copy, so reading past the frame is caught by AddressSanitizer.
  std::vector<std::byte> frame(size - 6);
  if (!frame.empty()) std::memcpy(frame.data(), data + 6, frame.size());
  const std::span<const std::byte> view(frame);
  (void)l3_offset(view);
  (void)l4_payload_offset(view);
  (void)largest_l3_bytes(view, gso_size);
  (void)wire_shape(view, gso_size);
  std::vector<std::byte> reply(kTooBigReplyMaxBytes);
  const std::size_t length = build_too_big_reply(view, mtu, reply);
  if (length > reply.size()) std::abort();
  // Too small a buffer: no reply, never a write past it.
  std::vector<std::byte> small(length / 2);
  if (length != 0 && build_too_big_reply(view, mtu, small) != 0) std::abort();
  return 0;
}
