#pragma once
// What a lane direction has measured so far that bears on its fidelity, copied at one moment:
// two such samples give the evidence (core/fidelity.hh) for the time between them.
#include "core/counters.hh"
#include "core/fidelity.hh"
#include "core/histogram.hh"
#include "engine/direction_worker.hh"

namespace longhaul::engine {

struct FidelitySample {
  core::LatenessHistogram::Snapshot lateness;
  core::LatenessHistogram::Snapshot ingress_wait;
  std::uint64_t lost_before_ingress = 0;
  std::uint64_t buffer_exhausted = 0;
  std::uint64_t tx_error = 0;
  std::uint64_t cpu_samples = 0;  ///< 0: the thread's scheduler times were never read
  core::Nanos cpu_running{0};
  core::Nanos cpu_waiting{0};
};

/// Copies what `worker` and its `counters` have measured so far.
FidelitySample sample_fidelity(const DirectionWorker& worker,
                               const core::CountersSnapshot& counters);

/// The evidence between `earlier` and `later` (a default-constructed `earlier`: since the start),
/// judged against the thresholds of the worker's path.
core::FidelityEvidence fidelity_evidence(const FidelitySample& later, const FidelitySample& earlier,
                                         const core::FidelityThresholds& thresholds);

/// The thresholds of a direction's path (core::fidelity_thresholds of its strictest delay).
core::FidelityThresholds fidelity_thresholds_of(const DirectionWorker& worker);

}  // namespace longhaul::engine
