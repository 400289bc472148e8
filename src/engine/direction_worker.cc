#include "engine/direction_worker.hh"

#include <poll.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cstring>

#include "core/frame.hh"
#include "core/icmp.hh"
#include "engine/socket_ports.hh"

namespace longhaul::engine {

namespace {
constexpr std::size_t kSlotBytes = kVnetHeaderBytes + kMaxFrameBytes;
// Drain at most this many batches before servicing releases, so a flood on
// ingress cannot starve the release schedule.
constexpr int kMaxBatchesPerPass = 4;
}  // namespace

DirectionWorker::DirectionWorker(const core::DirectionConfig& config, const WorkerOptions& options,
                                 IngressPort& ingress, EgressPort& egress, const Clock& clock,
                                 core::DirectionCounters& counters, EgressPort* reply)
    : ingress_(ingress),
      egress_(egress),
      reply_(config.mtu_icmp ? reply : nullptr),
      clock_(clock),
      options_(options),
      arena_(options.arena_bytes),
      access_(arena_),
      pipeline_(config, options.capacity_packets, *this, counters, &access_, &access_),
      pending_(options.capacity_packets),
      scratch_(new std::byte[kSlotBytes * kMaxBatch]),
      slots_(kMaxBatch),
      tx_batch_(kMaxBatch) {
  if (reply_ != nullptr) {
    reply_frame_ = std::make_unique<std::byte[]>(kVnetHeaderBytes + core::kTooBigReplyMaxBytes);
  }
  for (std::size_t i = 0; i < kMaxBatch; ++i) slots_[i].buffer = scratch_.get() + i * kSlotBytes;
}

DirectionWorker::~DirectionWorker() = default;

Nanos arrival_time(Nanos stamp, Nanos now, Nanos previous) noexcept {
  const bool plausible = stamp.count() != 0 && stamp <= now && now - stamp <= kMaxStampAge;
  return std::max(plausible ? stamp : now, previous);
}

void DirectionWorker::ingest_one(const RxSlot& slot, Nanos now) noexcept {
  core::Packet packet;
  packet.ts = arrival_time(slot.arrived, now, last_arrival_);
  last_arrival_ = packet.ts;
  if (slot.arrived.count() != 0) stats_.ingress_wait.record(now - packet.ts);
  packet.seq = next_seq_++;
  packet.buffer = kNoBuffer;
  if (slot.truncated || slot.length <= kVnetHeaderBytes) {
    // Count the L2 bytes that arrived, like every other counter (not the vnet header).
    const std::uint32_t l2 =
        slot.length > kVnetHeaderBytes ? slot.length - std::uint32_t{kVnetHeaderBytes} : 0;
    packet.frame_bytes = l2;
    packet.l2_bytes = l2;
    pipeline_.reject(packet, core::DropCause::malformed);
    return;
  }
  VnetHeader header;
  std::memcpy(&header, slot.buffer, sizeof header);
  const std::span<const std::byte> frame(slot.buffer + kVnetHeaderBytes,
                                         slot.length - kVnetHeaderBytes);
  packet.frame_bytes = static_cast<std::uint32_t>(frame.size());
  const bool super_frame = (header.gso_type & ~kVnetGsoEcn) != kVnetGsoNone && header.gso_size != 0;
  const auto shape = core::wire_shape(frame, super_frame ? header.gso_size : std::uint16_t{0});
  if (!shape) {
    packet.l2_bytes = packet.frame_bytes;
    pipeline_.reject(packet, core::DropCause::malformed);
    return;
  }
  packet.segments = shape->segments;
  packet.l2_bytes = shape->l2_bytes;
  // The MTU limits each wire packet's IP size: a super-frame is judged by its
  // largest segment (headers plus gso_size), as the wire would carry it.
  if (const std::uint32_t mtu = pipeline_.config().mtu_bytes; mtu != 0) {
    const auto l3_bytes = core::largest_l3_bytes(frame, super_frame ? header.gso_size : 0);
    if (l3_bytes && *l3_bytes > mtu) {
      answer_too_big(frame);
      pipeline_.reject(packet, core::DropCause::mtu);
      return;
    }
  }
  packet.wire_bytes = pipeline_.wire_bytes(shape->l2_bytes, shape->segments);
  const auto handle = arena_.allocate(slot.length);
  if (!handle) {
    pipeline_.reject(packet, core::DropCause::buffer_exhausted);
    return;
  }
  std::memcpy(arena_.data(*handle), slot.buffer, slot.length);
  packet.buffer = *handle;
  pipeline_.push(packet);
}

std::size_t DirectionWorker::ingest() noexcept {
  std::size_t total = 0;
  for (int batch = 0; batch < kMaxBatchesPerPass; ++batch) {
    const std::size_t got = ingress_.receive(slots_);
    if (got == 0) break;
    // The clock is read after the frames are in hand: read before, a thread paused
    // in between would stamp unstamped frames that arrived during the pause with an
    // earlier time and release them early by the length of the pause. Stamped
    // frames get the kernel's receive time (never later than this).
    const Nanos now = clock_.now();
    for (std::size_t i = 0; i < got; ++i) ingest_one(slots_[i], now);
    total += got;
    if (got < slots_.size()) break;
  }
  return total;
}

void DirectionWorker::answer_too_big(std::span<const std::byte> frame) noexcept {
  if (reply_ == nullptr) return;
  const std::span<std::byte> out(reply_frame_.get() + kVnetHeaderBytes, core::kTooBigReplyMaxBytes);
  const std::size_t length = core::build_too_big_reply(frame, pipeline_.config().mtu_bytes, out);
  if (length == 0) return;
  // No offloads: the reply's checksums are complete.
  std::memset(reply_frame_.get(), 0, kVnetHeaderBytes);
  const TxFrame reply{reply_frame_.get(), static_cast<std::uint32_t>(kVnetHeaderBytes + length)};
  // Best effort, like a router's ICMP: a full socket loses the message, never blocks.
  if (reply_->send(std::span<const TxFrame>(&reply, 1)).sent == 1) stats_.too_big_replies.add(1);
}

void DirectionWorker::transmit(const core::Packet& packet) noexcept {
  if (!pending_.push_back(packet)) {
    pipeline_.transmit_failed(packet);
    arena_.release(packet.buffer);
  }
}

void DirectionWorker::discard(const core::Packet& packet, core::DropCause) noexcept {
  if (packet.buffer != kNoBuffer) arena_.release(packet.buffer);
}

bool DirectionWorker::flush() noexcept {
  while (!pending_.empty()) {
    const std::size_t count = std::min(pending_.size(), tx_batch_.size());
    for (std::size_t i = 0; i < count; ++i) {
      const core::Packet& packet = pending_.at(i);
      tx_batch_[i].data = arena_.data(packet.buffer);
      tx_batch_[i].length = static_cast<std::uint32_t>(kVnetHeaderBytes + packet.frame_bytes);
    }
    // Lateness is taken when the frames are handed to the kernel: the send call
    // itself may run the receiver's whole network stack (veth delivers inline).
    const Nanos now = clock_.now();
    const auto result = egress_.send(std::span<const TxFrame>(tx_batch_.data(), count));
    for (std::size_t i = 0; i < result.sent; ++i) {
      const core::Packet& packet = pending_.front();
      stats_.release_lateness.record(now - packet.ts);
      arena_.release(packet.buffer);
      pending_.pop_front();
    }
    if (result.refused) {
      const core::Packet& packet = pending_.front();
      pipeline_.transmit_failed(packet);
      arena_.release(packet.buffer);
      pending_.pop_front();
      continue;
    }
    if (result.sent < count) {
      stats_.tx_blocked.add(1);
      return false;
    }
  }
  return true;
}

void DirectionWorker::take_live_changes() noexcept {
  core::LiveChange change;
  while (pipeline_.pending_live() < core::Pipeline::kMaxPendingLive && mailbox_.take(change)) {
    pipeline_.schedule_live(change);
  }
}

std::size_t DirectionWorker::poll_once() noexcept {
  // Before the arrivals: a change due before them applies to them.
  take_live_changes();
  const std::size_t received = ingest();
  pipeline_.advance(clock_.now());
  flush();
  // Port statistics cost a syscall: read them every so often, not every pass.
  if ((++passes_ & 0xFF) == 0) collect_port_statistics();
  return received;
}

void DirectionWorker::collect_port_statistics() noexcept {
  if (const std::uint64_t lost = ingress_.take_lost_before_ingress(); lost != 0) {
    stats_.lost_before_ingress.add(lost);
  }
}

namespace {

/// Single writer: replaces a counter's value (the counters only offer add and sub).
void set_counter(core::RelaxedCounter& counter, std::uint64_t value) noexcept {
  counter.sub(counter.get());
  counter.add(value);
}

}  // namespace

void DirectionWorker::publish_model_counts() noexcept {
  set_counter(stats_.ecn_marked,
              pipeline_.rate_queue().ecn_marked() + pipeline_.loss().ecn_marked());
  set_counter(stats_.aqm_dropped, pipeline_.rate_queue().aqm_dropped());
  set_counter(stats_.outage_dropped, pipeline_.loss().scheduled_drops());
  set_counter(stats_.schedule_changes, pipeline_.changes_applied());
}

void DirectionWorker::sample_cpu(Nanos now) noexcept {
  last_cpu_sample_ = now;
  publish_model_counts();
  const auto times = schedstat_.read();
  if (!times) return;
  const auto since_start = [](Nanos value, Nanos baseline) {
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, (value - baseline).count()));
  };
  set_counter(stats_.cpu_running_ns, since_start(times->running, cpu_baseline_.running));
  set_counter(stats_.cpu_waiting_ns, since_start(times->waiting, cpu_baseline_.waiting));
  stats_.cpu_samples.add(1);
}

