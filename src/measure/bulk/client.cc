#include "measure/bulk/client.hh"

#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <thread>

#include "measure/bench_error.hh"
#include "measure/bulk/control_channel.hh"
#include "measure/bulk/side_runner.hh"
#include "measure/bulk/socket_options.hh"
#include "measure/report/bench_json.hh"
#include "measure/transactions/transaction_client.hh"

namespace longhaul::measure {

namespace {

using namespace std::chrono_literals;

constexpr auto kReplyTimeout = 10s;
constexpr auto kStartTimeout = 20s;  // the server waits up to 10 s for our data connections
constexpr auto kLoopWake = 100ms;    // notice finished streams, redraw progress

SteadyClock::duration to_steady(Nanos d) {
  return std::chrono::duration_cast<SteadyClock::duration>(d);
}

// Merges the two sides' intervals by index (ours first).
std::vector<SideInterval> merge(const std::map<std::uint32_t, SideInterval>& local,
                                const std::map<std::uint32_t, SideInterval>& remote) {
  std::map<std::uint32_t, SideInterval> merged = local;
  for (const auto& [index, interval] : remote) {
    auto [it, inserted] = merged.try_emplace(index, interval);
    if (!inserted) {
      it->second.streams.insert(it->second.streams.end(), interval.streams.begin(),
                                interval.streams.end());
    }
  }
  std::vector<SideInterval> out;
  out.reserve(merged.size());
  for (auto& [index, interval] : merged) out.push_back(std::move(interval));
  return out;
}

class ClientSession {
 public:
  ClientSession(const ClientOptions& options, BenchObserver& observer, BenchResult& result)
      : options_(options), config_(options.config), observer_(observer), result_(result) {}

  void run();
  /// Stops our streams and tells the server, after a failure.
  void abort(const std::string& why) noexcept;
  /// Puts every interval measured into the result.
  void collect() { result_.intervals = merge(local_, remote_); }

 private:
  void connect();
  void open_data_connections();
  void await_start();
  void measure();
  void handle(const nlohmann::json& message);
  void emit_ready(bool flush);
  bool half_known(const std::map<std::uint32_t, SideInterval>& side, std::uint32_t index,
                  bool side_done) const;

  const ClientOptions& options_;
  const BenchConfig& config_;
  BenchObserver& observer_;
  BenchResult& result_;
  std::string test_id_ = random_test_id();
  std::unique_ptr<ControlChannel> control_;
  std::vector<SideRunner::Stream> streams_;
  std::unique_ptr<SideRunner> runner_;
  std::map<std::uint32_t, SideInterval> local_, remote_;
  std::map<std::uint32_t, SteadyTime> local_seen_;  // when our half of an interval appeared
  std::uint32_t next_emit_ = 0;
  bool remote_done_ = false;
  std::optional<std::string> remote_error_;
  io::Fd probe_fd_;
  std::thread probe_thread_;
  std::atomic<bool> probe_stop_{false};
  std::optional<RrPhase> probe_result_;

