#include "measure/bulk/stream_worker.hh"

#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "core/random.hh"
#include "measure/bulk/tcp_info.hh"

namespace longhaul::measure {

namespace {
constexpr auto kPoll = std::chrono::milliseconds(100);
constexpr std::size_t kReceiveChunk = 256 * 1024;

bool transient(int err) {
  return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}
}  // namespace

std::shared_ptr<const std::vector<std::byte>> make_payload(std::uint64_t seed, std::size_t size) {
  auto payload = std::make_shared<std::vector<std::byte>>(size);
  core::Random random(core::derive_seed(seed, 0xbe7c));
  for (std::size_t i = 0; i < size; i += 8) {
    const std::uint64_t word = random.next();
    for (std::size_t b = 0; b < 8 && i + b < size; ++b) {
      (*payload)[i + b] = static_cast<std::byte>((word >> (8 * b)) & 0xffU);
    }
  }
  return payload;
}

StreamWorker::StreamWorker(io::Fd fd, Plan plan,
                           std::shared_ptr<const std::vector<std::byte>> payload)
    : fd_(std::move(fd)), plan_(plan), payload_(std::move(payload)) {}

StreamWorker::~StreamWorker() {
  request_stop();
  join();
}

void StreamWorker::start() {
  set_io_timeouts(fd_.get(), kPoll);
  thread_ = std::thread([this] { run(); });
}

void StreamWorker::join() {
  if (thread_.joinable()) thread_.join();
}

void StreamWorker::run() noexcept {
  try {
    if (plan_.role == Role::sender) {
      send_phase();
      ::shutdown(fd_.get(), SHUT_WR);
      if (error_.empty()) drain_phase();
    } else {
      receive_phase();
      ::shutdown(fd_.get(), SHUT_WR);
    }
  } catch (const std::exception& e) {
    if (error_.empty()) error_ = e.what();
  }
  final_info_ = read_tcp_info(fd_.get());
  finished_at_ = SteadyClock::now();
  done_.store(true, std::memory_order_release);
}

void StreamWorker::send_phase() {
  const auto& payload = *payload_;
  std::uint64_t sent = 0;
  while (!stop_.load(std::memory_order_relaxed) && SteadyClock::now() < plan_.send_until) {
    std::size_t size = payload.size();
    if (plan_.byte_limit > 0) {
      if (sent >= plan_.byte_limit) return;
      size = static_cast<std::size_t>(std::min<std::uint64_t>(size, plan_.byte_limit - sent));
    }
    const ssize_t n = ::send(fd_.get(), payload.data(), size, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::uint64_t>(n);
      bytes_.store(sent, std::memory_order_relaxed);
      continue;
    }
    if (n < 0 && transient(errno)) continue;  // the send timeout let us re-check the deadline
    error_ = fmt::format("send: {}", n == 0 ? "connection closed" : std::strerror(errno));
    return;
  }
}

// After the FIN: the receiver reads everything, then closes its side; its FIN
// tells us every byte arrived. TCP_INFO then holds the sender's final figures.
void StreamWorker::drain_phase() {
  char scratch[4096];
  auto last_progress = SteadyClock::now();
  std::uint64_t last_acked = 0;
  while (!stop_.load(std::memory_order_relaxed)) {
    const ssize_t n = ::recv(fd_.get(), scratch, sizeof(scratch), 0);
    if (n == 0) return;
    if (n > 0) continue;  // the peer should not send; ignore it
    if (!transient(errno)) {
      error_ = fmt::format("recv: {}", std::strerror(errno));
      return;
    }
    const auto info = read_tcp_info(fd_.get());
    const auto now = SteadyClock::now();
    if (info && info->bytes_acked != last_acked) {
      last_acked = info->bytes_acked;
      last_progress = now;
    } else if (now - last_progress > plan_.idle_timeout) {
      error_ = fmt::format("no acknowledgement for {} while waiting for the receiver",
                           core::format_duration(plan_.idle_timeout));
      return;
    }
  }
}

void StreamWorker::receive_phase() {
  std::vector<char> buffer(kReceiveChunk);
  std::uint64_t received = 0;
  auto last_progress = SteadyClock::now();
  while (!stop_.load(std::memory_order_relaxed)) {
    const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
    if (n > 0) {
      received += static_cast<std::uint64_t>(n);
      bytes_.store(received, std::memory_order_relaxed);
      last_progress = SteadyClock::now();
      continue;
    }
    if (n == 0) return;  // the sender is done
    if (!transient(errno)) {
      error_ = fmt::format("recv: {}", std::strerror(errno));
      return;
    }
    if (SteadyClock::now() - last_progress > plan_.idle_timeout) {
      error_ = fmt::format("no data for {}", core::format_duration(plan_.idle_timeout));
      return;
    }
  }
}

}  // namespace longhaul::measure
