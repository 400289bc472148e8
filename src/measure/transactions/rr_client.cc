#include "measure/transactions/rr_client.hh"

#include <poll.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <ctime>

#include "measure/bench_error.hh"
#include "measure/bulk/client.hh"
#include "measure/transactions/transaction_client.hh"

namespace longhaul::measure {

namespace {

// The load's observer: nothing is printed, progress is passed on as phase 2.
class LoadObserver : public BenchObserver {
 public:
  LoadObserver(const std::function<void(const ProgressState&)>& progress, std::string what)
      : progress_(progress), what_(std::move(what)) {}
  void on_start(const StartInfo&) override {}
  void on_interval(const SideInterval&, const BenchConfig&) override {}
  void on_progress(const ProgressState& state) override {
    if (!progress_) return;
    ProgressState copy = state;
    copy.what = what_;  // the load's time is the phase's: ramp, timing, margin
    copy.phase = "phase 2/2, under load";
    progress_(copy);
  }
  void on_finish(const BenchResult&) override {}

 private:
  const std::function<void(const ProgressState&)>& progress_;
  std::string what_;
};

}  // namespace

BenchConfig load_config_for(const RrOptions& options) {
  BenchConfig load = options.load.value_or(BenchConfig{});
  load.duration = options.config.duration + std::chrono::seconds(1);
  load.omit = options.load_ramp;
  load.bytes.reset();
  return load;
}

RrResult run_rr(const RrOptions& options,
                const std::function<void(const ProgressState&)>& progress) {
  RrResult result;
  result.start.version = options.version;
  result.start.host = options.host;
  result.start.port = options.port;
  result.start.timestamp_unix_s = static_cast<std::int64_t>(std::time(nullptr));
  result.config = options.config;
  result.load_ramp = options.load_ramp;
  if (options.load) result.load_config = load_config_for(options);

  const auto interrupted = [&] {
    if (options.interrupt_fd < 0) return false;
    pollfd p{options.interrupt_fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  };
  const std::uint64_t planned = planned_transactions(options.config);
  // Phase 1: alone.
  std::optional<TransactionSession> session;
  try {
    if (auto error = validate(options.config); !error.empty()) throw BenchError(error);
    session.emplace(options.host, options.port, options.connect_timeout, options.config);
    io::Fd fd = open_transaction_connection(options.host, options.port, options.connect_timeout,
                                            session->test_id());
    const SteadyTime begin = SteadyClock::now();
    const SteadyTime until =
        begin + std::chrono::duration_cast<SteadyClock::duration>(options.config.duration);
    result.alone = run_transactions(
        fd.get(), options.config, planned, until, interrupted, [&](std::uint64_t done) {
          if (!progress) return;
          ProgressState state;
          state.what = fmt::format("rr to {}", options.host);
          state.phase = options.load ? "phase 1/2, alone" : "";
          state.elapsed = std::chrono::duration_cast<Nanos>(SteadyClock::now() - begin);
          state.planned = options.config.duration;
          state.count = done;
          state.planned_count = options.config.count;
          state.count_unit = "transactions";
          progress(state);
        });
    ::shutdown(fd.get(), SHUT_WR);
    if (interrupted()) throw BenchError("interrupted");
    if (result.alone.error) throw BenchError(*result.alone.error);
    session->finish(options.load.has_value());
  } catch (const std::exception& error) {
    result.error = error.what();
    if (session) session->abort(error.what());
    return result;
  }
  if (!options.load) return result;

  // Phase 2: the same transactions as a probe inside a bulk test.
  ClientOptions load;
  load.host = options.host;
  load.port = options.port;
  load.config = *result.load_config;
  load.version = options.version;
  load.connect_timeout = options.connect_timeout;
  load.interrupt_fd = options.interrupt_fd;
  load.probe = options.config;
  load.probe_delay = options.load_ramp;
  LoadObserver observer(progress, fmt::format("rr to {}", options.host));
  result.load = run_client(load, observer);
  result.loaded = result.load->probe;
  if (result.load->error) {
    result.error = "under load: " + *result.load->error;
  } else if (!result.loaded) {
    result.error = "under load: the probe did not run";
  } else if (result.loaded->error) {
    result.error = "under load: " + *result.loaded->error;
  }
  return result;
}

}  // namespace longhaul::measure
