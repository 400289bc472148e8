#include "measure/report/progress.hh"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace longhaul::measure {

std::string format_progress(const ProgressState& state, std::size_t width) {
  double fraction = 0;
  std::string amount;
  if (state.planned_bytes && *state.planned_bytes > 0) {
    fraction = static_cast<double>(state.bytes) / static_cast<double>(*state.planned_bytes);
    amount = fmt::format("{} / {}, {:.0f} s", core::format_bytes(static_cast<double>(state.bytes)),
                         core::format_bytes(static_cast<double>(*state.planned_bytes)),
                         to_seconds(state.elapsed));
  } else if (state.planned > Nanos{0}) {
    fraction = to_seconds(state.elapsed) / to_seconds(state.planned);
    amount = fmt::format("{:.0f} / {:.0f} s", to_seconds(state.elapsed), to_seconds(state.planned));
  } else {
    amount = fmt::format("{:.0f} s", to_seconds(state.elapsed));
  }
  if (state.count) {
    amount += fmt::format(", {}", *state.count);
    if (state.planned_count && *state.planned_count > 0) {
      amount += fmt::format(" / {}", *state.planned_count);
      fraction = std::max(
          fraction, static_cast<double>(*state.count) / static_cast<double>(*state.planned_count));
    }
    if (!state.count_unit.empty()) amount += " " + state.count_unit;
  }
  fraction = std::clamp(fraction, 0.0, 1.0);
  const std::string what = state.phase.empty() ? state.what : state.what + " (" + state.phase + ")";
  const std::string head = fmt::format("bench {}: {}", what, amount);
  const std::string percent = fmt::format(" {:3.0f}%", fraction * 100);
  // The bar takes what is left, between 10 and 30 columns; without room, no bar.
  const std::size_t used = head.size() + percent.size() + 3;
  if (width < used + 10) return (head + percent).substr(0, std::max<std::size_t>(width, 1) - 1);
  const std::size_t bar = std::min<std::size_t>(30, width - used);
  const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(bar));
  return fmt::format("{} [{}{}]{}", head, std::string(filled, '#'), std::string(bar - filled, '.'),
                     percent);
}

TerminalProgress::TerminalProgress(std::FILE* stream, bool enabled)
    : stream_(stream), enabled_(enabled && stream != nullptr && ::isatty(::fileno(stream)) == 1) {}

TerminalProgress::~TerminalProgress() {
  clear();
}

void TerminalProgress::update(const ProgressState& state) {
  if (!enabled_) return;
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  if (now_ms - last_draw_ms_ < 250) return;
  last_draw_ms_ = now_ms;
  winsize size{};
  std::size_t width = 80;
  if (::ioctl(::fileno(stream_), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) width = size.ws_col;
  std::fputs(("\r" + format_progress(state, width) + "\033[K").c_str(), stream_);
  std::fflush(stream_);
  shown_ = true;
}

void TerminalProgress::clear() {
  if (!enabled_ || !shown_) return;
  std::fputs("\r\033[K", stream_);
  std::fflush(stream_);
  shown_ = false;
  last_draw_ms_ = -1'000'000;
}

}  // namespace longhaul::measure
