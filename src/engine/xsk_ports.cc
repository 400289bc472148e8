#include "engine/xsk_ports.hh"

#include <algorithm>
#include <cstring>

#include "core/checksum.hh"

namespace longhaul::engine {

std::size_t XskIngress::receive(std::span<RxSlot> slots) noexcept {
  const std::size_t count = std::min(slots.size(), frames_.size());
  const std::size_t got = socket_->peek_received(std::span(frames_.data(), count));
  for (std::size_t i = 0; i < got; ++i) {
    RxSlot& slot = slots[i];
    const io::XskSocket::Frame& frame = frames_[i];
    const std::uint32_t kept = std::min<std::uint32_t>(frame.length, kMaxFrameBytes);
    std::memset(slot.buffer, 0, kVnetHeaderBytes);
    std::memcpy(slot.buffer + kVnetHeaderBytes, frame.data, kept);
    slot.length = static_cast<std::uint32_t>(kVnetHeaderBytes + kept);
    slot.truncated = kept < frame.length;
    slot.arrived = Nanos{0};
  }
  socket_->release_received(got);
  return got;
}

EgressPort::SendResult XskEgress::send(std::span<const TxFrame> frames) noexcept {
  // The engine offers frames front first and drops them from its queue only once reported
  // sent, so the first in_ring_ frames are the ones already queued here.
  in_ring_ = std::min(in_ring_, frames.size());
  const std::span<const TxFrame> fresh =
      frames.subspan(in_ring_, std::min(frames.size() - in_ring_, lengths_.size()));
  const std::uint32_t room = socket_->reserve_transmit(static_cast<std::uint32_t>(fresh.size()));
  std::uint32_t copied = 0;
  bool refused = false;
  for (; copied < room; ++copied) {
    const TxFrame& frame = fresh[copied];
    if (frame.length < kVnetHeaderBytes) {
      refused = true;
      break;
    }
    VnetHeader header;
    std::memcpy(&header, frame.data, sizeof header);
    const std::uint32_t frame_bytes = frame.length - static_cast<std::uint32_t>(kVnetHeaderBytes);
    // TSO is off on the peers while XDP is attached, so super-frames cannot arrive here.
    if ((header.gso_type & ~kVnetGsoEcn) != kVnetGsoNone ||
        frame_bytes > io::XskSocket::max_transmit_bytes()) {
      refused = true;
      break;
    }
    std::byte* out = socket_->transmit_buffer(copied);
    std::memcpy(out, frame.data + kVnetHeaderBytes, frame_bytes);
    if ((header.flags & kVnetNeedsChecksum) != 0) {
      // An offset outside the frame leaves it as it is; its receiver will drop it.
      core::complete_partial_checksum(std::span(out, frame_bytes), header.csum_start,
                                      header.csum_offset);
    }
    lengths_[copied] = frame_bytes;
  }
  socket_->submit_transmit(std::span(lengths_.data(), copied));
  const std::uint32_t waiting = socket_->kick_transmit();
  const std::size_t queued = in_ring_ + copied;
  const std::size_t taken = queued - std::min<std::size_t>(waiting, queued);
  in_ring_ = queued - taken;
  // A refusal names frames[sent]: only true when nothing before it is still waiting.
  return SendResult{taken, refused && in_ring_ == 0};
}

}  // namespace longhaul::engine
