#pragma once
// Setup-path error rule: exceptions that name the call and the object, e.g.
// "ioctl(TUNSETIFF) lh-tap3: Operation not permitted". The packet path never throws.
#include <cerrno>
#include <stdexcept>
#include <string>
#include <string_view>

namespace longhaul::io {

/// A failed system call: what was called, on which object, and errno.
class SystemError : public std::runtime_error {
 public:
  SystemError(std::string_view call, std::string_view object, int err);
  int code() const noexcept { return err_; }

 private:
  int err_;
};

/// The command a run or exec was to start could not be executed (execvp's errno: ENOENT, not
/// found; EACCES, not executable), before or in the child: its own type, so callers decide by
/// the type and the errno, never by the message's text.
class ExecError : public SystemError {
 public:
  ExecError(std::string_view command, int err) : SystemError("execvp", command, err) {}
};

/// Throws SystemError for `call` on `object` with the current errno.
[[noreturn]] void throw_errno(std::string_view call, std::string_view object);
/// Throws SystemError for `call` on `object` with an explicit error number.
[[noreturn]] void throw_error(std::string_view call, std::string_view object, int err);

}  // namespace longhaul::io
