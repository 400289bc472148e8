#include "measure/bulk/control_channel.hh"

#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "io/error.hh"
#include "measure/bench_error.hh"

namespace longhaul::measure {

namespace {
constexpr auto kSendTimeout = std::chrono::seconds(10);
}

ControlChannel::ControlChannel(io::Fd fd, std::string peer)
    : fd_(std::move(fd)), peer_(std::move(peer)) {}

void ControlChannel::send(const nlohmann::json& message) {
  send_all(fd_.get(), encode_message(message), SteadyClock::now() + kSendTimeout, peer_);
}

void ControlChannel::send_quietly(const nlohmann::json& message) noexcept {
  try {
    if (!closed_) {
      send_all(fd_.get(), encode_message(message), SteadyClock::now() + std::chrono::seconds(2),
               peer_);
    }
  } catch (...) {
    // The connection is gone; nothing more to tell.
  }
}

// Reads once (without blocking); returns false when nothing was available.
bool ControlChannel::fill_once() {
  char buffer[64 * 1024];
  const ssize_t got = ::recv(fd_.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
  if (got > 0) {
    reader_.feed(std::string_view(buffer, static_cast<std::size_t>(got)));
    return true;
  }
  if (got == 0) {
    closed_ = true;
    return false;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return false;
  closed_ = true;
  io::throw_errno("recv", peer_);
}

std::optional<nlohmann::json> ControlChannel::receive(SteadyTime deadline) {
  for (;;) {
    nlohmann::json message;
    std::string error;
    switch (reader_.next(message, error)) {
      case FrameReader::Status::message:
        return message;
      case FrameReader::Status::error:
        throw BenchError(fmt::format("{}: {}", peer_, error));
      case FrameReader::Status::incomplete:
        break;
    }
    if (closed_) throw BenchError(fmt::format("{} closed the control connection", peer_));
    if (!fill_once()) {
      if (closed_) continue;  // report the close once buffered messages are consumed
      if (!wait_readable(fd_.get(), deadline)) return std::nullopt;
    }
  }
}

std::vector<nlohmann::json> ControlChannel::read_available() {
  std::vector<nlohmann::json> messages;
  // Bounded: at most 64 reads of 64 KiB per call, the rest waits for the next poll.
  for (int i = 0; i < 64 && !closed_ && fill_once(); ++i) {
  }
  for (;;) {
    nlohmann::json message;
    std::string error;
    const auto status = reader_.next(message, error);
    if (status == FrameReader::Status::error) throw BenchError(fmt::format("{}: {}", peer_, error));
    if (status == FrameReader::Status::incomplete) break;
    messages.push_back(std::move(message));
  }
  return messages;
}

void ControlChannel::shutdown_write() noexcept {
  ::shutdown(fd_.get(), SHUT_WR);
}

namespace {

// Reads exactly `size` bytes into `out`; false on timeout, end of file or error.
bool read_exact(int fd, char* out, std::size_t size, SteadyTime deadline) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::recv(fd, out + got, size - got, MSG_DONTWAIT);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0) return false;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    if (!wait_readable(fd, deadline)) return false;
  }
  return true;
}

}  // namespace

std::optional<nlohmann::json> read_one_message(int fd, SteadyTime deadline) {
  char header[4];
  if (!read_exact(fd, header, sizeof(header), deadline)) return std::nullopt;
  std::uint32_t size = 0;
  for (const char c : header) size = (size << 8) | static_cast<unsigned char>(c);
  // A hello is small; anything large is not our protocol.
  if (size > 64 * 1024) return std::nullopt;
  std::string text(size, '\0');
  if (!read_exact(fd, text.data(), size, deadline)) return std::nullopt;
  auto message = nlohmann::json::parse(text, nullptr, false);
  if (message.is_discarded() || !message.is_object()) return std::nullopt;
  return message;
}

std::string message_type(const nlohmann::json& message) {
  const auto it = message.find("type");
  return it != message.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace longhaul::measure
