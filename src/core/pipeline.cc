#include "core/pipeline.hh"

#include <algorithm>
#include <stdexcept>

namespace longhaul::core {

namespace {
// Random streams per direction; stream 1 keeps the outcomes of earlier versions' loss.
constexpr std::uint64_t kStreamLoss = 1;
constexpr std::uint64_t kStreamDuplicate = 2;
constexpr std::uint64_t kStreamCorrupt = 3;
constexpr std::uint64_t kStreamDelay = 4;
constexpr std::uint64_t kStreamReorder = 5;
constexpr std::uint64_t kStreamQueue = 6;
constexpr std::uint32_t kMinFrameBytes = 60;  // Ethernet minimum without FCS
}  // namespace

LossStageConfig DirectionConfig::effective_loss() const {
  LossStageConfig result = loss_model;
  // A schedule that changes the loss needs the random model even while it is 0.
  if (!result.needs_wire_packets() && (loss > 0.0 || schedule.changes_loss())) {
    result.model = RandomLossConfig{loss, 0.0};
    result.correlation_model = correlation_model;
  }
  return result;
}

JitterDelayConfig DirectionConfig::jitter_config() const {
  JitterDelayConfig result;
  result.jitter.delay = delay;
  result.jitter.jitter = jitter;
  result.jitter.correlation = jitter_correlation;
  result.jitter.shape = jitter_shape;
  result.jitter.table = jitter_table;
  result.jitter.correlation_model = correlation_model;
  result.mode = jitter_mode;
  return result;
}

std::uint64_t DirectionConfig::max_rate_bps() const noexcept {
  return std::max({rate_bps, schedule.max_rate_bps(), capacity_trace.max_rate_bps()});
}

Nanos DirectionConfig::max_delay() const noexcept {
  return std::max(delay, schedule.max_delay());
}

bool DirectionConfig::needs_wire_packets() const noexcept {
  return loss > 0.0 || schedule.changes_loss() || loss_model.needs_wire_packets() ||
         duplicate.needs_wire_packets() || corrupt.needs_wire_packets() ||
         reorder.probability > 0.0 || (has_jitter() && jitter_mode == JitterMode::reordering) ||
         (has_rate() && qdisc.needs_wire_packets());
}

Pipeline::Pipeline(const DirectionConfig& config, std::size_t capacity_packets,
                   PipelineEgress& egress, DirectionCounters& counters, PacketCloner* cloner,
                   PacketBytes* bytes)
    : config_(config),
      egress_(egress),
      counters_(counters),
      cloner_(cloner),
      loss_(config.effective_loss(), derive_seed(config.seed, kStreamLoss), bytes),
      // Full size even without a rate: the control API may set one while the link runs. The
      // ring's memory follows its occupancy, so an unused queue costs address space only.
      rate_queue_(config.rate_bps, config.queue, capacity_packets, config.qdisc,
                  derive_seed(config.seed, kStreamQueue), bytes),
      schedule_(config.schedule, config.loss_model.schedule_origin),
      trace_(config.capacity_trace, config.loss_model.schedule_origin),
      current_delay_(config.delay),
      current_loss_(config.loss) {
  if (config.has_rate() && config.qdisc.ecn &&
      config.qdisc.discipline != QueueDiscipline::drop_tail &&
      config.qdisc.discipline != QueueDiscipline::drop_head && bytes == nullptr) {
    throw std::invalid_argument("ECN marking needs access to packet bytes");
  }
  if (config.cell_bytes != 0 &&
      (config.cell_payload_bytes == 0 || config.cell_payload_bytes > config.cell_bytes)) {
    throw std::invalid_argument("cell framing needs 0 < payload <= cell size");
  }
  if (config.duplicate.probability > 0.0) {
    if (cloner == nullptr) throw std::invalid_argument("duplication needs a packet cloner");
    PacketCloner& counting_cloner = *this;
    duplicate_ = std::make_unique<Duplicate>(
        config.duplicate, derive_seed(config.seed, kStreamDuplicate), counting_cloner);
  }
  if (config.corrupt.probability > 0.0 || config.corrupt.bit_error_rate > 0.0) {
    if (bytes == nullptr) throw std::invalid_argument("corruption needs access to packet bytes");
    corrupt_ =
        std::make_unique<Corrupt>(config.corrupt, derive_seed(config.seed, kStreamCorrupt), *bytes);
  }
  if (config.has_jitter()) {
    auto jitter = std::make_unique<JitterDelay>(config.jitter_config(), capacity_packets,
                                                derive_seed(config.seed, kStreamDelay));
    jitter_delay_ = jitter.get();
    delay_ = std::move(jitter);
  } else {
    // Full size even at zero delay: the control API may raise it (memory follows occupancy).
    auto line = std::make_unique<DelayLine>(config.delay, capacity_packets);
    delay_line_ = line.get();
    delay_ = std::move(line);
  }
  after_queue_ = delay_.get();
  if (config.reorder.probability > 0.0) {
    reorder_ = std::make_unique<Reorder>(config.reorder, *delay_, capacity_packets,
                                         derive_seed(config.seed, kStreamReorder));
    after_queue_ = reorder_.get();
  }
  // Chain: loss -> [duplicate] -> [corrupt] -> rate queue -> delay or reorder(delay) -> egress.
  Stage* chain[] = {&loss_, duplicate_.get(), corrupt_.get(), &rate_queue_, after_queue_};
  Stage* previous = nullptr;
  for (Stage* stage : chain) {
    if (stage == nullptr) continue;
    if (previous != nullptr) previous->connect(*stage, *this);
    previous = stage;
  }
  previous->connect(*this, *this);
  publish_conditions();
}

Pipeline::~Pipeline() = default;

std::uint32_t Pipeline::wire_bytes(std::uint32_t l2_bytes, std::uint16_t segments) const noexcept {
  const std::uint32_t padded = std::max(l2_bytes, kMinFrameBytes * segments);
  if (config_.cell_bytes == 0) return padded + config_.overhead_bytes * segments;
  // Cells per wire packet: ceil((packet + overhead) / payload). A super-frame's
  // segments are taken as equal (the first `extra` one byte longer).
  const std::uint32_t count = std::max<std::uint32_t>(segments, 1);
  const std::uint32_t each = padded / count;
  const std::uint32_t extra = padded % count;
  const std::uint32_t payload = config_.cell_payload_bytes;
  const auto cells = [&](std::uint32_t bytes) {
    return (bytes + config_.overhead_bytes + payload - 1) / payload;
  };
  return (cells(each + 1) * extra + cells(each) * (count - extra)) * config_.cell_bytes;
}

void Pipeline::apply_changes(Nanos t) noexcept {
  for (;;) {
    const Nanos live_at = live_count_ != 0 ? live_[0].at : kNever;
    const Nanos at = std::min({schedule_.next_time(), trace_.next_time(), live_at});
    if (at == kNever || at > t) break;
    rate_queue_.advance(at);
    after_queue_->advance(at);
    // On a tie the schedule's step applies first, then the trace's, then the live change (the
    // operator's word is the last).
    if (schedule_.next_time() == at || trace_.next_time() == at) {
      ScheduleCursor& cursor = schedule_.next_time() == at ? schedule_ : trace_;
      apply(cursor.next_change(), at);
      cursor.pop();
    } else {
      apply_live(live_[0]);
      std::move(live_.begin() + 1, live_.begin() + static_cast<std::ptrdiff_t>(live_count_),
                live_.begin());
      --live_count_;
      conditions_.live_applied.add(1);
    }
    ++changes_applied_;
    conditions_.last_change_at_ns.store(at.count(), std::memory_order_relaxed);
    conditions_.changes_applied.add(1);
    publish_conditions();
  }
  latest_ = std::max(latest_, t);
}

bool Pipeline::schedule_live(const LiveChange& change) noexcept {
  if (live_count_ == live_.size()) return false;
  LiveChange queued = change;
  if (queued.at < latest_) {
    queued.at = latest_;
    conditions_.live_late.add(1);
  }
  // Insert after every change due at or before it: equal instants keep their order.
  std::size_t index = live_count_;
  while (index > 0 && live_[index - 1].at > queued.at) {
    live_[index] = live_[index - 1];
    --index;
  }
  live_[index] = queued;
  ++live_count_;
  return true;
}

void Pipeline::apply_live(const LiveChange& change) noexcept {
  apply(change.change, change.at);
  if (change.queue) rate_queue_.set_bound(*change.queue);
  if (change.outage.count() > 0) {
    outage_until_ = std::max(outage_until_, change.at + change.outage);
    loss_.set_outage_until(outage_until_);
  }
}

void Pipeline::publish_conditions() noexcept {
  constexpr auto relaxed = std::memory_order_relaxed;
  conditions_.rate_bps.store(rate_queue_.rate_bps(), relaxed);
  conditions_.delay_ns.store(current_delay_.count(), relaxed);
  conditions_.loss.store(current_loss_, relaxed);
  conditions_.queue_max_bytes.store(rate_queue_.bound().max_bytes, relaxed);
  conditions_.queue_max_packets.store(rate_queue_.bound().max_packets, relaxed);
  conditions_.queue_max_delay_ns.store(rate_queue_.bound().max_delay.count(), relaxed);
  conditions_.outage_until_ns.store(outage_until_.count(), relaxed);
}

void Pipeline::apply(const ConditionChange& change, Nanos at) noexcept {
  if (change.rate_bps) rate_queue_.set_rate(at, *change.rate_bps);
  if (change.delay) {
    current_delay_ = *change.delay;
    if (delay_line_ != nullptr) delay_line_->set_delay(*change.delay);
    if (jitter_delay_ != nullptr) jitter_delay_->set_delay(*change.delay);
  }
  if (change.loss && loss_.set_random_loss(*change.loss)) current_loss_ = *change.loss;
}

void Pipeline::push(const Packet& packet) noexcept {
  // A step due at the arrival instant applies to this packet.
  apply_changes(packet.ts);
  latest_ = std::max(latest_, packet.ts);
  counters_.frames_in.add(1);
  counters_.packets_in.add(packet.segments);
  counters_.bytes_in.add(packet.l2_bytes);
  counters_.packets_queued.add(packet.segments);
  counters_.bytes_queued.add(packet.l2_bytes);
  loss_.accept(packet);
  publish_bottleneck();
}

void Pipeline::publish_bottleneck() noexcept {
  conditions_.bottleneck_packets.store(rate_queue_.queued_packets(), std::memory_order_relaxed);
  conditions_.bottleneck_bytes.store(rate_queue_.queued_bytes(), std::memory_order_relaxed);
}

std::optional<BufferHandle> Pipeline::clone(const Packet& packet) noexcept {
  auto copy = cloner_->clone(packet);
  if (copy) {
    counters_.packets_duplicated.add(packet.segments);
    counters_.bytes_duplicated.add(packet.l2_bytes);
    counters_.packets_queued.add(packet.segments);
    counters_.bytes_queued.add(packet.l2_bytes);
  }
  return copy;
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
  apply_changes(now);
  rate_queue_.advance(now);
  after_queue_->advance(now);
  publish_bottleneck();
}

Nanos Pipeline::next_wakeup() const noexcept {
  const Nanos stages = std::min(rate_queue_.next_wakeup(), after_queue_->next_wakeup());
  // Only a rate change alters a release already planned (the packet on the
  // wire); a delay or loss change only concerns packets that have not arrived,
  // and push() applies it before them. So the next step is a wake-up only
  // while the bottleneck holds packets; an idle link is not woken up for a
  // step (1000 per second with a Mahimahi trace) that changes nothing yet. A live change is
  // the exception: it is rare, and the control API reports the conditions as changed once its
  // instant has passed, so the thread wakes to apply (and publish) it.
  const Nanos live_at = live_count_ != 0 ? live_[0].at : kNever;
  if (rate_queue_.queued_packets() == 0) return std::min(stages, live_at);
  return std::min({stages, schedule_.next_time(), trace_.next_time(), live_at});
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