 public:
  /// Stops and joins the probe (if any) and puts its result into the result.
  void finish_probe() noexcept;
};

void ClientSession::run() {
  if (auto error = validate(config_); !error.empty()) throw BenchError(error);
  if (config_.congestion) check_congestion(*config_.congestion);
  connect();
  open_data_connections();
  await_start();
  measure();
}

void ClientSession::connect() {
  io::Fd fd = connect_tcp(options_.host, options_.port, options_.connect_timeout);
  set_nodelay(fd.get());
  control_ = std::make_unique<ControlChannel>(
      std::move(fd), fmt::format("{} port {}", options_.host, options_.port));
  nlohmann::json hello = {{"type", "hello"},     {"role", "control"},
                          {"schema", kSchema},   {"protocol", kProtocolVersion},
                          {"test_id", test_id_}, {"config", to_json(config_)}};
  if (options_.probe) {
    hello["protocol"] = kTransactionProtocolVersion;
    hello["probe"] = to_json(*options_.probe);
  }
  control_->send(hello);
  const auto reply = control_->receive(SteadyClock::now() + kReplyTimeout);
  if (!reply) {
    throw BenchError(
        fmt::format("no answer from {} port {} within {} s; is `longhaul bench server` "
                    "listening there?",
                    options_.host, options_.port, kReplyTimeout.count()));
  }
  const std::string type = message_type(*reply);
  if (type == "error") {
    throw BenchError("server refused the test: " +
                     reply->value("message", std::string("no reason given")));
  }
  if (type != "accept") throw BenchError("unexpected reply from the server: " + reply->dump());
}

void ClientSession::open_data_connections() {
  const std::uint32_t count = connection_count(config_);
  for (std::uint32_t index = 0; index < count; ++index) {
    const Direction direction = connection_direction(config_, index);
    const bool sends = role_of(Side::client, direction) == Role::sender;
    SocketReport report;
    // Options before connect: the window scale is agreed in the handshake.
    io::Fd fd = connect_tcp(options_.host, options_.port, options_.connect_timeout, [&](int s) {
      report = configure_data_socket(s, Side::client, config_, sends);
    });
    if (!result_.start.client) {
      result_.start.client = report;
      for (auto& warning : socket_warnings(report))
        result_.start.warnings.push_back(std::move(warning));
    }
    if (sends && config_.pacing_rate_bps)
      result_.start.client->pacing_rate_bps = config_.pacing_rate_bps;
    send_all(fd.get(),
             encode_message(
                 {{"type", "hello"}, {"role", "data"}, {"test_id", test_id_}, {"stream", index}}),
             SteadyClock::now() + kReplyTimeout, control_->peer());
    const Endpoint local = local_endpoint(fd.get());
    const Endpoint peer = peer_endpoint(fd.get());
    result_.start.connections.push_back(
        {index + 1, direction, local.host, local.port, peer.host, peer.port});
    streams_.push_back({index + 1, direction, std::move(fd)});
  }
  if (options_.probe) {
    probe_fd_ = open_transaction_connection(options_.host, options_.port, options_.connect_timeout,
                                            test_id_);
  }
}

void ClientSession::await_start() {
  const auto deadline = SteadyClock::now() + kStartTimeout;
  for (;;) {
    const auto message = control_->receive(deadline);
    if (!message) throw BenchError("the server did not start the test within 20 s");
    const std::string type = message_type(*message);
    if (type == "error" || type == "abort") {
      throw BenchError("server: " + message->value("message", std::string("test refused")));
    }
    if (type != "start") continue;
    if (const auto it = message->find("server"); it != message->end()) {
      auto report = socket_report_from_json(*it);
      if (report) result_.start.server = *report;
    }
    if (const auto it = message->find("warnings"); it != message->end() && it->is_array()) {
      for (const auto& warning : *it) {
        if (warning.is_string()) result_.start.warnings.push_back(warning.get<std::string>());
      }
    }
    return;
  }
}

bool ClientSession::half_known(const std::map<std::uint32_t, SideInterval>& side,
                               std::uint32_t index, bool side_done) const {
  return side_done || side.contains(index) || (!side.empty() && side.rbegin()->first > index);
}

// Prints intervals in order once both halves are in (or the server's half is late:
// then ours alone, and the server's half appears only in the final document).
void ClientSession::emit_ready(bool flush) {
  const auto now = SteadyClock::now();
  const auto grace = std::max<SteadyClock::duration>(2s, to_steady(config_.interval * 2));
  for (;;) {
    const bool have_local = local_.contains(next_emit_);
    const bool have_remote = remote_.contains(next_emit_);
    if (!have_local && !have_remote) {
      // Both sides have moved on past a gap (or nothing more will come).
      const bool beyond = (!local_.empty() && local_.rbegin()->first > next_emit_) ||
                          (!remote_.empty() && remote_.rbegin()->first > next_emit_);
      if (!beyond) return;
      ++next_emit_;
      continue;
    }
    const bool local_ok = half_known(local_, next_emit_, runner_->finished());
    bool remote_ok = half_known(remote_, next_emit_, remote_done_);
    if (!remote_ok && have_local) remote_ok = now - local_seen_[next_emit_] > grace;
    if (!flush && !(local_ok && remote_ok)) return;
    std::map<std::uint32_t, SideInterval> l, r;
    if (have_local) l.emplace(next_emit_, local_[next_emit_]);
    if (have_remote) r.emplace(next_emit_, remote_[next_emit_]);
    observer_.on_interval(merge(l, r).front(), config_);
    ++next_emit_;
  }
}

void ClientSession::handle(const nlohmann::json& message) {
  const std::string type = message_type(message);
  if (type == "interval") {
    auto interval = side_interval_from_json(message.value("interval", nlohmann::json::object()));
    if (!interval) throw BenchError("server: " + interval.error);
    // Only the server's own streams count as its half.
    std::erase_if(interval.value->streams,
                  [](const StreamInterval& s) { return s.side != Side::server; });
    remote_[interval->index] = std::move(*interval.value);
  } else if (type == "done") {
    remote_done_ = true;
    if (const auto it = message.find("error"); it != message.end() && it->is_string()) {
      remote_error_ = it->get<std::string>();
    }
  } else if (type == "abort" || type == "error") {
    remote_error_ = message.value("message", std::string("test aborted"));
  }
}

void ClientSession::measure() {
  runner_ = std::make_unique<SideRunner>(Side::client, config_, std::move(streams_));
  const SteadyTime t0 = SteadyClock::now();
  runner_->start(t0);
  if (options_.probe) {
    const auto config = *options_.probe;
    const SteadyTime from = t0 + to_steady(options_.probe_delay);
    // Within the load: the probe measures only while the streams send.
    const SteadyTime until =
        std::min(from + to_steady(config.duration), t0 + to_steady(send_window(config_)));
    probe_thread_ = std::thread([this, config, from, until] {
      // Wait out the load's ramp in short steps, so an abort is noticed at once.
      while (SteadyClock::now() < from && !probe_stop_.load()) {
        std::this_thread::sleep_for(
            std::min<SteadyClock::duration>(from - SteadyClock::now(), 50ms));
      }
      probe_result_ =
          run_transactions(probe_fd_.get(), config, planned_transactions(config), until,
                           [this] { return probe_stop_.load(std::memory_order_relaxed); }, {});
      // Closing tells the server's responder we are done with this connection.
      ::shutdown(probe_fd_.get(), SHUT_WR);
    });
  }
  observer_.on_start(result_.start);
  // Every stream ends by the send window plus its idle limit; allow that twice over.
  const SteadyTime hard_deadline = t0 + to_steady(send_window(config_) + 2 * kIdleTimeout + 60s);
  const std::string what =
      fmt::format("{} {} {}", config_.bidir ? "bidir" : direction_name(directions(config_).front()),
                  config_.reverse ? "from" : "to", options_.host);
  for (;;) {
    const auto now = SteadyClock::now();
    while (auto interval = runner_->poll(now)) {
      local_seen_[interval->index] = now;
      local_[interval->index] = std::move(*interval);
    }
    emit_ready(false);
    observer_.on_progress(runner_->progress(now, what));
    if (remote_error_) throw BenchError("server: " + *remote_error_);
    if (runner_->finished() && remote_done_) break;
    if (control_->closed() && !remote_done_) {
      throw BenchError("the server closed the control connection before the test ended");
    }
    if (now >= hard_deadline) throw BenchError("the test did not finish in time");
    const auto wake = std::min(runner_->next_sample(), now + kLoopWake);
    const auto timeout = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
    pollfd fds[2] = {{control_->fd(), POLLIN, 0}, {options_.interrupt_fd, POLLIN, 0}};
    const int ready = ::poll(fds, options_.interrupt_fd >= 0 ? 2 : 1,
                             static_cast<int>(std::max<decltype(timeout)>(timeout, 0)));
    if (ready <= 0) continue;
    if (options_.interrupt_fd >= 0 && (fds[1].revents & POLLIN) != 0) {
      throw BenchError("interrupted");
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      for (const auto& message : control_->read_available()) handle(message);
    }
  }
  emit_ready(true);
  finish_probe();
  if (const auto error = runner_->first_error(); !error.empty()) throw BenchError(error);
}

void ClientSession::finish_probe() noexcept {
  if (!probe_thread_.joinable()) return;
  probe_stop_.store(true);
  probe_thread_.join();
  result_.probe = probe_result_;
}

void ClientSession::abort(const std::string& why) noexcept {
  if (control_) control_->send_quietly({{"type", "abort"}, {"message", why}});
  if (runner_) {
    runner_->abort();
    // Whatever the streams measured up to now still belongs in the result.
    const auto now = SteadyClock::now();
    for (int i = 0; i < 2 * static_cast<int>(kMaxStreams); ++i) {
      auto interval = runner_->poll(now);
      if (!interval) break;
      local_[interval->index] = std::move(*interval);
    }
  }
}

}  // namespace

BenchResult run_client(const ClientOptions& options, BenchObserver& observer) {
  BenchResult result;
  result.start.version = options.version;
  result.start.host = options.host;
  result.start.port = options.port;
  result.start.timestamp_unix_s = static_cast<std::int64_t>(std::time(nullptr));
  result.start.config = options.config;
  ClientSession session(options, observer, result);
  try {
    session.run();
  } catch (const std::exception& error) {
    result.error = error.what();
    session.abort(error.what());
  }
  session.finish_probe();
  session.collect();
  finish_result(result);
  observer.on_finish(result);
  return result;
}

}  // namespace longhaul::measure
