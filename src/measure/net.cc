#include "measure/net.hh"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "io/error.hh"
#include "measure/bench_error.hh"

namespace longhaul::measure {

namespace {

int remaining_ms(SteadyTime deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(std::min<std::chrono::milliseconds::rep>(left.count(), 1'000'000));
}

Endpoint endpoint_of(const sockaddr_storage& address) {
  Endpoint out;
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    sockaddr_in v4{};
    std::memcpy(&v4, &address, sizeof(v4));
    ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof(text));
    out.port = ntohs(v4.sin_port);
  } else if (address.ss_family == AF_INET6) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, &address, sizeof(v6));
    if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) {
      ::inet_ntop(AF_INET, &v6.sin6_addr.s6_addr[12], text, sizeof(text));
    } else {
      ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof(text));
    }
    out.port = ntohs(v6.sin6_port);
  }
  out.host = text;
  return out;
}

void set_nonblocking(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) io::throw_errno("fcntl(F_GETFL)", "socket");
  const int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (::fcntl(fd, F_SETFL, wanted) != 0) io::throw_errno("fcntl(F_SETFL)", "socket");
}

struct AddrInfoDeleter {
  void operator()(addrinfo* info) const { ::freeaddrinfo(info); }
};

}  // namespace

io::Fd listen_tcp(const std::optional<std::string>& bind_address, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  hints.ai_family = bind_address ? AF_UNSPEC : AF_INET6;
  const std::string service = std::to_string(port);
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(bind_address ? bind_address->c_str() : nullptr, service.c_str(), &hints,
                         &found);
  if (rc != 0 && !bind_address) {
    hints.ai_family = AF_INET;  // no IPv6 on this host
    rc = ::getaddrinfo(nullptr, service.c_str(), &hints, &found);
  }
  if (rc != 0) {
    throw BenchError(fmt::format("cannot resolve bind address {}: {}", bind_address.value_or("*"),
                                 ::gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, AddrInfoDeleter> list(found);
  const std::string where = fmt::format("port {}", port);
  int last_error = EADDRNOTAVAIL;
  for (const addrinfo* a = list.get(); a != nullptr; a = a->ai_next) {
    // Non-blocking: a connection reset between poll and accept must not block the server.
    io::Fd fd(
        ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
    if (!fd.valid()) {
      last_error = errno;
      continue;
    }
    const int one = 1, zero = 0;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (a->ai_family == AF_INET6 && !bind_address) {
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    }
    if (::bind(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
      last_error = errno;
      continue;
    }
    if (::listen(fd.get(), 128) != 0) io::throw_errno("listen", where);
    return fd;
  }
  io::throw_error("bind", where, last_error);
}

io::Fd connect_tcp(const std::string& host, std::uint16_t port, core::Nanos timeout,
                   const std::function<void(int)>& prepare) {
  const SteadyTime deadline =
      SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(timeout);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  const std::string service = std::to_string(port);
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) throw BenchError(fmt::format("cannot resolve {}: {}", host, ::gai_strerror(rc)));
  std::unique_ptr<addrinfo, AddrInfoDeleter> list(found);
  const std::string where = fmt::format("{} port {}", host, port);
  int last_error = ETIMEDOUT;
  for (const addrinfo* a = list.get(); a != nullptr; a = a->ai_next) {
    io::Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd.valid()) {
      last_error = errno;
      continue;
    }
    if (prepare) prepare(fd.get());
    set_nonblocking(fd.get(), true);
    if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last_error = errno;
        continue;
      }
      pollfd p{fd.get(), POLLOUT, 0};
      int ready = 0;
      do {
        ready = ::poll(&p, 1, remaining_ms(deadline));
      } while (ready < 0 && errno == EINTR && SteadyClock::now() < deadline);
      if (ready <= 0) {
        last_error = ready == 0 ? ETIMEDOUT : errno;
        continue;
      }
      int error = 0;
      socklen_t length = sizeof(error);
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) {
        last_error = error;
        continue;
      }
    }
    set_nonblocking(fd.get(), false);
    return fd;
  }
  io::throw_error("connect", where, last_error);
}

io::Fd accept_tcp(int listen_fd) {
  io::Fd fd(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!fd.valid()) return fd;
  // Accepted sockets are used blocking (with timeouts); only the accept itself must not block.
  set_nonblocking(fd.get(), false);
  return fd;
}

Endpoint local_endpoint(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return {};
  return endpoint_of(address);
}

Endpoint peer_endpoint(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return {};
  return endpoint_of(address);
}

bool wait_readable(int fd, SteadyTime deadline) {
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) io::throw_errno("poll", "socket");
    if (SteadyClock::now() >= deadline) return false;
  }
}

void send_all(int fd, std::string_view data, SteadyTime deadline, std::string_view what) {
  while (!data.empty()) {
    const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent > 0) {
      data.remove_prefix(static_cast<std::size_t>(sent));
      continue;
    }
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      io::throw_errno("send", what);
    }
    pollfd p{fd, POLLOUT, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready == 0) throw BenchError(fmt::format("timed out sending to {}", what));
    if (ready < 0 && errno != EINTR) io::throw_errno("poll", what);
  }
}

void set_io_timeouts(int fd, core::Nanos timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000'000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1'000'000'000) / 1000);
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
    io::throw_errno("setsockopt(SO_SNDTIMEO/SO_RCVTIMEO)", "data socket");
  }
}

void set_nodelay(int fd) {
  const int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    io::throw_errno("setsockopt(TCP_NODELAY)", "control socket");
  }
}

}  // namespace longhaul::measure
