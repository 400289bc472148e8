#include "measure/bulk/server.hh"

#include <poll.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <ctime>

#include "io/error.hh"
#include "measure/bench_error.hh"
#include "measure/bulk/control_channel.hh"
#include "measure/bulk/side_runner.hh"
#include "measure/bulk/socket_options.hh"
#include "measure/report/bench_json.hh"
#include "measure/transactions/frame_codec.hh"
#include "measure/transactions/transaction_client.hh"
#include "measure/transactions/transaction_responder.hh"

namespace longhaul::measure {

namespace {

using namespace std::chrono_literals;

constexpr auto kLoopWake = 100ms;

SteadyClock::duration to_steady(Nanos d) {
  return std::chrono::duration_cast<SteadyClock::duration>(d);
}

int timeout_ms(SteadyTime wake) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(wake - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<decltype(left)>(left, 0, 1'000'000));
}

}  // namespace

BenchServer::BenchServer(ServerOptions options) : options_(std::move(options)) {
  listener_ = listen_tcp(options_.bind_address, options_.port);
  port_ = local_endpoint(listener_.get()).port;
}

bool BenchServer::interrupted() const {
  if (options_.interrupt_fd < 0) return false;
  pollfd p{options_.interrupt_fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

int BenchServer::serve(BenchObserver& observer) {
  while (!stop_) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {options_.interrupt_fd, POLLIN, 0}};
    const int ready = ::poll(fds, options_.interrupt_fd >= 0 ? 2 : 1, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      io::throw_errno("poll", "listening socket");
    }
    if (options_.interrupt_fd >= 0 && (fds[1].revents & POLLIN) != 0) return 0;
    if ((fds[0].revents & POLLIN) == 0) continue;
    io::Fd connection = accept_tcp(listener_.get());
    if (!connection.valid()) continue;
    std::optional<bool> ok;
    try {
      ok = run_test(std::move(connection), observer);
    } catch (const std::exception& error) {
      // A test's failure must not end the server: report it and serve the next one.
      BenchResult result;
      result.error = error.what();
      observer.on_finish(result);
      ok = false;
    }
    if (options_.once && ok.has_value()) return *ok ? 0 : 1;
  }
  return 0;
}

void BenchServer::refuse_busy(io::Fd connection) noexcept {
  try {
    send_all(connection.get(),
             encode_message({{"type", "error"}, {"message", "server busy: a test is running"}}),
             SteadyClock::now() + 1s, "client");
    ::shutdown(connection.get(), SHUT_WR);
  } catch (...) {
  }
}

