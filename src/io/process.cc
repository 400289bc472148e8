#include "io/process.hh"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "io/error.hh"
#include "io/fd.hh"
#include "io/rootless.hh"

extern char** environ;

namespace longhaul::io {

std::optional<Credentials> sudo_invoker() {
  // Rootless, the session maps only this user (as uid 0): there is no one else to become.
  if (::geteuid() != 0 || in_rootless_session()) return std::nullopt;
  const char* uid_text = std::getenv("SUDO_UID");
  const char* gid_text = std::getenv("SUDO_GID");
  if (uid_text == nullptr || gid_text == nullptr) return std::nullopt;
  char* end = nullptr;
  const unsigned long uid = std::strtoul(uid_text, &end, 10);
  if (*end != '\0') return std::nullopt;
  const unsigned long gid = std::strtoul(gid_text, &end, 10);
  if (*end != '\0' || uid == 0) return std::nullopt;
  Credentials credentials;
  credentials.uid = static_cast<uid_t>(uid);
  credentials.gid = static_cast<gid_t>(gid);
  // Supplementary groups are looked up now: initgroups() is not safe after fork
  // in a threaded process.
  if (const passwd* user = ::getpwuid(credentials.uid); user != nullptr) {
    int count = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    if (::getgrouplist(user->pw_name, credentials.gid, groups.data(), &count) < 0) {
      groups.resize(static_cast<std::size_t>(count));
      ::getgrouplist(user->pw_name, credentials.gid, groups.data(), &count);
    }
    groups.resize(static_cast<std::size_t>(count));
    credentials.groups = std::move(groups);
  }
  return credentials;
}

void check_command_exists(const std::string& argv0) {
  if (argv0.empty()) {
    throw std::invalid_argument(
        "the command to run is an empty string (-- \"\"); give a program "
        "after --, or nothing for your shell");
  }
  struct stat info {};
  if (argv0.find('/') != std::string::npos) {
    if (::stat(argv0.c_str(), &info) != 0) throw ExecError(argv0, errno);
    return;
  }
  // execvp's default search path when PATH is unset.
  const char* path = std::getenv("PATH");
  const std::string search = path != nullptr ? path : "/bin:/usr/bin";
  std::size_t start = 0;
  for (;;) {
    const std::size_t colon = search.find(':', start);
    std::string dir = search.substr(start, colon == std::string::npos ? colon : colon - start);
    if (dir.empty()) dir = ".";  // an empty PATH entry is the current directory
    const std::string candidate = dir + "/" + argv0;
    if (::stat(candidate.c_str(), &info) == 0 && !S_ISDIR(info.st_mode)) return;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  throw ExecError(argv0, ENOENT);
}

pid_t spawn(const SpawnRequest& request) {
  if (request.argv.empty()) throw std::invalid_argument("spawn: empty command");
  // Everything the child needs is built before fork: after fork in a threaded
  // process only async-signal-safe calls are allowed.
  std::vector<char*> argv;
  for (const auto& arg : request.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** entry = environ; *entry != nullptr; ++entry) env_storage.emplace_back(*entry);
  for (const auto& extra : request.extra_env) env_storage.push_back(extra);
  std::vector<char*> envp;
  for (auto& entry : env_storage) envp.push_back(entry.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw_errno("pipe2", "command status pipe");
  Fd read_end(pipe_fds[0]);
  Fd write_end(pipe_fds[1]);

  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork", request.argv[0]);
  if (pid == 0) {
    // Child: report the failing step's errno through the pipe, then exit.
    auto fail = [&](int step) {
      const int report[2] = {step, errno};
      [[maybe_unused]] auto written = ::write(write_end.get(), report, sizeof report);
      ::_exit(127);
    };
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    if (request.netns_fd >= 0 && ::setns(request.netns_fd, CLONE_NEWNET) != 0) fail(1);
    if (!request.etc_binds.empty()) {
      // A private mount namespace, so the binds are seen by this command only; mounts are made
      // slave first so nothing propagates back to the host.
      if (::unshare(CLONE_NEWNS) != 0) fail(6);
      if (::mount("", "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) fail(7);
      for (const auto& [source, target] : request.etc_binds) {
        if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) fail(7);
      }
    }
    if (request.drop_to) {
      const auto& who = *request.drop_to;
      if (::setgroups(who.groups.size(), who.groups.data()) != 0) fail(2);
      if (::setgid(who.gid) != 0) fail(3);
      if (::setuid(who.uid) != 0) fail(4);
    }
    ::execvpe(argv[0], argv.data(), envp.data());
    fail(5);
  }
  write_end.reset();
  int report[2] = {0, 0};
  ssize_t got;
  do {
    got = ::read(read_end.get(), report, sizeof report);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof report)) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    static constexpr const char* kSteps[] = {"",       "setns",  "setgroups", "setgid",
                                             "setuid", "execvp", "unshare",   "mount"};
    const int step = report[0] >= 1 && report[0] <= 7 ? report[0] : 5;
    if (step == 5) throw ExecError(request.argv[0], report[1]);
    throw_error(kSteps[step], request.argv[0], report[1]);
  }
  return pid;
}

ino_t netns_inode(const std::string& path) noexcept {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_ino;
}

std::vector<pid_t> processes_in_netns(ino_t inode) {
  std::vector<pid_t> pids;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return pids;
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    if (netns_inode("/proc/" + std::string(entry->d_name) + "/ns/net") == inode) {
      pids.push_back(static_cast<pid_t>(pid));
    }
  }
  ::closedir(proc);
  return pids;
}

std::size_t kill_processes_in_netns(ino_t inode) noexcept {
  if (inode == 0) return 0;
  std::size_t signalled = 0;
  try {
    for (const pid_t pid : processes_in_netns(inode)) {
      if (pid == ::getpid()) continue;
      if (::kill(pid, SIGKILL) == 0) ++signalled;
    }
  } catch (...) {
    return signalled;
  }
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  return signalled;
}

int shell_status(int wait_status) noexcept {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

std::optional<ProcessStat> parse_process_stat(std::string_view line) noexcept {
  const auto close = line.rfind(')');
  if (close == std::string_view::npos || close + 2 >= line.size()) return std::nullopt;
  // After ") ": field 3 (state) ... field 22 (starttime).
  std::istringstream fields{std::string(line.substr(close + 2))};
  ProcessStat stat;
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return std::nullopt;
    if (i == 3) stat.state = field[0];
    if (i == 22) stat.start_time = std::strtoull(field.c_str(), nullptr, 10);
  }
  return stat;
}

std::optional<ProcessStat> read_process_stat(pid_t pid) noexcept {
  try {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    return parse_process_stat(line);
  } catch (...) {
    return std::nullopt;  // allocation failure: treat as unreadable
  }
}

}  // namespace longhaul::io