void DirectionWorker::run(int stop_fd, const std::atomic<bool>& stopping) noexcept {
  // The kernel's default 50 us timer slack would add that much to every sleep.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  // Opened here: /proc/thread-self is the thread that opens it.
  schedstat_ = io::ThreadSchedstat::for_this_thread();
  if (const auto times = schedstat_.read()) cpu_baseline_ = *times;
  last_cpu_sample_ = clock_.now();
  pollfd fds[4] = {{stop_fd, POLLIN, 0},
                   {ingress_.wait_fd(), POLLIN, 0},
                   {-1, POLLOUT, 0},
                   {mailbox_.wake_fd(), POLLIN, 0}};
  for (;;) {
    const std::size_t received = poll_once();
    if (received >= kMaxBatch) continue;  // more is probably waiting
    const Nanos now = clock_.now();
    if (now - last_cpu_sample_ >= kCpuSampleInterval) sample_cpu(now);
    const Nanos wake = pipeline_.next_wakeup();
    const bool blocked = !pending_.empty();
    fds[2].fd = blocked ? egress_.wait_fd() : -1;
    timespec timeout{};
    const timespec* timeout_ptr = nullptr;
    if (wake != core::kNever) {
      const Nanos until = wake - now;
      if (until <= options_.spin) {
        // Busy-poll the last stretch; a stop request is seen through the flag.
        if (stopping.load(std::memory_order_relaxed)) break;
        continue;
      }
      const Nanos sleep = until - options_.spin;
      timeout.tv_sec = static_cast<time_t>(sleep.count() / 1'000'000'000);
      timeout.tv_nsec = static_cast<long>(sleep.count() % 1'000'000'000);
      timeout_ptr = &timeout;
    } else if (blocked) {
      timeout.tv_nsec = 100'000;  // egress full and nothing else due: retry soon
      timeout_ptr = &timeout;
    }
    const int ready = ::ppoll(fds, 4, timeout_ptr, nullptr);
    if (ready > 0 && (fds[0].revents & POLLIN) != 0) break;
    // Cleared before the next pass takes the changes, so a later post wakes the next ppoll.
    if (ready > 0 && (fds[3].revents & POLLIN) != 0) mailbox_.drain_wakeups();
  }
  collect_port_statistics();
  sample_cpu(clock_.now());
}

}  // namespace longhaul::engine
