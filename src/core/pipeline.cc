#include "core/pipeline.hh"

#include <algorithm>

namespace longhaul::core {

namespace {
constexpr std::uint64_t kStreamLoss = 1;
constexpr std::uint32_t kMinFrameBytes = 60;  // Ethernet minimum without FCS
}  // namespace

Pipeline::Pipeline(const DirectionConfig& config, std::size_t capacity_packets,
                   PipelineEgress& egress, DirectionCounters& counters)
    : config_(config),
      egress_(egress),
      counters_(counters),
      loss_(config.loss, derive_seed(config.seed, kStreamLoss)),
      rate_queue_(config.rate_bps, config.queue, capacity_packets),
      delay_line_(config.delay, capacity_packets) {
  loss_.connect(rate_queue_, *this);
  rate_queue_.connect(delay_line_, *this);
  delay_line_.connect(*this, *this);
}

std::uint32_t Pipeline::wire_bytes(std::uint32_t l2_bytes, std::uint16_t segments) const noexcept {
  const std::uint32_t padded = std::max(l2_bytes, kMinFrameBytes * segments);
  return padded + config_.overhead_bytes * segments;
}

void Pipeline::push(const Packet& packet) noexcept {
  counters_.frames_in.add(1);
  counters_.packets_in.add(packet.segments);
  counters_.bytes_in.add(packet.l2_bytes);
  counters_.packets_queued.add(packet.segments);
  counters_.bytes_queued.add(packet.l2_bytes);
  loss_.accept(packet);
}

void Pipeline::reject(const Packet& packet, DropCause cause) noexcept {
  counters_.frames_in.add(1);
  counters_.packets_in.add(packet.segments);
  counters_.bytes_in.add(packet.l2_bytes);
  const auto index = static_cast<std::size_t>(cause);
  counters_.dropped_packets[index].add(packet.segments);
  counters_.dropped_bytes[index].add(packet.l2_bytes);
  egress_.discard(packet, cause);
}

void Pipeline::transmit_failed(const Packet& packet) noexcept {
  counters_.frames_out.sub(1);
  counters_.packets_out.sub(packet.segments);
  counters_.bytes_out.sub(packet.l2_bytes);
  const auto index = static_cast<std::size_t>(DropCause::tx_error);
  counters_.dropped_packets[index].add(packet.segments);
  counters_.dropped_bytes[index].add(packet.l2_bytes);
}

void Pipeline::advance(Nanos now) noexcept {
  rate_queue_.advance(now);
  delay_line_.advance(now);
}

Nanos Pipeline::next_wakeup() const noexcept {
  return std::min(rate_queue_.next_wakeup(), delay_line_.next_wakeup());
}

void Pipeline::accept(const Packet& packet) noexcept {
  counters_.packets_queued.sub(packet.segments);
  counters_.bytes_queued.sub(packet.l2_bytes);
  counters_.frames_out.add(1);
  counters_.packets_out.add(packet.segments);
  counters_.bytes_out.add(packet.l2_bytes);
  egress_.transmit(packet);
}

void Pipeline::drop(const Packet& packet, DropCause cause) noexcept {
  counters_.packets_queued.sub(packet.segments);
  counters_.bytes_queued.sub(packet.l2_bytes);
  const auto index = static_cast<std::size_t>(cause);
  counters_.dropped_packets[index].add(packet.segments);
  counters_.dropped_bytes[index].add(packet.l2_bytes);
  egress_.discard(packet, cause);
}

}  // namespace longhaul::core
