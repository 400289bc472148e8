#include "io/xsk_socket.hh"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdarg>
#include <mutex>
#include <vector>

#include "io/error.hh"
#include "io/fd.hh"
#include "io/netns.hh"

namespace longhaul::io {

namespace {

constexpr std::uint32_t kChunkBytes = XSK_UMEM__DEFAULT_FRAME_SIZE;  // 4 KiB, one page
// 32 MiB per interface: half for receiving, half for transmitting.
constexpr std::uint32_t kChunks = 8192;
constexpr std::uint32_t kHalfChunks = kChunks / 2;
constexpr std::uint32_t kRingSize = 2048;
// Copy mode sends at most 32 frames per sendto; a full ring needs 64 calls. Bounded so a
// stalled device cannot hold the engine thread.
constexpr int kMaxKicks = kRingSize / 32 + 2;

int silent_libbpf(libbpf_print_level, const char*, va_list) {
  return 0;
}
int silent_libxdp(libxdp_print_level, const char*, va_list) {
  return 0;
}

// libxdp reports through its own log ("Can't use dispatcher" in a namespace without bpffs, which
// is expected and harmless); the errors that matter come back as return codes and are thrown.
void silence_libraries() {
  static std::once_flag once;
  std::call_once(once, [] {
    libbpf_set_print(silent_libbpf);
    libxdp_set_print(silent_libxdp);
  });
}

std::uint64_t chunk_of(std::uint64_t address) noexcept {
  return xsk_umem__extract_addr(address) & ~std::uint64_t{kChunkBytes - 1};
}

}  // namespace

struct XskSocket::State {
  Fd netns;  // where the socket and its XDP program live, for detaching them again
  std::byte* area = nullptr;
  xsk_umem* umem = nullptr;
  xsk_socket* socket = nullptr;
  xsk_ring_prod fill{};
  xsk_ring_cons completion{};
  xsk_ring_cons rx{};
  xsk_ring_prod tx{};

  // Receive side: chunks not in the kernel's hands.
  std::vector<std::uint64_t> receive_pool;
  std::uint32_t rx_index = 0;
  std::uint64_t reported_drops = 0;

  // Transmit side: free chunks, and the current reservation.
  std::vector<std::uint64_t> transmit_pool;
  std::uint32_t tx_index = 0;
  std::uint32_t tx_reserved = 0;
  std::array<std::uint64_t, kRingSize> reserved_chunks{};

  void refill() noexcept {
    const auto wanted = static_cast<std::uint32_t>(
        std::min<std::size_t>(receive_pool.size(), xsk_prod_nb_free(&fill, kRingSize)));
    if (wanted == 0) return;
    std::uint32_t index = 0;
    const std::uint32_t granted = xsk_ring_prod__reserve(&fill, wanted, &index);
    for (std::uint32_t i = 0; i < granted; ++i) {
      *xsk_ring_prod__fill_addr(&fill, index + i) = receive_pool.back();
      receive_pool.pop_back();
    }
    xsk_ring_prod__submit(&fill, granted);
  }

  void reclaim_completed() noexcept {
    std::uint32_t index = 0;
    const std::uint32_t done = xsk_ring_cons__peek(&completion, kRingSize, &index);
    for (std::uint32_t i = 0; i < done; ++i) {
      transmit_pool.push_back(chunk_of(*xsk_ring_cons__comp_addr(&completion, index + i)));
    }
    xsk_ring_cons__release(&completion, done);
  }

  ~State() {
    if (socket != nullptr) {
      // libxdp detaches its program by interface index through netlink in the calling thread's
      // namespace: do it in the socket's own, never in whichever the destructor runs in.
      try {
        run_in_netns(netns.get(), [this] { xsk_socket__delete(socket); });
      } catch (...) {
        // No way to report from a destructor; the namespace's deletion removes the program.
      }
    }
    if (umem != nullptr) xsk_umem__delete(umem);
    if (area != nullptr) ::munmap(area, std::size_t{kChunkBytes} * kChunks);
  }
};

XskSocket::XskSocket(std::string name) : name_(std::move(name)), state_(new State) {}
XskSocket::~XskSocket() = default;

std::unique_ptr<XskSocket> XskSocket::open(const std::string& ifname) {
  silence_libraries();
  if (::if_nametoindex(ifname.c_str()) == 0) throw_errno("if_nametoindex", ifname);
  std::unique_ptr<XskSocket> port(new XskSocket(ifname));
  State& s = *port->state_;
  s.netns = Fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!s.netns.valid()) throw_errno("open(/proc/thread-self/ns/net)", ifname);