std::optional<bool> BenchServer::run_test(io::Fd control_fd, BenchObserver& observer) {
  const Endpoint peer = peer_endpoint(control_fd.get());
  const SteadyTime setup_deadline = SteadyClock::now() + to_steady(options_.setup_timeout);
  const auto hello = read_one_message(control_fd.get(), setup_deadline);
  // Not our protocol, a stray data connection or a port scan: close it quietly.
  const auto role = hello ? hello->find("role") : nlohmann::json::const_iterator{};
  if (!hello || message_type(*hello) != "hello" || role == hello->end() || *role != "control") {
    return std::nullopt;
  }
  set_nodelay(control_fd.get());
  ControlChannel control(std::move(control_fd), fmt::format("{} port {}", peer.host, peer.port));

  BenchResult result;
  result.start.version = options_.version;
  result.start.host = peer.host;
  result.start.port = peer.port;
  result.start.timestamp_unix_s = static_cast<std::int64_t>(std::time(nullptr));
  const auto refuse = [&](const std::string& why) {
    control.send_quietly({{"type", "error"}, {"message", why}});
    return false;
  };
  const auto protocol = hello->find("protocol");
  if (protocol == hello->end() || !protocol->is_number_integer() || *protocol < kProtocolVersion ||
      *protocol > kTransactionProtocolVersion) {
    return refuse(fmt::format("protocol version {} is not supported (this server speaks {} to {})",
                              protocol == hello->end() ? "none" : protocol->dump(),
                              kProtocolVersion, kTransactionProtocolVersion));
  }
  const std::string kind = hello->value("kind", std::string("bulk"));
  if (kind == "rr" || kind == "churn") {
    return run_transaction_test(control, *hello, observer);
  }
  if (kind != "bulk") return refuse(fmt::format("unknown test kind '{}'", kind));
  std::optional<TransactionConfig> probe;
  if (const auto it = hello->find("probe"); it != hello->end()) {
    auto parsed_probe = transaction_config_from_json(*it);
    if (!parsed_probe) return refuse("probe: " + parsed_probe.error);
    probe = *parsed_probe;
  }
  const auto config_json = hello->find("config");
  const auto parsed =
      config_from_json(config_json == hello->end() ? nlohmann::json() : *config_json);
  if (!parsed) return refuse(parsed.error);
  const BenchConfig config = *parsed;
  result.start.config = config;
  const auto id = hello->find("test_id");
  if (id == hello->end() || !id->is_string() || id->empty() || id->get<std::string>().size() > 64) {
    return refuse("missing or malformed test id");
  }
  const std::string test_id = id->get<std::string>();
  try {
    if (config.congestion) check_congestion(*config.congestion);
  } catch (const BenchError& error) {
    return refuse(std::string("on the server: ") + error.what());
  }
  std::unique_ptr<SideRunner> runner;
  std::vector<SideInterval> intervals;
  bool failed = false;
  // The probe's transactions are answered by a responder of their own while the streams run.
  std::unique_ptr<TransactionResponder> responder;
  if (probe) {
    responder = std::make_unique<TransactionResponder>(test_id, probe->request_bytes,
                                                       probe->response_bytes);
  }
  bool probe_in = !probe;
  try {
    control.send({{"type", "accept"}, {"version", options_.version}});
    // Collect the data connections: each starts with a hello naming the test and stream.
    const std::uint32_t count = connection_count(config);
    std::vector<io::Fd> data(count);
    std::uint32_t arrived = 0;
    while (arrived < count || !probe_in) {
      if (SteadyClock::now() >= setup_deadline) {
        throw BenchError(fmt::format("only {} of {} data connections{} arrived within {}", arrived,
                                     count, probe_in ? "" : " and no probe connection",
                                     core::format_duration(options_.setup_timeout)));
      }
      pollfd fds[3] = {{listener_.get(), POLLIN, 0},
                       {control.fd(), POLLIN, 0},
                       {options_.interrupt_fd, POLLIN, 0}};
      if (::poll(fds, options_.interrupt_fd >= 0 ? 3 : 2, timeout_ms(setup_deadline)) <= 0) {
        continue;
      }
      if (options_.interrupt_fd >= 0 && (fds[2].revents & POLLIN) != 0) {
        stop_ = true;
        throw BenchError("server interrupted");
      }
      if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        for (const auto& message : control.read_available()) {
          if (message_type(message) == "abort") throw BenchError("client aborted the test");
        }
        if (control.closed()) throw BenchError("client went away during setup");
      }
      if ((fds[0].revents & POLLIN) == 0) continue;
      io::Fd connection = accept_tcp(listener_.get());
      if (!connection.valid()) continue;
      const auto data_hello =
          read_one_message(connection.get(), std::min(setup_deadline, SteadyClock::now() + 2s));
      if (!data_hello) continue;
      const auto field = [&](const char* key) {
        const auto it = data_hello->find(key);
        return it == data_hello->end() ? nlohmann::json() : *it;
      };
      if (field("role") == "control") {
        refuse_busy(std::move(connection));
        continue;
      }
      if (responder && !probe_in && field("role") == "transaction" && field("test_id") == test_id) {
        set_nodelay(connection.get());
        responder->add_greeted(std::move(connection));
        probe_in = true;
        continue;
      }
      const nlohmann::json stream = field("stream");
      if (field("role") != "data" || field("test_id") != test_id || !stream.is_number_unsigned() ||
          stream.get<std::uint64_t>() >= count) {
        continue;
      }
      const auto index = static_cast<std::uint32_t>(stream.get<std::uint64_t>());
      if (data[index].valid()) continue;
      const Direction direction = connection_direction(config, index);
      const bool sends = role_of(Side::server, direction) == Role::sender;
      const SocketReport report =
          configure_data_socket(connection.get(), Side::server, config, sends);
      if (!result.start.server) {
        result.start.server = report;
        result.start.warnings = socket_warnings(report);
      }
      if (sends && config.pacing_rate_bps)
        result.start.server->pacing_rate_bps = config.pacing_rate_bps;
      data[index] = std::move(connection);
      ++arrived;
    }
    std::vector<SideRunner::Stream> streams;
    for (std::uint32_t index = 0; index < count; ++index) {
      streams.push_back({index + 1, connection_direction(config, index), std::move(data[index])});
    }
    control.send(
        {{"type", "start"},
         {"server", result.start.server ? to_json(*result.start.server) : nlohmann::json(nullptr)},
         {"warnings", result.start.warnings}});

    runner = std::make_unique<SideRunner>(Side::server, config, std::move(streams));
    if (responder) responder->start();
    const SteadyTime t0 = SteadyClock::now();
    runner->start(t0);
    observer.on_start(result.start);
    const SteadyTime hard_deadline = t0 + to_steady(send_window(config) + 2 * kIdleTimeout + 60s);
    for (;;) {
      const auto now = SteadyClock::now();
      while (auto interval = runner->poll(now)) {
        control.send({{"type", "interval"}, {"interval", to_json(*interval)}});
        observer.on_interval(*interval, config);
        intervals.push_back(std::move(*interval));
      }
      if (runner->finished()) break;
      if (now >= hard_deadline) throw BenchError("the test did not finish in time");
      pollfd fds[3] = {{control.fd(), POLLIN, 0},
                       {listener_.get(), POLLIN, 0},
                       {options_.interrupt_fd, POLLIN, 0}};
      const int ready = ::poll(fds, options_.interrupt_fd >= 0 ? 3 : 2,
                               timeout_ms(std::min(runner->next_sample(), now + kLoopWake)));
      if (ready <= 0) continue;
      if (options_.interrupt_fd >= 0 && (fds[2].revents & POLLIN) != 0) {
        stop_ = true;
        throw BenchError("server interrupted");
      }
      if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        for (const auto& message : control.read_available()) {
          if (message_type(message) == "abort") {
            throw BenchError("client aborted the test: " +
                             message.value("message", std::string("no reason given")));
          }
        }
        if (control.closed()) throw BenchError("client closed the control connection mid-test");
      }
      if ((fds[1].revents & POLLIN) != 0) {
        io::Fd intruder = accept_tcp(listener_.get());
        if (intruder.valid()) refuse_busy(std::move(intruder));
      }
    }
    nlohmann::json done = {{"type", "done"}};
    if (const auto error = runner->first_error(); !error.empty()) {
      done["error"] = error;
      result.error = error;
    }
    control.send(done);
    control.shutdown_write();
  } catch (const std::exception& error) {
    failed = true;
    result.error = error.what();
    control.send_quietly({{"type", "abort"}, {"message", error.what()}});
    if (runner) {
      runner->abort();
      while (auto interval = runner->poll(SteadyClock::now()))
        intervals.push_back(std::move(*interval));
    }
  }
  result.intervals = std::move(intervals);
  finish_result(result);
  observer.on_finish(result);
  return !failed && !result.error;
}

