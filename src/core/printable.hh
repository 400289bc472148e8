#pragma once
// Text that came from outside (a file's bytes quoted in an error message) made safe for a
// terminal: no raw control or invalid bytes, no screenful of one token.
#include <cstddef>
#include <string>
#include <string_view>

namespace longhaul::core {

/// `text` with every byte that is not printable shown as \xNN: C0 controls other than newline
/// and tab, DEL, and bytes that are not part of a valid UTF-8 sequence (valid multi-byte UTF-8,
/// such as "±", is kept). Longer than `max_bytes`, it is cut there and "..." appended (never
/// inside a UTF-8 sequence).
std::string printable(std::string_view text, std::size_t max_bytes = 4096);

/// The inside of a double-quoted string as Prometheus label values and gnuplot write it:
/// backslash and double quote escaped with a backslash, newline as \n.
std::string backslash_escaped(std::string_view text);

}  // namespace longhaul::core
