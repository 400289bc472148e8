#include "engine/fidelity_sample.hh"

#include <algorithm>

namespace longhaul::engine {

namespace {

std::uint64_t difference(std::uint64_t later, std::uint64_t earlier) {
  return later >= earlier ? later - earlier : 0;
}

}  // namespace

FidelitySample sample_fidelity(const DirectionWorker& worker,
                               const core::CountersSnapshot& counters) {
  const auto& stats = worker.stats();
  const auto dropped = [&](core::DropCause cause) {
    return counters.dropped_packets[static_cast<std::size_t>(cause)];
  };
  FidelitySample sample;
  sample.lateness = stats.release_lateness.snapshot();
  sample.ingress_wait = stats.ingress_wait.snapshot();
  sample.lost_before_ingress = stats.lost_before_ingress.get();
  sample.buffer_exhausted = dropped(core::DropCause::buffer_exhausted);
  sample.tx_error = dropped(core::DropCause::tx_error);
  sample.cpu_samples = stats.cpu_samples.get();
  sample.cpu_running = core::Nanos{static_cast<std::int64_t>(stats.cpu_running_ns.get())};
  sample.cpu_waiting = core::Nanos{static_cast<std::int64_t>(stats.cpu_waiting_ns.get())};
  return sample;
}

core::FidelityEvidence fidelity_evidence(const FidelitySample& later, const FidelitySample& earlier,
                                         const core::FidelityThresholds& thresholds) {
  const core::LatenessHistogram::Snapshot lateness = later.lateness.since(earlier.lateness);
  core::FidelityEvidence evidence;
  evidence.thresholds = thresholds;
  evidence.frames_released = lateness.count();
  evidence.late_over_p99 = lateness.count_at_least(thresholds.late_p99);
  evidence.late_over_p999 = lateness.count_at_least(thresholds.late_p999);
  evidence.lateness_p99 = lateness.quantile(0.99);
  evidence.lateness_p999 = lateness.quantile(0.999);
  evidence.ingress_wait_p999 = later.ingress_wait.since(earlier.ingress_wait).quantile(0.999);
  evidence.lost_before_ingress = difference(later.lost_before_ingress, earlier.lost_before_ingress);
  evidence.buffer_exhausted = difference(later.buffer_exhausted, earlier.buffer_exhausted);
  evidence.tx_error = difference(later.tx_error, earlier.tx_error);
  evidence.cpu_measured = later.cpu_samples > earlier.cpu_samples;
  evidence.cpu_running = std::max(core::Nanos{0}, later.cpu_running - earlier.cpu_running);
  evidence.cpu_waiting = std::max(core::Nanos{0}, later.cpu_waiting - earlier.cpu_waiting);
  return evidence;
}

core::FidelityThresholds fidelity_thresholds_of(const DirectionWorker& worker) {
  return core::fidelity_thresholds(core::fidelity_delay(worker.pipeline().config()));
}

}  // namespace longhaul::engine
