#include "engine/socket_ports.hh"

#include <algorithm>
#include <cstring>

namespace longhaul::engine {

namespace {

/// The SCM_TIMESTAMPNS stamp of a received message (CLOCK_REALTIME), or 0.
Nanos kernel_stamp(msghdr& message) noexcept {
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
    timespec ts{};
    std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
    return Nanos{ts.tv_sec * 1'000'000'000LL + ts.tv_nsec};
  }
  return Nanos{0};
}

}  // namespace

std::size_t SocketIngress::receive(std::span<RxSlot> slots) noexcept {
  const std::size_t count = std::min(slots.size(), kMaxBatch);
  for (std::size_t i = 0; i < count; ++i) {
    iovecs_[i].iov_base = slots[i].buffer;
    iovecs_[i].iov_len = kVnetHeaderBytes + kMaxFrameBytes;
    messages_[i].msg_hdr = msghdr{};
    messages_[i].msg_hdr.msg_iov = &iovecs_[i];
    messages_[i].msg_hdr.msg_iovlen = 1;
    messages_[i].msg_hdr.msg_control = controls_[i].bytes;
    messages_[i].msg_hdr.msg_controllen = sizeof controls_[i].bytes;
  }
  const int got = socket_.receive(messages_.data(), static_cast<unsigned>(count));
  if (got <= 0) return 0;
  // The kernel stamps with CLOCK_REALTIME: converted to the engine's clock, or left out for
  // the whole batch when the conversion cannot be trusted (see RealtimeStamps).
  const bool stamps_usable = stamps_.update(read_clocks());
  for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) {
    const std::uint32_t length = messages_[i].msg_len;
    slots[i].truncated = (messages_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 ||
                         length > kVnetHeaderBytes + kMaxFrameBytes;
    slots[i].length = std::min<std::uint32_t>(length, kVnetHeaderBytes + kMaxFrameBytes);
    const Nanos stamp = kernel_stamp(messages_[i].msg_hdr);
    slots[i].arrived =
        stamp.count() == 0 || !stamps_usable ? Nanos{0} : stamps_.to_monotonic(stamp);
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
