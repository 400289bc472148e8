#include "engine/socket_ports.hh"

#include <algorithm>

namespace longhaul::engine {

std::size_t SocketIngress::receive(std::span<RxSlot> slots) noexcept {
  const std::size_t count = std::min(slots.size(), kMaxBatch);
  for (std::size_t i = 0; i < count; ++i) {
    iovecs_[i].iov_base = slots[i].buffer;
    iovecs_[i].iov_len = kVnetHeaderBytes + kMaxFrameBytes;
    messages_[i].msg_hdr = msghdr{};
    messages_[i].msg_hdr.msg_iov = &iovecs_[i];
    messages_[i].msg_hdr.msg_iovlen = 1;
  }
  const int got = socket_.receive(messages_.data(), static_cast<unsigned>(count));
  if (got <= 0) return 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) {
    const std::uint32_t length = messages_[i].msg_len;
    slots[i].truncated = (messages_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 ||
                         length > kVnetHeaderBytes + kMaxFrameBytes;
    slots[i].length = std::min<std::uint32_t>(length, kVnetHeaderBytes + kMaxFrameBytes);
  }
  return static_cast<std::size_t>(got);
}

EgressPort::SendResult SocketEgress::send(std::span<const TxFrame> frames) noexcept {
  const std::size_t count = std::min(frames.size(), kMaxBatch);
  for (std::size_t i = 0; i < count; ++i) {
    iovecs_[i].iov_base = const_cast<std::byte*>(frames[i].data);
    iovecs_[i].iov_len = frames[i].length;
    messages_[i].msg_hdr = msghdr{};
    messages_[i].msg_hdr.msg_iov = &iovecs_[i];
    messages_[i].msg_hdr.msg_iovlen = 1;
  }
  const int sent = socket_.send(messages_.data(), static_cast<unsigned>(count));
  if (sent < 0) return SendResult{0, true};
  return SendResult{static_cast<std::size_t>(sent), false};
}

}  // namespace longhaul::engine
