#pragma once
// Result of parsing user-written text (netem lines, distribution tables): a
// value, or an error that says where (line and column, 1-based) and what.
#include <cstddef>
#include <optional>
#include <string>

namespace longhaul::core {

struct SyntaxError {
  std::size_t line = 0;    ///< 1-based line of the offending text; 0 when not about one place
  std::size_t column = 0;  ///< 1-based column (bytes) of the offending word
  std::string word;        ///< the offending word as written (may be empty at end of input)
  std::string message;     ///< complete sentence: position, word, problem, what is accepted
};

template <class T>
struct SyntaxResult {
  std::optional<T> value;
  SyntaxError error;

  /// True when the text parsed; otherwise `error` says why.
  explicit operator bool() const noexcept { return value.has_value(); }
  /// The value; precondition: the parse succeeded.
  const T& operator*() const { return *value; }
  /// Member access to the value; precondition: the parse succeeded.
  const T* operator->() const { return &*value; }
};

}  // namespace longhaul::core
