#include "measure/transactions/churn_client.hh"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <ctime>
#include <deque>
#include <unordered_map>

#include "io/error.hh"
#include "io/sysctl.hh"
#include "measure/bench_error.hh"
#include "measure/transactions/frame_codec.hh"
#include "measure/transactions/transaction_client.hh"

namespace longhaul::measure {

namespace {

using namespace std::chrono_literals;

constexpr auto kMaxWake = 50ms;

std::optional<int> read_int_sysctl(const char* key) {
  try {
    return std::stoi(io::read_sysctl(key));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Each connection is a file descriptor: make room for --concurrency of them.
void raise_fd_limit(std::uint32_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t need = wanted + 64;
  if (limit.rlim_cur >= need) return;
  limit.rlim_cur = std::min(limit.rlim_max, need);
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

class ChurnRun {
 public:
  ChurnRun(const ChurnOptions& options, const ChurnCallbacks& callbacks, ChurnResult& result)
      : options_(options),
        config_(options.config),
        callbacks_(callbacks),
        result_(result),
        tally_(options.config.interval) {}
  ~ChurnRun() {
    for (auto& [fd, c] : connections_) ::close(fd);
  }

  void run();
  /// Tells the server the test is given up.
  void abort(const std::string& why) noexcept {
    if (session_) session_->abort(why);
  }
  /// Puts what was counted into the result.
  void collect() {
    result_.intervals = tally_.intervals();
    result_.totals = tally_.totals();
    result_.exhaustion = tally_.exhaustion();
  }

 private:
  enum class State { connecting, sending, receiving, idle };
  struct Connection {
    State state = State::connecting;
    bool greeted = false;  ///< its hello went out with the first request
    SteadyTime opened{};
    SteadyTime request_at{};
    SteadyTime deadline{};  ///< connect or response timeout
    std::string outgoing;
    std::size_t sent = 0;
    std::size_t received = 0;
    std::uint64_t attempt = 0;
  };

  Nanos since_start(SteadyTime t) const { return std::chrono::duration_cast<Nanos>(t - t0_); }
  void start_transaction(SteadyTime now);
  void open_connection(SteadyTime now);
  void begin_request(int fd, Connection& c, SteadyTime now);
  void handle(int fd, std::uint32_t events, SteadyTime now);
  void fail(int fd, int err, SteadyTime now);
  void close_connection(int fd);
  void watch(int fd, std::uint32_t events, bool add);
  std::optional<SocketCensus> census() const;
  void close_interval(SteadyTime now);
  std::size_t busy() const { return connections_.size() - idle_.size(); }

  const ChurnOptions& options_;
  const TransactionConfig& config_;
  const ChurnCallbacks& callbacks_;
  ChurnResult& result_;
  ChurnTally tally_;
  std::unique_ptr<TransactionSession> session_;
  std::optional<ProcEndpoint> server_;
  io::Fd epoll_;
  SteadyTime t0_{};
  std::unordered_map<int, Connection> connections_;
  std::deque<int> idle_;  ///< --reuse: connections waiting for the next request
  std::string hello_;
  std::string request_;
  std::uint64_t started_ = 0;
  std::uint64_t attempts_ = 0;
};

void ChurnRun::watch(int fd, std::uint32_t events, bool add) {
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event) != 0) {
    io::throw_errno("epoll_ctl", "churn connection");
  }
}

std::optional<SocketCensus> ChurnRun::census() const {
  const auto& s = result_.settings;
  return take_socket_census(server_, s.range_low.value_or(0), s.range_high.value_or(0));
}

void ChurnRun::close_connection(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  // The client closes first, so this socket, not the server's, goes to TIME_WAIT: the
  // case that exhausts a client's ephemeral ports.
  ::close(fd);
  connections_.erase(fd);
  std::erase(idle_, fd);
}

void ChurnRun::fail(int fd, int err, SteadyTime now) {
  const auto it = connections_.find(fd);
  const std::uint64_t attempt = it != connections_.end() ? it->second.attempt : attempts_;
  tally_.failed(since_start(now), err, attempt);
  if (fd >= 0) close_connection(fd);
}

void ChurnRun::open_connection(SteadyTime now) {
  const auto& address = session_->server_address();
  const std::uint64_t attempt = ++attempts_;
  tally_.started(since_start(now), true);
  const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    tally_.failed(since_start(now), errno, attempt);
    return;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  Connection c;
  c.opened = now;
  c.attempt = attempt;
  c.deadline = now + std::chrono::duration_cast<SteadyClock::duration>(options_.connect_timeout);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address),
                session_->server_address_length()) != 0 &&
      errno != EINPROGRESS) {
    const int err = errno;
    ::close(fd);
    tally_.failed(since_start(now), err, attempt);
    // The census right after the first port exhaustion shows what held the ports.
    if (err == EADDRNOTAVAIL && tally_.exhaustion_needs_census()) {
      if (const auto counted = census()) tally_.set_exhaustion_census(*counted);
    }
    return;
  }
  connections_.emplace(fd, std::move(c));
  watch(fd, EPOLLOUT, true);
}

