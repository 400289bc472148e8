#pragma once
// A one-line progress display for long tests ("what is running, elapsed /
// total"), redrawn in place on a terminal. Off when the stream is not a
// terminal, so logs and pipes never see carriage returns.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "measure/bench_config.hh"

namespace longhaul::measure {

struct ProgressState {
  std::string what;  ///< "upload to 198.18.1.1", ...
  Nanos elapsed{0};
  Nanos planned{0};  ///< omit + duration; zero when the test is a byte count
  std::uint64_t bytes = 0;
  std::optional<std::uint64_t> planned_bytes;
  /// Transaction tests: how many started of how many planned (shown beside the time).
  std::optional<std::uint64_t> count;
  std::optional<std::uint64_t> planned_count;
  std::string count_unit;  ///< "connections", "transactions"
  std::string phase;       ///< "phase 1/2", empty for one-phase tests
};

/// "bench upload to 198.18.1.1: 12 / 60 s [#####...............] 20%" within `width` columns;
/// transaction tests add "1200 / 5000 connections", and the bar follows whichever of time
/// and count is further along (the test ends at the first bound reached).
std::string format_progress(const ProgressState& state, std::size_t width);

/// Draws progress on a terminal; every call is a no-op when disabled.
class TerminalProgress {
 public:
  /// Enabled when `enabled` and `stream` is a terminal.
  TerminalProgress(std::FILE* stream, bool enabled);
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;
  ~TerminalProgress();

  bool enabled() const { return enabled_; }
  /// Redraws the line (at most a few times a second).
  void update(const ProgressState& state);
  /// Erases the line, before other output is written to the same terminal.
  void clear();

 private:
  std::FILE* stream_;
  bool enabled_;
  bool shown_ = false;
  std::int64_t last_draw_ms_ = -1'000'000;
};

}  // namespace longhaul::measure
