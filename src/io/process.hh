#pragma once
// Starting the user's command inside a namespace, and finding processes in one.
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace longhaul::io {

/// Who the command runs as: the invoking user when longhaul runs under sudo.
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

/// The user that invoked sudo (SUDO_UID/SUDO_GID), if we are root under sudo.
std::optional<Credentials> sudo_invoker();

struct SpawnRequest {
  std::vector<std::string> argv;       ///< argv[0] is looked up in PATH
  std::vector<std::string> extra_env;  ///< "NAME=value" added to the environment
  int netns_fd = -1;                   ///< network namespace to enter, or -1
  /// Files bind-mounted over /etc files in a private mount namespace, as `ip netns exec` does
  /// with /etc/netns/NAME/*: {"/etc/netns/lh-lab-site/hosts", "/etc/hosts"}.
  std::vector<std::pair<std::string, std::string>> etc_binds;
  std::optional<Credentials> drop_to;  ///< become this user before exec
};

/// Checks, before anything is built for it, that `argv0` names a program execvp could start:
/// a path to a file, or a name found as a file in $PATH (the environment the command gets).
/// Throws SystemError("execvp", argv0, ENOENT) when it does not; an empty name is
/// std::invalid_argument. Permission is left to exec (the command may run as another user).
void check_command_exists(const std::string& argv0);

/// Forks and execs the command. Throws SystemError naming the command when it
/// cannot be started (errno ENOENT: not found, EACCES: not executable), after
/// reaping the child, so a failed start leaves no process behind.
pid_t spawn(const SpawnRequest& request);

/// Inode of a network namespace file (/proc/PID/ns/net or /run/netns/NAME); 0 if unreadable.
ino_t netns_inode(const std::string& path) noexcept;
/// PIDs of all processes whose network namespace has inode `inode`.
std::vector<pid_t> processes_in_netns(ino_t inode);
/// SIGKILLs every process in the namespace (except ourselves) and reaps our own children.
/// Returns how many were signalled.
std::size_t kill_processes_in_netns(ino_t inode) noexcept;

/// What /proc/PID/stat says of a process.
struct ProcessStat {
  char state = '?';                   ///< R, S, D, Z (exited, not reaped), ...
  unsigned long long start_time = 0;  ///< clock ticks after boot: with the PID, a unique identity
};
/// Parses one /proc/PID/stat line. The command name (field 2) may hold spaces and parentheses,
/// so the fields are counted after the last ')'. nullopt when the line is not of that form.
std::optional<ProcessStat> parse_process_stat(std::string_view line) noexcept;
/// /proc/PID/stat of a live (or zombie) process; nullopt when there is no such process.
std::optional<ProcessStat> read_process_stat(pid_t pid) noexcept;

/// Exit status in shell convention: the code, or 128 + signal.
int shell_status(int wait_status) noexcept;

}  // namespace longhaul::io
