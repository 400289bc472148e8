#include "measure/transactions/transaction_responder.hh"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <unordered_map>

#include "io/error.hh"
#include "measure/transactions/frame_codec.hh"

namespace longhaul::measure {

namespace {

using namespace std::chrono_literals;

constexpr auto kWake = 100ms;
constexpr auto kIdle = 60s;
constexpr std::size_t kMaxHello = 4096;
/// A client that sends requests far ahead of reading answers is not ours.
constexpr std::uint64_t kMaxOwed = 1024;

}  // namespace

struct TransactionResponder::Connection {
  io::Fd fd;
  bool greeted = false;
  std::string hello;  ///< bytes of the hello frame received so far
  std::uint64_t request_progress = 0;
  std::uint64_t owed = 0;         ///< complete requests not yet answered
  std::size_t response_sent = 0;  ///< of the response being written
  bool want_write = false;
  SteadyTime last_activity{};
};

TransactionResponder::TransactionResponder(std::string test_id, std::uint32_t request_bytes,
                                           std::uint32_t response_bytes)
    : test_id_(std::move(test_id)),
      request_bytes_(request_bytes),
      response_bytes_(response_bytes),
      response_(response_bytes, 'r'),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!wake_.valid()) io::throw_errno("eventfd", "transaction responder");
}

TransactionResponder::~TransactionResponder() {
  stop();
}

void TransactionResponder::start() {
  thread_ = std::thread([this] { run(); });
}

void TransactionResponder::add(io::Fd fd) {
  {
    std::lock_guard lock(mutex_);
    incoming_.emplace_back(std::move(fd), false);
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_.get(), &one, sizeof(one));
}

void TransactionResponder::add_greeted(io::Fd fd) {
  {
    std::lock_guard lock(mutex_);
    incoming_.emplace_back(std::move(fd), true);
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_.get(), &one, sizeof(one));
}

void TransactionResponder::stop() noexcept {
  stop_.store(true);
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_.get(), &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
}

TransactionResponder::Counts TransactionResponder::counts() const {
  return {connections_.load(), transactions_.load(), rejected_.load()};
}

void TransactionResponder::take_new(int epoll_fd, std::vector<std::unique_ptr<Connection>>& fresh) {
  std::vector<std::pair<io::Fd, bool>> incoming;
  {
    std::lock_guard lock(mutex_);
    incoming.swap(incoming_);
  }
  for (auto& [fd, greeted] : incoming) {
    auto connection = std::make_unique<Connection>();
    connection->fd = std::move(fd);
    connection->greeted = greeted;
    connection->last_activity = SteadyClock::now();
    if (greeted) connections_.fetch_add(1);
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.fd = connection->fd.get();
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, connection->fd.get(), &event) != 0) {
      rejected_.fetch_add(1);
      continue;
    }
    fresh.push_back(std::move(connection));
  }
}

bool TransactionResponder::parse_hello(Connection& c) {
  if (c.hello.size() < 4) return true;
  std::uint32_t size = 0;
  for (int i = 0; i < 4; ++i)
    size = (size << 8) | static_cast<unsigned char>(c.hello[static_cast<std::size_t>(i)]);
  if (size > kMaxHello) return false;
  if (c.hello.size() < 4 + size) return true;
  const auto message =
      nlohmann::json::parse(c.hello.begin() + 4, c.hello.begin() + 4 + size, nullptr, false);
  const auto field = [&](const char* key) {
    const auto it = message.is_object() ? message.find(key) : message.end();
    return it == message.end() ? nlohmann::json() : *it;
  };
  if (field("role") == "control") {
    // Another client while a test runs: say why before closing.
    send_all(c.fd.get(),
             encode_message({{"type", "error"}, {"message", "server busy: a test is running"}}),
             SteadyClock::now() + 1s, "client");
    return false;
  }
  if (field("type") != "hello" || field("role") != "transaction" || field("test_id") != test_id_) {
    return false;
  }
  c.greeted = true;
  connections_.fetch_add(1);
  // Whatever followed the hello is the start of the first request.
  c.request_progress += c.hello.size() - 4 - size;
  c.hello.clear();
  c.hello.shrink_to_fit();
  return true;
}

