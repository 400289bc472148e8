#include "core/schedule.hh"

#include <algorithm>

namespace longhaul::core {

bool ScheduleConfig::changes_rate() const noexcept {
  return std::any_of(steps.begin(), steps.end(),
                     [](const ScheduleStep& step) { return step.change.rate_bps.has_value(); });
}

bool ScheduleConfig::changes_delay() const noexcept {
  return std::any_of(steps.begin(), steps.end(),
                     [](const ScheduleStep& step) { return step.change.delay.has_value(); });
}

bool ScheduleConfig::changes_loss() const noexcept {
  return std::any_of(steps.begin(), steps.end(),
                     [](const ScheduleStep& step) { return step.change.loss.has_value(); });
}

std::uint64_t ScheduleConfig::max_rate_bps() const noexcept {
  std::uint64_t result = 0;
  for (const auto& step : steps) result = std::max(result, step.change.rate_bps.value_or(0));
  return result;
}

Nanos ScheduleConfig::max_delay() const noexcept {
  Nanos result{0};
  for (const auto& step : steps) result = std::max(result, step.change.delay.value_or(Nanos{0}));
  return result;
}

ScheduleCursor::ScheduleCursor(const ScheduleConfig& config, Nanos origin)
    : steps_(config.steps), period_(config.period), base_(origin) {
  // Stable: steps at the same time apply in the order they were written.
  std::stable_sort(steps_.begin(), steps_.end(),
                   [](const ScheduleStep& a, const ScheduleStep& b) { return a.at < b.at; });
  settle();
}

void ScheduleCursor::settle() noexcept {
  if (index_ == steps_.size() && period_.count() > 0 && !steps_.empty()) {
    index_ = 0;
    base_ += period_;
  }
  next_ = index_ < steps_.size() ? base_ + steps_[index_].at : kNever;
}

void ScheduleCursor::pop() noexcept {
  if (index_ < steps_.size()) ++index_;
  settle();
}

}  // namespace longhaul::core
