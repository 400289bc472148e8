#include "measure/signals.hh"

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "io/error.hh"

namespace longhaul::measure {

SignalWatch::SignalWatch() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  if (const int rc = ::pthread_sigmask(SIG_BLOCK, &set, &previous_); rc != 0) {
    io::throw_error("pthread_sigmask", "SIGINT SIGTERM SIGHUP", rc);
  }
  fd_ = io::Fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd_.valid()) {
    const int err = errno;
    ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    io::throw_error("signalfd", "SIGINT SIGTERM SIGHUP", err);
  }
}

SignalWatch::~SignalWatch() {
  fd_.reset();
  ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

int SignalWatch::take() noexcept {
  signalfd_siginfo info{};
  int last = 0;
  // Bounded: at most a handful of signals can be pending (one per kind).
  for (int i = 0; i < 8 && ::read(fd_.get(), &info, sizeof(info)) == sizeof(info); ++i) {
    last = static_cast<int>(info.ssi_signo);
  }
  if (last != 0) received_ = last;
  return last;
}

}  // namespace longhaul::measure
