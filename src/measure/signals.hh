#pragma once
// Ctrl-C and friends as a readable descriptor, so a control loop can wait for
// sockets and signals in one poll and end a test cleanly (tell the peer, stop
// the streams, print what was measured) instead of dying mid-way.
#include <csignal>

#include "io/fd.hh"

namespace longhaul::measure {

class SignalWatch {
 public:
  /// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (call it before starting
  /// threads, which inherit the mask) and opens a signalfd for them.
  SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;
  /// Restores the previous signal mask (pending signals are then delivered).
  ~SignalWatch();

  /// Readable when one of the signals arrived.
  int fd() const { return fd_.get(); }
  /// Consumes pending signals; returns the last one's number (0 if none).
  int take() noexcept;
  /// The last signal taken (0 if none).
  int received() const { return received_; }

 private:
  sigset_t previous_{};
  io::Fd fd_;
  int received_ = 0;
};

}  // namespace longhaul::measure
