#pragma once
// One side of a running test: its stream workers and the sampling that turns
// their byte counters and TCP_INFO into intervals. The client and the server
// each run one and drive it from their control loop.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/fd.hh"
#include "measure/bench_config.hh"
#include "measure/bulk/interval_stats.hh"
#include "measure/bulk/stream_worker.hh"
#include "measure/net.hh"
#include "measure/report/progress.hh"

namespace longhaul::measure {

class SideRunner {
 public:
  struct Stream {
    std::uint32_t id = 1;  ///< 1-based, the same on both sides
    Direction direction = Direction::upload;
    io::Fd fd;
  };

  SideRunner(Side side, const BenchConfig& config, std::vector<Stream> streams);
  SideRunner(const SideRunner&) = delete;
  SideRunner& operator=(const SideRunner&) = delete;
  ~SideRunner();

  /// Starts every stream; `t0` is this side's test start.
  void start(SteadyTime t0);
  /// When the next interval ends (absolute); the caller also polls now and then (~100 ms)
  /// to notice streams that finish. Never once finished().
  SteadyTime next_sample() const;
  /// The completed interval, when one is due at `now` or every stream has just finished.
  std::optional<SideInterval> poll(SteadyTime now);
  /// True when every stream has finished and its last interval was returned.
  bool finished() const;
  /// Stops every stream (within about 100 ms) and waits for them.
  void abort() noexcept;
  /// The first stream error ("stream 2: recv: Connection reset by peer"), if any.
  std::string first_error() const;
  /// For a progress line.
  ProgressState progress(SteadyTime now, std::string what) const;

 private:
  struct Entry {
    StreamIdentity who;
    std::unique_ptr<StreamWorker> worker;
    StreamSnapshot last;
    bool closed_out = false;
  };
  StreamSnapshot live_snapshot(const Entry& entry, SteadyTime now) const;
  StreamSnapshot final_snapshot(const Entry& entry) const;

  Side side_;
  BenchConfig config_;
  std::vector<Entry> entries_;
  SteadyTime t0_{};
  Nanos boundary_{0};  ///< end of the current interval, since t0
  Nanos last_boundary_{0};
  std::uint32_t next_index_ = 0;
  bool started_ = false;
  bool deferring_ = false;  ///< the last interval is held open for the streams' tail
};

}  // namespace longhaul::measure
