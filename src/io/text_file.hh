#pragma once
// Whole-file reads: the small text files of /proc, /sys and /run, and the files users hand to
// longhaul (topologies, schedules, traces, .dist tables, state files), which are bounded and
// must be regular files.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace longhaul::io {

/// The file's contents; nullopt when it does not exist; SystemError naming the
/// call and the path for any other failure.
std::optional<std::string> read_text_file(const std::string& path);

/// Size limits of the files longhaul reads (docs/robustness.md lists them).
inline constexpr std::uint64_t kTopologyFileLimit = 4ULL << 20;  ///< topology (TOML)
inline constexpr std::uint64_t kScheduleFileLimit = 4ULL << 20;  ///< --schedule
inline constexpr std::uint64_t kDistTableLimit = 1ULL << 20;     ///< netem .dist tables
inline constexpr std::uint64_t kTraceFileLimit = 64ULL << 20;    ///< capacity traces
inline constexpr std::uint64_t kStateFileLimit = 1ULL << 20;     ///< /run/longhaul state

/// A file a user gave: its text, or why it cannot be used.
struct InputFile {
  std::string text;
  std::string error;  ///< "PATH: is a directory; give a topology file", ...; empty on success
  explicit operator bool() const noexcept { return error.empty(); }
};

/// Reads the user's file `path`, a `what` file ("topology", "schedule", ...), of at most
/// `max_bytes`. Only regular files are read (a directory, a device such as /dev/zero, a FIFO or
/// a socket is refused without reading or blocking), and never more than `max_bytes` + 1 bytes,
/// whatever the file claims. `-` reads standard input (the same limit) when `allow_stdin`.
/// Never throws for anything the file or path does: the error says what and what to do.
InputFile read_input_file(const std::string& path, std::string_view what, std::uint64_t max_bytes,
                          bool allow_stdin = false);

/// "4 MiB", "512 KiB", "100 bytes": a limit as the messages and docs say it.
std::string describe_size(std::uint64_t bytes);

}  // namespace longhaul::io

namespace longhaul::io {

/// Writes `text` to `path` so that a reader sees the old file or the whole new one, never part:
/// it goes to PATH.PID.tmp first (PID = this process), then is renamed over `path`. Throws
/// SystemError naming the call and the file.
void write_file_atomically(const std::string& path, const std::string& text);

/// Removes the PATH.PID.tmp files of `directory` whose writer (PID) is gone: what a process
/// killed in write_file_atomically leaves, and PATH.tmp files (older longhaul versions) not
/// written for 10 s. Returns the files removed. Never throws.
std::vector<std::string> remove_orphan_temporaries(const std::string& directory) noexcept;

}  // namespace longhaul::io

namespace longhaul::io {

/// Why `path` cannot take an output file longhaul writes at the end of its work (--json FILE,
/// --plot FILE, capture -w FILE), checked before any work starts so the work is not lost; empty
/// when it can. "-" (standard output) always can. Accepted: a regular file or FIFO that can be
/// written, /dev/null, a terminal, or a new file in an existing writable directory. Nothing is
/// created.
std::string output_path_problem(const std::string& path);

}  // namespace longhaul::io