std::optional<bool> BenchServer::run_transaction_test(ControlChannel& control,
                                                      const nlohmann::json& hello,
                                                      BenchObserver& observer) {
  TransactionServerReport report;
  report.kind = hello.value("kind", std::string());
  const Endpoint peer = peer_endpoint(control.fd());
  report.host = peer.host;
  report.port = peer.port;
  const auto refuse = [&](const std::string& why) {
    control.send_quietly({{"type", "error"}, {"message", why}});
    report.error = why;
    observer.on_transaction_test(report);
    return false;
  };
  const auto it = hello.find("transactions");
  const auto parsed = transaction_config_from_json(it == hello.end() ? nlohmann::json() : *it);
  if (!parsed) return refuse(parsed.error);
  if (kind_name(parsed->kind) != report.kind) return refuse("test kind and configuration disagree");
  const auto id = hello.find("test_id");
  if (id == hello.end() || !id->is_string() || id->empty() || id->get<std::string>().size() > 64) {
    return refuse("missing or malformed test id");
  }
  report.config = *parsed;
  TransactionResponder responder(id->get<std::string>(), parsed->request_bytes,
                                 parsed->response_bytes);
  responder.start();
  // The client starts transactions for -t and then waits at most its connect and idle
  // timeouts for the last ones; past that the client is gone.
  const SteadyTime deadline =
      SteadyClock::now() + to_steady(parsed->duration + 2 * kIdleTimeout + 30s);
  bool more_follows = false;  // phase 1 of `rr --under-load`: --once waits for phase 2
  try {
    control.send({{"type", "accept"}, {"version", options_.version}});
    for (bool finished = false; !finished;) {
      if (SteadyClock::now() >= deadline) throw BenchError("the test did not finish in time");
      pollfd fds[3] = {{listener_.get(), POLLIN, 0},
                       {control.fd(), POLLIN, 0},
                       {options_.interrupt_fd, POLLIN, 0}};
      if (::poll(fds, options_.interrupt_fd >= 0 ? 3 : 2,
                 timeout_ms(SteadyClock::now() + kLoopWake)) <= 0) {
        continue;
      }
      if (options_.interrupt_fd >= 0 && (fds[2].revents & POLLIN) != 0) {
        stop_ = true;
        throw BenchError("server interrupted");
      }
      if ((fds[0].revents & POLLIN) != 0) {
        // Bounded: what is pending now, at most a backlog's worth per round.
        for (int i = 0; i < 128; ++i) {
          io::Fd connection = accept_tcp(listener_.get());
          if (!connection.valid()) break;
          responder.add(std::move(connection));
        }
      }
      if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        for (const auto& message : control.read_available()) {
          const std::string type = message_type(message);
          if (type == "finish") {
            finished = true;
            more_follows = message.value("more", false);
          }
          if (type == "abort") {
            throw BenchError("client aborted the test: " +
                             message.value("message", std::string("no reason given")));
          }
        }
        if (!finished && control.closed()) {
          throw BenchError("client closed the control connection mid-test");
        }
      }
    }
    responder.stop();
    const auto counts = responder.counts();
    report.connections = counts.connections;
    report.transactions = counts.transactions;
    report.rejected = counts.rejected;
    control.send({{"type", "done"},
                  {"connections", counts.connections},
                  {"transactions", counts.transactions}});
    control.shutdown_write();
  } catch (const std::exception& error) {
    responder.stop();
    const auto counts = responder.counts();
    report.connections = counts.connections;
    report.transactions = counts.transactions;
    report.rejected = counts.rejected;
    report.error = error.what();
    control.send_quietly({{"type", "abort"}, {"message", error.what()}});
  }
  observer.on_transaction_test(report);
  if (more_follows && !report.error) return std::nullopt;
  return !report.error;
}

}  // namespace longhaul::measure
