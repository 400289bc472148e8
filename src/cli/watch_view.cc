#include "cli/watch_view.hh"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

#include "core/time.hh"
#include "core/units.hh"

namespace longhaul::cli {

namespace {

using nlohmann::json;

constexpr std::size_t kColumns = 11;
constexpr std::array<const char*, kColumns> kHeadings = {
    "LANE", "RTT", "DIR", "OUT", "PKT/S", "QUEUE", "LATE P99", "RATE", "DELAY", "LOSS", "DROPS"};
/// Numbers read right-aligned; names and the drops list (last, of any length) left-aligned.
constexpr std::array<bool, kColumns> kRightAligned = {false, true, false, true, true, true,
                                                      true,  true, true,  true, false};

/// The value at `path` in `object` when it is a number, else nullopt (an answer from another
/// version may lack a field; the view shows "-" rather than failing).
std::optional<double> number_at(const json& object, std::initializer_list<const char*> path) {
  const json* at = &object;
  for (const char* key : path) {
    if (!at->is_object()) return std::nullopt;
    const auto found = at->find(key);
    if (found == at->end()) return std::nullopt;
    at = &*found;
  }
  if (!at->is_number()) return std::nullopt;
  return at->get<double>();
}

std::optional<std::uint64_t> count_at(const json& object, std::initializer_list<const char*> path) {
  const json* at = &object;
  for (const char* key : path) {
    if (!at->is_object()) return std::nullopt;
    const auto found = at->find(key);
    if (found == at->end()) return std::nullopt;
    at = &*found;
  }
  if (!at->is_number_unsigned() && !at->is_number_integer()) return std::nullopt;
  return at->get<std::uint64_t>();
}

std::string text_at(const json& object, const char* section, const char* key) {
  if (!object.contains(section) || !object[section].is_object()) return "-";
  const json& value = object[section].value(key, json());
  return value.is_string() ? value.get<std::string>() : "-";
}

core::Nanos nanos(double seconds) {
  return core::Nanos(static_cast<std::int64_t>(seconds * 1e9 + (seconds >= 0 ? 0.5 : -0.5)));
}

/// How much a counter grew between the snapshots, or nullopt when it cannot be told.
std::optional<std::uint64_t> growth(const json* before, const json& now,
                                    std::initializer_list<const char*> path) {
  if (before == nullptr) return std::nullopt;
  const auto old_value = count_at(*before, path);
  const auto new_value = count_at(now, path);
  if (!old_value || !new_value || *new_value < *old_value) return std::nullopt;
  return *new_value - *old_value;
}

std::string loss_text(const json& direction) {
  const auto loss = number_at(direction, {"config", "loss"});
  if (!loss) return "-";
  return fmt::format("{:g}%", *loss * 100.0);
}

std::string drops_text(const json* before, const json& now) {
  if (before == nullptr) return "-";
  const auto causes = now.find("counters");
  if (causes == now.end() || !causes->contains("dropped") || !(*causes)["dropped"].is_object()) {
    return "-";
  }
  std::string text;
  for (const auto& [cause, value] : (*causes)["dropped"].items()) {
    (void)value;
    const auto grown = growth(before, now, {"counters", "dropped", cause.c_str(), "packets"});
    if (grown && *grown > 0)
      text += fmt::format("{}{} {}", text.empty() ? "" : ", ", cause, *grown);
  }
  return text.empty() ? "none" : text;
}

std::array<std::string, kColumns> direction_row(const json* before, const json& now,
                                                double elapsed_s) {
  std::array<std::string, kColumns> row;
  const bool rates = before != nullptr && elapsed_s > 0;
  const auto bytes = growth(before, now, {"counters", "bytes_out"});
  const auto packets = growth(before, now, {"counters", "packets_out"});
  row[3] = rates && bytes ? core::format_rate(static_cast<double>(*bytes) * 8.0 / elapsed_s) : "-";
  row[4] =
      rates && packets ? fmt::format("{:.0f}", static_cast<double>(*packets) / elapsed_s) : "-";
  // The bottleneck's queue (waiting for the rate or on its wire), not the delay line's packets.
  const auto queue_bytes = number_at(now, {"queue", "bottleneck_bytes"});
  const auto queue_packets = count_at(now, {"queue", "bottleneck_packets"});
  row[5] = queue_bytes && queue_packets
               ? fmt::format("{} {}p", core::format_bytes(*queue_bytes), *queue_packets)
               : "-";
  const auto p99 = number_at(now, {"release_lateness", "p99_s"});
  row[6] = p99 ? core::format_duration(nanos(*p99)) : "-";
  row[7] = text_at(now, "config", "rate");
  row[8] = text_at(now, "config", "delay");
  row[9] = loss_text(now);
  row[10] = drops_text(rates ? before : nullptr, now);
  return row;
}

const json* find_lane(const json* snapshot, const std::string& name) {
  if (snapshot == nullptr || !snapshot->contains("lanes") || !(*snapshot)["lanes"].is_array()) {
    return nullptr;
  }
  for (const json& lane : (*snapshot)["lanes"]) {
    if (lane.is_object() && lane.value("name", "") == name) return &lane;
  }
  return nullptr;
}

const json* direction_of(const json* lane, const char* direction) {
  if (lane == nullptr || !lane->contains(direction)) return nullptr;
  return &(*lane)[direction];
}

}  // namespace

std::vector<std::string> watch_lines(const std::string& lab, const json* previous,
                                     const json& current, double elapsed_s) {
  std::vector<std::array<std::string, kColumns>> rows;
  rows.push_back({});
  std::copy(kHeadings.begin(), kHeadings.end(), rows.back().begin());
  const json empty = json::array();
  const json& lanes =
      current.contains("lanes") && current["lanes"].is_array() ? current["lanes"] : empty;
  for (const json& lane : lanes) {
    const std::string name = lane.value("name", "?");
    const json* before = find_lane(previous, name);
    bool first = true;
    for (const char* direction : {"up", "down"}) {
      const json* now = direction_of(&lane, direction);
      if (now == nullptr) continue;
      auto row = direction_row(direction_of(before, direction), *now, elapsed_s);
      if (first) {
        row[0] = name;
        const auto up = number_at(lane, {"up", "config", "delay_s"});
        const auto down = number_at(lane, {"down", "config", "delay_s"});
        row[1] = up && down ? core::format_duration(nanos(*up + *down)) : "-";
      }
      row[2] = direction;
      rows.push_back(std::move(row));
      first = false;
    }
  }
  std::array<std::size_t, kColumns> width{};
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < kColumns; ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::vector<std::string> lines;
  lines.push_back(
      previous == nullptr
          ? fmt::format("{}: {} lanes; rates and drops from the next refresh", lab, lanes.size())
          : fmt::format("{}: {} lanes; rates and drops over the last {:.2f} s", lab, lanes.size(),
                        elapsed_s));
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < kColumns; ++c) {
      if (c > 0) line += "  ";
      if (c + 1 == kColumns) {
        line += row[c];
      } else if (kRightAligned[c]) {
        line += fmt::format("{:>{}}", row[c], width[c]);
      } else {
        line += fmt::format("{:<{}}", row[c], width[c]);
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace longhaul::cli
