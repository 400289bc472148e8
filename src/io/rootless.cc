#include "io/rootless.hh"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <thread>

#include "io/error.hh"
#include "io/fd.hh"
#include "io/process.hh"

namespace longhaul::io {

namespace {

bool g_in_session = false;

// How often an idle holder looks whether anyone is left in its session. Only the holder's own
// lifetime depends on it: a session with nothing in it lingers at most this long.
constexpr auto kHolderPoll = std::chrono::seconds(1);

std::string errno_text(int error) {
  return std::strerror(error);
}

// Writes `text` to a /proc file in one write(2), as uid_map and friends require.
bool write_proc(const char* path, const std::string& text) {
  Fd fd(::open(path, O_WRONLY | O_CLOEXEC));
  return fd.valid() &&
         ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

// The session's /run: a tmpfs showing the host's /run entries again, except the two that must
// be the session's own. Entries it cannot show again (another user's private socket) are
// left out: the session's commands would not have been allowed to use them anyway.
void rebuild_run(const std::string& state_dir) {
  Fd old_run(::open("/run", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!old_run.valid()) throw_errno("open", "/run");
  if (::mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    throw_errno("mount(tmpfs)", "/run");
  }
  const std::string base = fmt::format("/proc/self/fd/{}", old_run.get());
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(base.c_str()), &::closedir);
  if (!dir) throw_errno("opendir", "/run (the host's)");
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string name = entry->d_name;
    if (name == "." || name == ".." || name == "netns" || name == "longhaul") continue;
    const std::string source = base + "/" + name;
    const std::string target = "/run/" + name;
    struct stat info {};
    if (::lstat(source.c_str(), &info) != 0) continue;
    if (S_ISLNK(info.st_mode)) {
      char link[4096];
      const ssize_t n = ::readlink(source.c_str(), link, sizeof link - 1);
      if (n > 0 &&
          ::symlink(std::string(link, static_cast<std::size_t>(n)).c_str(), target.c_str()) == 0) {
        continue;
      }
      continue;
    }
    if (S_ISDIR(info.st_mode)) {
      if (::mkdir(target.c_str(), 0755) != 0) continue;
    } else {
      Fd placeholder(::open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
      if (!placeholder.valid()) continue;
    }
    if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      ::rmdir(target.c_str());
      ::unlink(target.c_str());
    }
  }
  if (::mkdir("/run/netns", 0755) != 0) throw_errno("mkdir", "/run/netns (session)");
  if (::mkdir("/run/longhaul", 0700) != 0) throw_errno("mkdir", "/run/longhaul (session)");
  if (::mount(state_dir.c_str(), "/run/longhaul", nullptr, MS_BIND, nullptr) != 0) {
    throw_errno("mount(MS_BIND)", state_dir + " on /run/longhaul");
  }
}

std::string userns_disabled_advice(const std::string& what) {
  return fmt::format(
      "rootless mode: {}. Unprivileged user namespaces look disabled on this machine: on Debian "
      "enable them with `sysctl -w kernel.unprivileged_userns_clone=1` (and check "
      "`sysctl user.max_user_namespaces` is above 0); on Ubuntu 23.10 and later AppArmor "
      "restricts them (kernel.apparmor_restrict_unprivileged_userns). Or run longhaul as root "
      "(sudo).",
      what);
}

// True when no process but the caller is in the caller's user namespace.
bool alone_in_user_namespace() {
  struct stat self {};
  if (::stat("/proc/self/ns/user", &self) != 0) return false;
  const pid_t me = ::getpid();
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), &::closedir);
  if (!proc) return false;
  while (const dirent* entry = ::readdir(proc.get())) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == me) continue;
    struct stat other {};
    const std::string path = fmt::format("/proc/{}/ns/user", pid);
    if (::stat(path.c_str(), &other) == 0 && other.st_ino == self.st_ino &&
        other.st_dev == self.st_dev) {
      return false;
    }
  }
  return true;
}

[[noreturn]] void run_holder(int ready_fd, uid_t uid, gid_t gid, const std::string& directory) {
  const auto fail = [ready_fd](const std::string& message) {
    [[maybe_unused]] const ssize_t ignored = ::write(ready_fd, message.data(), message.size());
    ::_exit(1);
  };
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
    fail(userns_disabled_advice("unshare(CLONE_NEWUSER) failed: " + errno_text(errno)));
  }
  if (!write_proc("/proc/self/setgroups", "deny") ||
      !write_proc("/proc/self/uid_map", fmt::format("0 {} 1\n", uid)) ||
      !write_proc("/proc/self/gid_map", fmt::format("0 {} 1\n", gid))) {
    fail(userns_disabled_advice("mapping this user to root in a new user namespace failed: " +
                                errno_text(errno)));
  }
  try {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      throw_errno("mount(MS_PRIVATE)", "/");
    }
    rebuild_run(directory + "/state");
  } catch (const std::exception& error) {
    fail(fmt::format("rootless mode: cannot set up the session's /run: {}", error.what()));
  }
  const std::string ok = "ok";
  [[maybe_unused]] const ssize_t written = ::write(ready_fd, ok.data(), ok.size());
  ::close(ready_fd);
  ::setsid();
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
  }
  const std::string lock_path = directory + "/session.lock";
  const std::string pid_path = directory + "/session.pid";
  // Linger while anything is in the session; leave under the lock, so a command that is
  // joining either sees the holder alive and joins it or sees it gone and starts another.
  for (;;) {
    std::this_thread::sleep_for(kHolderPoll);
    Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock.valid() || ::flock(lock.get(), LOCK_EX) != 0) continue;
    if (alone_in_user_namespace()) {
      ::unlink(pid_path.c_str());
      ::_exit(0);
    }
  }
}

