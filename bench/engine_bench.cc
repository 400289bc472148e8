// The engine alone, without kernel I/O: synthetic ports feed minimum-size
// frames through a direction with delay and rate active. Measures packets per
// second per core for the data-plane code itself (issue: line-rate data plane).
#include <benchmark/benchmark.h>

#include <cstring>
#include <initializer_list>
#include <vector>

#include "engine/direction_worker.hh"

namespace {

using namespace longhaul;

// A real Ethernet/IPv4/UDP frame of `frame_bytes` L2 bytes (at least 42) behind a zero vnet
// header, between lab addresses 198.18.0.1 and 198.18.0.2, so the engine parses it as it
// would a frame off the wire (a frame it cannot parse is dropped as malformed, a path this
// benchmark must not measure).
std::vector<std::byte> UdpFrame(std::uint32_t frame_bytes) {
  std::vector<std::byte> frame(engine::kVnetHeaderBytes + frame_bytes, std::byte{0x5a});
  std::byte* l2 = frame.data() + engine::kVnetHeaderBytes;
  std::memset(frame.data(), 0, engine::kVnetHeaderBytes);
  const auto put = [&](std::size_t at, std::initializer_list<unsigned> bytes) {
    for (const unsigned b : bytes) l2[at++] = static_cast<std::byte>(b);
  };
  const unsigned ip_length = frame_bytes - 14;
  const unsigned udp_length = ip_length - 20;
  put(0, {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00});  // dst, src, IPv4
  put(14, {0x45,
           0,
           ip_length >> 8,
           ip_length & 0xFF,
           0,
           0,
           0x40,
           0,
           64,
           17,
           0,
           0,  // DF, UDP
           198,
           18,
           0,
           1,
           198,
           18,
           0,
           2});
  put(34, {0x13, 0x88, 0x13, 0x89, udp_length >> 8, udp_length & 0xFF, 0, 0});  // no checksum
  return frame;
}

// Hands out the same `frame_bytes`-byte IPv4/UDP frame, a full batch every call.
class SyntheticIngress final : public engine::IngressPort {
 public:
  explicit SyntheticIngress(std::uint32_t frame_bytes) : frame_(UdpFrame(frame_bytes)) {}
  std::size_t receive(std::span<engine::RxSlot> slots) noexcept override {
    for (auto& slot : slots) {
      std::memcpy(slot.buffer, frame_.data(), frame_.size());
      slot.length = static_cast<std::uint32_t>(frame_.size());
      slot.truncated = false;
    }
    return slots.size();
  }
  int wait_fd() const noexcept override { return -1; }

 private:
  std::vector<std::byte> frame_;
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
  const auto drops = counters.snapshot().packets_dropped();
  state.counters["drops"] = static_cast<double>(drops);
  // Every frame must go the forwarding path: a drop (malformed, queue) means the figure is
  // not the one this benchmark is for.
  if (drops != 0) state.SkipWithError("frames were dropped: not the forwarding path");
}
BENCHMARK(BM_EngineForward)->Arg(60)->Arg(1514);

}  // namespace

BENCHMARK_MAIN();