void ChurnRun::begin_request(int fd, Connection& c, SteadyTime now) {
  c.outgoing = c.greeted ? request_ : hello_ + request_;
  c.greeted = true;
  c.sent = 0;
  c.received = 0;
  c.request_at = now;
  c.deadline = now + std::chrono::duration_cast<SteadyClock::duration>(kIdleTimeout);
  c.state = State::sending;
  handle(fd, EPOLLOUT, now);
}

void ChurnRun::start_transaction(SteadyTime now) {
  ++started_;
  if (config_.reuse && !idle_.empty()) {
    const int fd = idle_.front();
    idle_.pop_front();
    tally_.started(since_start(now), false);
    begin_request(fd, connections_.at(fd), now);
    return;
  }
  open_connection(now);
}

void ChurnRun::handle(int fd, std::uint32_t events, SteadyTime now) {
  const auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection& c = it->second;
  switch (c.state) {
    case State::connecting: {
      int error = 0;
      socklen_t length = sizeof(error);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) return fail(fd, error, now);
      if ((events & EPOLLOUT) == 0) return;
      tally_.connected(since_start(now), std::chrono::duration_cast<Nanos>(now - c.opened));
      return begin_request(fd, c, now);
    }
    case State::sending: {
      while (c.sent < c.outgoing.size()) {
        const ssize_t n = ::send(fd, c.outgoing.data() + c.sent, c.outgoing.size() - c.sent,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return watch(fd, EPOLLOUT, false);
          }
          return fail(fd, errno, now);
        }
        c.sent += static_cast<std::size_t>(n);
      }
      c.state = State::receiving;
      return watch(fd, EPOLLIN | EPOLLRDHUP, false);
    }
    case State::receiving:
    case State::idle: {
      char buffer[64 * 1024];
      for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
        if (n == 0) return fail(fd, ECONNRESET, now);  // the server closed on us
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
          return fail(fd, errno, now);
        }
        if (c.state == State::idle) return fail(fd, EPROTO, now);  // unasked-for bytes
        c.received += static_cast<std::size_t>(n);
        if (c.received >= config_.response_bytes) break;
      }
      if (c.state != State::receiving || c.received < config_.response_bytes) return;
      tally_.completed(since_start(now), std::chrono::duration_cast<Nanos>(now - c.request_at));
      if (config_.reuse) {
        c.state = State::idle;
        c.deadline = SteadyTime::max();
        idle_.push_back(fd);
        return;
      }
      return close_connection(fd);
    }
  }
}

void ChurnRun::close_interval(SteadyTime now) {
  const auto interval = tally_.close_interval(since_start(now), census());
  if (callbacks_.on_interval) callbacks_.on_interval(interval);
}