struct SessionRecord {
  pid_t pid = 0;
  unsigned long long start_time = 0;
};

std::optional<SessionRecord> live_holder(const std::string& pid_path) {
  Fd fd(::open(pid_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  char text[64] = {};
  if (::read(fd.get(), text, sizeof text - 1) <= 0) return std::nullopt;
  SessionRecord record;
  if (std::sscanf(text, "%d %llu", &record.pid, &record.start_time) != 2 || record.pid <= 0) {
    return std::nullopt;
  }
  const auto stat = read_process_stat(record.pid);
  if (!stat || stat->state == 'Z' || stat->start_time != record.start_time) return std::nullopt;
  return record;
}

void join(pid_t holder) {
  char cwd[4096];
  const bool have_cwd = ::getcwd(cwd, sizeof cwd) != nullptr;
  Fd user(::open(fmt::format("/proc/{}/ns/user", holder).c_str(), O_RDONLY | O_CLOEXEC));
  Fd mount(::open(fmt::format("/proc/{}/ns/mnt", holder).c_str(), O_RDONLY | O_CLOEXEC));
  if (!user.valid() || !mount.valid()) throw_errno("open", "the rootless session's namespaces");
  if (::setns(user.get(), CLONE_NEWUSER) != 0) throw_errno("setns(user)", "rootless session");
  if (::setns(mount.get(), CLONE_NEWNS) != 0) throw_errno("setns(mnt)", "rootless session");
  // Entering a mount namespace moves the working directory to its root; the session shows the
  // same tree outside /run, so relative paths keep meaning what the user meant.
  if (!have_cwd || ::chdir(cwd) != 0) {
    [[maybe_unused]] const int ignored = ::chdir("/");
  }
}

void make_private_directory(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) throw_errno("mkdir", path);
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) throw_errno("lstat", path);
  if (!S_ISDIR(info.st_mode) || info.st_uid != ::getuid() || (info.st_mode & 0077) != 0) {
    throw std::runtime_error(fmt::format(
        "rootless mode: {} must be a directory of yours that only you can read (mode 0700); "
        "remove it or set XDG_RUNTIME_DIR",
        path));
  }
}

}  // namespace

std::string rootless_directory() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  const std::string path = runtime != nullptr && runtime[0] == '/'
                               ? std::string(runtime) + "/longhaul"
                               : fmt::format("/tmp/longhaul-{}", ::getuid());
  make_private_directory(path);
  make_private_directory(path + "/state");
  return path;
}

void enter_rootless_session() {
  if (g_in_session) return;
  const std::string directory = rootless_directory();
  const std::string lock_path = directory + "/session.lock";
  const std::string pid_path = directory + "/session.pid";
  Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock.valid()) throw_errno("open", lock_path);
  if (::flock(lock.get(), LOCK_EX) != 0) throw_errno("flock", lock_path);
  if (const auto holder = live_holder(pid_path)) {
    join(holder->pid);
    g_in_session = true;
    return;
  }
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) throw_errno("pipe2", "rootless session");
  const uid_t uid = ::getuid();
  const gid_t gid = ::getgid();
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork", "rootless session holder");
  if (pid == 0) {
    ::close(ready[0]);
    ::close(lock.get());  // the lock's open file is shared: the holder must not keep it held
    run_holder(ready[1], uid, gid, directory);
  }
  ::close(ready[1]);
  std::string reply;
  char buffer[512];
  for (ssize_t n; (n = ::read(ready[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    reply.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(ready[0]);
  if (reply != "ok") {
    throw std::runtime_error(reply.empty() ? "rootless mode: the session holder died starting"
                                           : reply);
  }
  const auto stat = read_process_stat(pid);
  if (!stat) throw std::runtime_error("rootless mode: the session holder died starting");
  const std::string record = fmt::format("{} {}\n", pid, stat->start_time);
  Fd out(::open(pid_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out.valid() ||
      ::write(out.get(), record.data(), record.size()) != static_cast<ssize_t>(record.size())) {
    throw_errno("write", pid_path);
  }
  join(pid);
  g_in_session = true;
}

bool in_rootless_session() noexcept {
  return g_in_session;
}

}  // namespace longhaul::io
