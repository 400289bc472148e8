// The engine alone, without kernel I/O: synthetic ports feed minimum-size
// frames through a direction with delay and rate active. Measures packets per
// second per core for the data-plane code itself (issue: line-rate data plane).
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "engine/direction_worker.hh"

namespace {

using namespace longhaul;

// Hands out `frame_bytes`-byte IPv4/UDP frames, a full batch every call.
class SyntheticIngress final : public engine::IngressPort {
 public:
  explicit SyntheticIngress(std::uint32_t frame_bytes) : frame_bytes_(frame_bytes) {}
  std::size_t receive(std::span<engine::RxSlot> slots) noexcept override {
    for (auto& slot : slots) {
      std::memset(slot.buffer, 0, engine::kVnetHeaderBytes);
      std::memset(slot.buffer + engine::kVnetHeaderBytes, 0x5a, frame_bytes_);
      slot.length = static_cast<std::uint32_t>(engine::kVnetHeaderBytes + frame_bytes_);
      slot.truncated = false;
    }
    return slots.size();
  }
  int wait_fd() const noexcept override { return -1; }

 private:
  std::uint32_t frame_bytes_;
};

class CountingEgress final : public engine::EgressPort {
 public:
  SendResult send(std::span<const engine::TxFrame> frames) noexcept override {
    sent += frames.size();
    return {frames.size(), false};
  }
  int wait_fd() const noexcept override { return -1; }
  std::uint64_t sent = 0;
};

void BM_EngineForward(benchmark::State& state) {
  const auto frame_bytes = static_cast<std::uint32_t>(state.range(0));
  core::DirectionConfig config;
  config.delay = std::chrono::microseconds(100);
  // Offered load: 256 frames per pass, 1 us of model time per pass. The rate is
  // set 10 % above that so shaping runs on every packet but the queue stays short.
  const double wire_bits_per_pass = 256.0 * (frame_bytes + 24.0) * 8.0;
  config.rate_bps = static_cast<std::uint64_t>(wire_bits_per_pass * 1e6 * 1.1);
  config.queue.max_bytes = 1ULL << 30;
  engine::WorkerOptions options;
  options.arena_bytes = 256 << 20;
  options.capacity_packets = 1 << 20;
  SyntheticIngress ingress(frame_bytes);
  CountingEgress egress;
  engine::ManualClock clock;
  core::DirectionCounters counters;
  engine::DirectionWorker worker(config, options, ingress, egress, clock, counters);
  // Each pass receives 4 batches of 64; 1 us of model time passes per pass, so
  // about 100 passes' worth of frames sit in the delay line at any time.
  for (auto _ : state) {
    clock.advance(std::chrono::microseconds(1));
    worker.poll_once();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(egress.sent));
  state.counters["drops"] = static_cast<double>(counters.snapshot().packets_dropped());
}
BENCHMARK(BM_EngineForward)->Arg(60)->Arg(1514);

}  // namespace

BENCHMARK_MAIN();