void ChurnRun::run() {
  if (auto error = validate(config_); !error.empty()) throw BenchError(error);
  raise_fd_limit(config_.concurrency);
  session_ = std::make_unique<TransactionSession>(options_.host, options_.port,
                                                  options_.connect_timeout, config_);
  server_ = session_->server_endpoint();
  hello_ = encode_message(
      {{"type", "hello"}, {"role", "transaction"}, {"test_id", session_->test_id()}});
  request_.assign(config_.request_bytes, 'q');
  epoll_ = io::Fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) io::throw_errno("epoll_create1", "churn");

  const std::uint64_t planned = planned_transactions(config_);
  t0_ = SteadyClock::now();
  const SteadyTime arrivals_end =
      t0_ + std::chrono::duration_cast<SteadyClock::duration>(config_.duration);
  // Every open connection has its own timeout; beyond those the test is over.
  const SteadyTime hard_end = arrivals_end + std::chrono::duration_cast<SteadyClock::duration>(
                                                 options_.connect_timeout + kIdleTimeout);
  const double gap_ns = 1e9 / config_.rate_per_s;
  const auto arrival = [&](std::uint64_t k) {
    return t0_ + std::chrono::nanoseconds(
                     static_cast<std::int64_t>(std::llround(gap_ns * static_cast<double>(k))));
  };
  for (;;) {
    SteadyTime now = SteadyClock::now();
    // Start what is due, while there is room.
    while (started_ < planned && now < arrivals_end && arrival(started_) <= now &&
           (busy() < config_.concurrency)) {
      start_transaction(now);
      now = SteadyClock::now();
    }
    // Timeouts: connecting or waiting for a response too long.
    std::vector<int> expired;
    for (const auto& [fd, c] : connections_) {
      if (c.state != State::idle && now >= c.deadline) expired.push_back(fd);
    }
    for (const int fd : expired) fail(fd, ETIMEDOUT, now);
    if (since_start(now) >= tally_.next_boundary()) close_interval(now);
    if (callbacks_.on_progress) {
      ProgressState state;
      state.what = fmt::format("churn to {}", options_.host);
      state.elapsed = since_start(now);
      state.planned = config_.duration;
      state.count = started_;
      state.planned_count = planned;
      state.count_unit = config_.reuse ? "transactions" : "connections";
      callbacks_.on_progress(state);
    }
    const bool arrivals_done = started_ >= planned || now >= arrivals_end;
    if (arrivals_done && busy() == 0) break;
    if (now >= hard_end) throw BenchError("connections were still open long after the test");

    SteadyTime wake = now + kMaxWake;
    if (!arrivals_done && busy() < config_.concurrency) wake = std::min(wake, arrival(started_));
    wake = std::min(
        wake, t0_ + std::chrono::duration_cast<SteadyClock::duration>(tally_.next_boundary()));
    const auto timeout = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
    epoll_event events[256];
    // Sub-millisecond gaps (rates above 1000/s) are served by starting several per wake.
    const int ready =
        ::epoll_wait(epoll_.get(), events, 256,
                     static_cast<int>(std::clamp<decltype(timeout)>(timeout, 0, 1000)));
    if (options_.interrupt_fd >= 0) {
      pollfd p{options_.interrupt_fd, POLLIN, 0};
      if (::poll(&p, 1, 0) > 0) throw BenchError("interrupted");
    }
    now = SteadyClock::now();
    for (int i = 0; i < ready; ++i) handle(events[i].data.fd, events[i].events, now);
  }
  // The pool's kept-alive connections close now (the client first, as without reuse).
  while (!idle_.empty()) close_connection(idle_.front());
  close_interval(SteadyClock::now());
  session_->finish();
}

}  // namespace

PortSettings read_port_settings() {
  PortSettings settings;
  try {
    std::uint16_t low = 0, high = 0;
    if (parse_port_range(io::read_sysctl("net.ipv4.ip_local_port_range"), low, high)) {
      settings.range_low = low;
      settings.range_high = high;
    }
  } catch (const std::exception&) {
    // Unreadable: reported as unknown.
  }
  settings.tw_reuse = read_int_sysctl("net.ipv4.tcp_tw_reuse");
  settings.timestamps = read_int_sysctl("net.ipv4.tcp_timestamps");
  return settings;
}

ChurnResult run_churn(const ChurnOptions& options, const ChurnCallbacks& callbacks) {
  ChurnResult result;
  result.start.version = options.version;
  result.start.host = options.host;
  result.start.port = options.port;
  result.start.timestamp_unix_s = static_cast<std::int64_t>(std::time(nullptr));
  result.config = options.config;
  result.settings = read_port_settings();
  ChurnRun run(options, callbacks, result);
  try {
    run.run();
  } catch (const std::exception& error) {
    result.error = error.what();
    run.abort(error.what());
  }
  run.collect();
  return result;
}

}  // namespace longhaul::measure
