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

/// Throws SystemError for `call` on `object` with the current errno.
[[noreturn]] void throw_errno(std::string_view call, std::string_view object);
/// Throws SystemError for `call` on `object` with an explicit error number.
[[noreturn]] void throw_error(std::string_view call, std::string_view object, int err);

}  // namespace longhaul::io
