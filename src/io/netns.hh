#pragma once
// Named network namespaces, compatible with `ip netns`: each one is a bind mount of an nsfs
// inode at /run/netns/NAME, so `ip netns exec NAME ...` works on ours and vice versa.
//
// Nothing here changes the namespace of the calling thread. Work that must happen inside a
// namespace runs on a short-lived thread (run_in_netns) that setns()es first; sockets it opens
// stay bound to that namespace after the thread is gone, which is how netlink and AF_PACKET
// sockets are opened "in" a namespace by the rest of the code.
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "io/fd.hh"

namespace longhaul::io {

/// Directory holding the bind mounts, the same one iproute2 uses.
inline constexpr const char* kNetnsRunDir = "/run/netns";

/// A named network namespace: move-only; removes the namespace on destruction if it owns it.
class Netns {
 public:
  /// Creates /run/netns/NAME as a new, empty namespace (SystemError if it already exists).
  static Netns create(const std::string& name);
  /// Opens an existing namespace without taking ownership: destruction leaves it in place.
  static Netns open(const std::string& name);

  Netns() = default;
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  Netns(Netns&& other) noexcept;
  Netns& operator=(Netns&& other) noexcept;
  ~Netns();

  /// The namespace's name (the file name under /run/netns).
  const std::string& name() const noexcept { return name_; }
  /// An O_RDONLY|O_CLOEXEC descriptor of the namespace, for setns() or IFLA_NET_NS_FD (-1 once
  /// removed).
  int fd() const noexcept { return fd_.get(); }
  /// True while this object owns the namespace and will remove it on destruction.
  bool owned() const noexcept { return owned_; }
  /// Unmounts and unlinks /run/netns/NAME now, owned or not; idempotent, never throws.
  void remove() noexcept;
  /// Gives up ownership: the namespace outlives this object.
  void release() noexcept { owned_ = false; }

 private:
  Netns(std::string name, Fd fd, bool owned) noexcept
      : name_(std::move(name)), fd_(std::move(fd)), owned_(owned) {}

  std::string name_;
  Fd fd_;
  bool owned_ = false;
  bool removed_ = false;
};

/// True if /run/netns/NAME exists (ours or created by `ip netns add`).
bool netns_exists(const std::string& name);
/// Names of the namespaces in /run/netns, sorted (empty if the directory does not exist).
std::vector<std::string> list_netns();
/// Unmounts and unlinks /run/netns/NAME; true if something was removed. Never throws.
bool delete_netns(const std::string& name) noexcept;

namespace detail {
/// Moves the calling thread into the network namespace `ns_fd` (SystemError on failure).
void enter_netns(int ns_fd);
}  // namespace detail

/// Runs fn() on a short-lived thread that has joined network namespace `ns_fd`, and returns its
/// result by value (void allowed); an exception thrown by fn (or by setns) is rethrown here.
template <class F>
auto run_in_netns(int ns_fd, F&& fn) {
  using Result = std::remove_cvref_t<std::invoke_result_t<F&&>>;
  // A dedicated thread rather than setns() on the caller: the caller's namespace never changes,
  // so there is nothing to restore if fn throws, and other threads are unaffected.
  std::exception_ptr error;
  [[maybe_unused]] std::conditional_t<std::is_void_v<Result>, bool, std::optional<Result>> result{};
  std::thread worker([&] {
    try {
      detail::enter_netns(ns_fd);
      if constexpr (std::is_void_v<Result>) {
        std::invoke(std::forward<F>(fn));
      } else {
        result.emplace(std::invoke(std::forward<F>(fn)));
      }
    } catch (...) {
      error = std::current_exception();
    }
  });
  worker.join();
  if (error) std::rethrow_exception(error);
  if constexpr (!std::is_void_v<Result>) return std::move(*result);
}

}  // namespace longhaul::io