bool TransactionResponder::write_responses(Connection& c) {
  while (c.owed > 0) {
    const ssize_t sent = ::send(c.fd.get(), response_.data() + c.response_sent,
                                response_.size() - c.response_sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        c.want_write = true;
        return true;
      }
      return false;
    }
    c.response_sent += static_cast<std::size_t>(sent);
    if (c.response_sent == response_.size()) {
      c.response_sent = 0;
      --c.owed;
      transactions_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  c.want_write = false;
  return true;
}

bool TransactionResponder::serve(Connection& c) {
  char buffer[64 * 1024];
  // Bounded: at most 16 reads per readiness, the rest on the next round.
  for (int i = 0; i < 16; ++i) {
    const ssize_t got = ::recv(c.fd.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
    if (got == 0) return false;  // the client closed: close our side too
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      return false;
    }
    c.last_activity = SteadyClock::now();
    std::size_t n = static_cast<std::size_t>(got);
    if (!c.greeted) {
      // Bounded: parse_hello refuses a frame over kMaxHello, so this holds at most that
      // plus one read.
      c.hello.append(buffer, n);
      if (!parse_hello(c)) return false;
      if (!c.greeted) continue;
      n = 0;  // parse_hello counted the request bytes that followed the hello
    }
    c.request_progress += n;
    c.owed += c.request_progress / request_bytes_;
    c.request_progress %= request_bytes_;
    if (c.owed > kMaxOwed) return false;
  }
  return write_responses(c);
}

void TransactionResponder::run() noexcept {
  io::Fd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return;
  epoll_event wake_event{};
  wake_event.events = EPOLLIN;
  wake_event.data.fd = wake_.get();
  ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake_.get(), &wake_event);
  std::unordered_map<int, std::unique_ptr<Connection>> table;
  auto last_sweep = SteadyClock::now();
  const auto drop = [&](int fd) {
    ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
    table.erase(fd);
  };
  while (!stop_.load()) {
    epoll_event events[64];
    const int ready = ::epoll_wait(epoll.get(), events, 64,
                                   static_cast<int>(std::chrono::milliseconds(kWake).count()));
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_.get()) {
        std::uint64_t value = 0;
        [[maybe_unused]] const auto n = ::read(wake_.get(), &value, sizeof(value));
        std::vector<std::unique_ptr<Connection>> fresh;
        take_new(epoll.get(), fresh);
        for (auto& connection : fresh) {
          if (table.size() >= kMaxResponderConnections) {
            rejected_.fetch_add(1);
            ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, connection->fd.get(), nullptr);
            continue;
          }
          const int key = connection->fd.get();
          table.emplace(key, std::move(connection));
        }
        continue;
      }
      const auto it = table.find(fd);
      if (it == table.end()) continue;
      Connection& c = *it->second;
      const bool was_writing = c.want_write;
      bool keep = true;
      if ((events[i].events & EPOLLOUT) != 0) keep = write_responses(c);
      if (keep && (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        keep = serve(c);
      }
      if (!keep) {
        if (!c.greeted) rejected_.fetch_add(1);
        drop(fd);
        continue;
      }
      if (c.want_write != was_writing) {
        epoll_event event{};
        event.events = EPOLLIN | EPOLLRDHUP | (c.want_write ? EPOLLOUT : 0U);
        event.data.fd = fd;
        ::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, fd, &event);
      }
    }
    const auto now = SteadyClock::now();
    if (now - last_sweep >= 1s) {
      last_sweep = now;
      std::vector<int> idle;
      for (const auto& [fd, c] : table) {
        if (now - c->last_activity > kIdle) idle.push_back(fd);
      }
      for (const int fd : idle) drop(fd);
    }
  }
}

}  // namespace longhaul::measure
