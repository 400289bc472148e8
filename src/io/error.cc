#include "io/error.hh"

#include <cstring>

namespace longhaul::io {

namespace {
std::string describe(std::string_view call, std::string_view object, int err) {
  std::string text(call);
  if (!object.empty()) {
    text += ' ';
    text += object;
  }
  text += ": ";
  text += std::strerror(err);
  return text;
}
}  // namespace

SystemError::SystemError(std::string_view call, std::string_view object, int err)
    : std::runtime_error(describe(call, object, err)), err_(err) {}

void throw_errno(std::string_view call, std::string_view object) {
  throw SystemError(call, object, errno);
}

void throw_error(std::string_view call, std::string_view object, int err) {
  throw SystemError(call, object, err);
}

}  // namespace longhaul::io
