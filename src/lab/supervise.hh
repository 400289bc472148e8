#pragma once
// Running a user's command under longhaul (run, exec, shell): which signals longhaul takes, and
// waiting for the command while passing on requests to stop.
#include <signal.h>
#include <sys/types.h>

#include <functional>

namespace longhaul::lab {

/// Signals that end a run, blocked in every thread so the main thread takes them in order.
sigset_t run_signals();

/// Blocks run_signals() in the calling thread (and threads it creates) for its lifetime.
class BlockRunSignals {
 public:
  BlockRunSignals();
  BlockRunSignals(const BlockRunSignals&) = delete;
  BlockRunSignals& operator=(const BlockRunSignals&) = delete;
  ~BlockRunSignals();

 private:
  sigset_t previous_;
};

/// Waits for the child, forwarding termination requests (SIGKILL if it ignores them). Returns the
/// exit status to report and sets `signal_received` when longhaul itself was told to stop.
/// `tick`, when given, is called about five times a second while the child runs.
/// Precondition: run_signals() are blocked.
int supervise(pid_t child, int& signal_received, const std::function<void()>& tick = {});

}  // namespace longhaul::lab