  const std::size_t area_bytes = std::size_t{kChunkBytes} * kChunks;
  void* area = ::mmap(nullptr, area_bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (area == MAP_FAILED) throw_errno("mmap(UMEM)", ifname);
  s.area = static_cast<std::byte*>(area);

  xsk_umem_config umem_config{};
  umem_config.fill_size = kRingSize;
  umem_config.comp_size = kRingSize;
  umem_config.frame_size = kChunkBytes;
  umem_config.frame_headroom = 0;
  if (const int err =
          xsk_umem__create(&s.umem, area, area_bytes, &s.fill, &s.completion, &umem_config);
      err != 0) {
    throw_error("xsk_umem__create", ifname, -err);
  }

  xsk_socket_config config{};
  config.rx_size = kRingSize;
  config.tx_size = kRingSize;
  config.libxdp_flags = 0;  // attach libxdp's default program, redirecting queue 0 here
  config.xdp_flags = XDP_FLAGS_DRV_MODE;
  config.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
  if (const int err =
          xsk_socket__create(&s.socket, ifname.c_str(), 0, s.umem, &s.rx, &s.tx, &config);
      err != 0) {
    s.socket = nullptr;
    throw_error("xsk_socket__create (native XDP, copy mode)", ifname, -err);
  }

  s.receive_pool.reserve(kHalfChunks);
  s.transmit_pool.reserve(kHalfChunks);
  for (std::uint32_t i = 0; i < kHalfChunks; ++i) {
    s.receive_pool.push_back(std::uint64_t{i} * kChunkBytes);
    s.transmit_pool.push_back(std::uint64_t{kHalfChunks + i} * kChunkBytes);
  }
  s.refill();
  port->take_receive_drops();  // start counting from zero
  return port;
}

int XskSocket::fd() const noexcept {
  return xsk_socket__fd(state_->socket);
}

std::size_t XskSocket::peek_received(std::span<Frame> out) noexcept {
  State& s = *state_;
  const auto wanted = static_cast<std::uint32_t>(std::min<std::size_t>(out.size(), kRingSize));
  const std::uint32_t got = xsk_ring_cons__peek(&s.rx, wanted, &s.rx_index);
  for (std::uint32_t i = 0; i < got; ++i) {
    const xdp_desc* desc = xsk_ring_cons__rx_desc(&s.rx, s.rx_index + i);
    out[i].data = static_cast<const std::byte*>(xsk_umem__get_data(s.area, desc->addr));
    out[i].length = desc->len;
  }
  return got;
}

void XskSocket::release_received(std::size_t count) noexcept {
  State& s = *state_;
  for (std::size_t i = 0; i < count; ++i) {
    const auto index = static_cast<std::uint32_t>(s.rx_index + i);
    s.receive_pool.push_back(chunk_of(xsk_ring_cons__rx_desc(&s.rx, index)->addr));
  }
  xsk_ring_cons__release(&s.rx, static_cast<std::uint32_t>(count));
  s.refill();
}

std::uint64_t XskSocket::take_receive_drops() noexcept {
  State& s = *state_;
  xdp_statistics stats{};
  socklen_t length = sizeof stats;
  if (::getsockopt(fd(), SOL_XDP, XDP_STATISTICS, &stats, &length) != 0) return 0;
  // rx_dropped already counts frames lost to an empty fill ring (rx_fill_ring_empty_descs counts
  // the same events again); rx_ring_full is the RX ring overflowing while the engine was busy.
  const std::uint64_t total = stats.rx_dropped + stats.rx_ring_full;
  const std::uint64_t fresh = total - s.reported_drops;  // the kernel's counters only grow
  s.reported_drops = total;
  return fresh;
}

std::uint32_t XskSocket::max_transmit_bytes() noexcept {
  return kChunkBytes;
}

std::uint32_t XskSocket::reserve_transmit(std::uint32_t wanted) noexcept {
  State& s = *state_;
  s.reclaim_completed();
  wanted = static_cast<std::uint32_t>(
      std::min<std::size_t>({wanted, s.transmit_pool.size(), std::size_t{kRingSize}}));
  s.tx_reserved = xsk_ring_prod__reserve(&s.tx, wanted, &s.tx_index);
  for (std::uint32_t i = 0; i < s.tx_reserved; ++i) {
    s.reserved_chunks[i] = s.transmit_pool.back();
    s.transmit_pool.pop_back();
  }
  return s.tx_reserved;
}

std::byte* XskSocket::transmit_buffer(std::uint32_t index) noexcept {
  State& s = *state_;
  return static_cast<std::byte*>(xsk_umem__get_data(s.area, s.reserved_chunks[index]));
}

void XskSocket::submit_transmit(std::span<const std::uint32_t> lengths) noexcept {
  State& s = *state_;
  const auto count =
      static_cast<std::uint32_t>(std::min<std::size_t>(lengths.size(), s.tx_reserved));
  for (std::uint32_t i = 0; i < count; ++i) {
    xdp_desc* desc = xsk_ring_prod__tx_desc(&s.tx, s.tx_index + i);
    desc->addr = s.reserved_chunks[i];
    desc->len = lengths[i];
    desc->options = 0;
  }
  // libxdp 1.3 has no xsk_ring_prod__cancel: hand back the unused tail of the reservation.
  s.tx.cached_prod -= s.tx_reserved - count;
  for (std::uint32_t i = count; i < s.tx_reserved; ++i) {
    s.transmit_pool.push_back(s.reserved_chunks[i]);
  }
  s.tx_reserved = 0;
  xsk_ring_prod__submit(&s.tx, count);
}

std::uint32_t XskSocket::transmit_waiting() const noexcept {
  const State& s = *state_;
  return s.tx.cached_prod - __atomic_load_n(s.tx.consumer, __ATOMIC_ACQUIRE);
}

std::uint32_t XskSocket::kick_transmit() noexcept {
  for (int kick = 0; kick < kMaxKicks; ++kick) {
    if (transmit_waiting() == 0) return 0;
    if (::sendto(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0) < 0 && errno != EAGAIN) {
      // EBUSY / ENOBUFS / ENETDOWN: the device cannot take more now; the next send retries.
      break;
    }
  }
  return transmit_waiting();
}

}  // namespace longhaul::io
