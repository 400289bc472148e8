#include "io/netns.hh"

#include <dirent.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "io/error.hh"

namespace longhaul::io {

namespace {

bool valid_name(const std::string& name) noexcept {
  return !name.empty() && name.size() <= NAME_MAX && name != "." && name != ".." &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

void check_name(const std::string& name) {
  if (!valid_name(name))
    throw std::invalid_argument("invalid network namespace name '" + name + "'");
}

std::string netns_path(const std::string& name) {
  return std::string(kNetnsRunDir) + "/" + name;
}

// Serialises the one-time setup of /run/netns between threads of this process.
std::mutex run_dir_mutex;

// Does what iproute2's netns_add does before creating a namespace: make sure /run/netns exists
// and is a shared mount point. Shared, so that unmounting a namespace here also unmounts it in
// mount namespaces cloned from ours (e.g. by `ip netns exec`), letting the kernel free it.
void prepare_run_dir() {
  std::lock_guard lock(run_dir_mutex);
  if (::mkdir(kNetnsRunDir, 0755) != 0 && errno != EEXIST) throw_errno("mkdir", kNetnsRunDir);
  bool made_mount_point = false;
  while (::mount("", kNetnsRunDir, "none", MS_SHARED | MS_REC, nullptr) != 0) {
    // EINVAL means the directory is not a mount point yet: bind it over itself, once.
    if (errno != EINVAL || made_mount_point) throw_errno("mount(MS_SHARED)", kNetnsRunDir);
    if (::mount(kNetnsRunDir, kNetnsRunDir, "none", MS_BIND | MS_REC, nullptr) != 0) {
      throw_errno("mount(MS_BIND)", kNetnsRunDir);
    }
    made_mount_point = true;
  }
}

// Formats /run/netns/NAME into `out` without allocating, for the noexcept teardown path.
bool format_path(const std::string& name, char (&out)[PATH_MAX]) noexcept {
  if (!valid_name(name)) return false;
  const int n = std::snprintf(out, sizeof out, "%s/%s", kNetnsRunDir, name.c_str());
  return n > 0 && static_cast<std::size_t>(n) < sizeof out;
}

}  // namespace

Netns Netns::create(const std::string& name) {
  check_name(name);
  prepare_run_dir();
  const std::string path = netns_path(name);
  {
    // O_EXCL makes an existing name (ours or iproute2's) a clean EEXIST before anything else.
    Fd placeholder(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
    if (!placeholder.valid()) throw_errno("open(O_CREAT|O_EXCL)", path);
  }
  const char* failed_call = nullptr;
  int failed_errno = 0;
  try {
    // The new namespace is created on a throwaway thread so the caller's stays untouched; the
    // bind mount keeps the namespace alive after that thread exits. thread-self, not self: the
    // thread group leader is still in the old namespace.
    std::thread([&] {
      if (::unshare(CLONE_NEWNET) != 0) {
        failed_errno = errno;
        failed_call = "unshare(CLONE_NEWNET)";
      } else if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
        failed_errno = errno;
        failed_call = "mount(MS_BIND)";
      }
    }).join();
  } catch (...) {
    ::unlink(path.c_str());
    throw;
  }
  if (failed_call != nullptr) {
    ::unlink(path.c_str());
    throw_error(failed_call, path, failed_errno);
  }
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const int err = errno;
    delete_netns(name);
    throw_error("open", path, err);
  }
  return Netns(name, std::move(fd), true);
}

Netns Netns::open(const std::string& name) {
  check_name(name);
  const std::string path = netns_path(name);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) throw_errno("open", path);
  // A leftover plain file (a crash between create and mount) is not a namespace: say so now
  // rather than as a puzzling setns() failure later.
  const int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type < 0) throw_errno("ioctl(NS_GET_NSTYPE)", path);
  if (type != CLONE_NEWNET) throw_error("ioctl(NS_GET_NSTYPE)", path, EINVAL);
  return Netns(name, std::move(fd), false);
}

Netns::Netns(Netns&& other) noexcept
    : name_(std::move(other.name_)),
      fd_(std::move(other.fd_)),
      owned_(std::exchange(other.owned_, false)),
      removed_(std::exchange(other.removed_, true)) {
  other.name_.clear();
}

Netns& Netns::operator=(Netns&& other) noexcept {
  if (this != &other) {
    if (owned_) remove();
    name_ = std::move(other.name_);
    other.name_.clear();
    fd_ = std::move(other.fd_);
    owned_ = std::exchange(other.owned_, false);
    removed_ = std::exchange(other.removed_, true);
  }
  return *this;
}

Netns::~Netns() {
  if (owned_) remove();
}

void Netns::remove() noexcept {
  if (removed_ || name_.empty()) return;
  removed_ = true;
  owned_ = false;
  // Our descriptor holds a reference to the namespace; drop it so the kernel can free it.
  fd_.reset();
  delete_netns(name_);
}

bool netns_exists(const std::string& name) {
  if (!valid_name(name)) return false;
  struct stat st {};
  return ::lstat(netns_path(name).c_str(), &st) == 0;
}

std::vector<std::string> list_netns() {
  std::vector<std::string> names;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(kNetnsRunDir), &::closedir);
  if (!dir) {
    if (errno == ENOENT) return names;
    throw_errno("opendir", kNetnsRunDir);
  }
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool delete_netns(const std::string& name) noexcept {
  char path[PATH_MAX];
  if (!format_path(name, path)) return false;
  // MNT_DETACH: the namespace may still be in use (a process inside, an open socket); detaching
  // removes the name now and lets the kernel free the namespace when the last user goes.
  const bool unmounted = ::umount2(path, MNT_DETACH) == 0;
  const bool unlinked = ::unlink(path) == 0;
  return unmounted || unlinked;
}

namespace detail {

void enter_netns(int ns_fd) {
  if (::setns(ns_fd, CLONE_NEWNET) != 0) {
    throw_errno("setns(CLONE_NEWNET)", "fd " + std::to_string(ns_fd));
  }
}

}  // namespace detail

}  // namespace longhaul::io
