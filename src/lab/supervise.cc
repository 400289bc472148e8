#include "lab/supervise.hh"

#include <pthread.h>
#include <sys/wait.h>

#include <chrono>
#include <optional>

#include "io/process.hh"

namespace longhaul::lab {

using namespace std::chrono_literals;

sigset_t run_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&set, signal);
  return set;
}

BlockRunSignals::BlockRunSignals() {
  const sigset_t signals = run_signals();
  ::pthread_sigmask(SIG_BLOCK, &signals, &previous_);
}

BlockRunSignals::~BlockRunSignals() {
  ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

int supervise(pid_t child, int& signal_received, const std::function<void()>& tick) {
  const sigset_t signals = run_signals();
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> kill_at;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) return io::shell_status(status);
    if (kill_at && Clock::now() >= *kill_at) {
      ::kill(child, SIGKILL);
      kill_at.reset();
    }
    if (tick) tick();
    const timespec timeout{0, 200'000'000};
    siginfo_t info{};
    const int signal = ::sigtimedwait(&signals, &info, &timeout);
    if (signal <= 0 || signal == SIGCHLD) continue;
    signal_received = signal;
    // A Ctrl-C from the terminal already reached the command (same process
    // group); forward only what was sent to longhaul alone.
    const bool from_terminal = signal == SIGINT && info.si_code == SI_KERNEL;
    if (!from_terminal) ::kill(child, signal == SIGINT ? SIGINT : SIGTERM);
    if (!kill_at) kill_at = Clock::now() + (signal == SIGINT ? 10s : 5s);
  }
}

}  // namespace longhaul::lab
