#pragma once
// Whole-file reads for the small text files of /proc, /sys and /run.
#include <optional>
#include <string>

namespace longhaul::io {

/// The file's contents; nullopt when it does not exist; SystemError naming the
/// call and the path for any other failure.
std::optional<std::string> read_text_file(const std::string& path);

}  // namespace longhaul::io
