// The control API's Prometheus text exposition (GET /metrics): one family per counter, gauge
// and histogram, labelled lab, lane and direction.
#include <fmt/format.h>

#include <array>

#include "control/control_api.hh"
#include "core/printable.hh"

namespace longhaul::control {

namespace {

constexpr const char* kDirectionNames[2] = {"up", "down"};

std::vector<core::Nanos> decades(std::initializer_list<std::int64_t> mantissas_ns,
                                 std::int64_t top_ns) {
  std::vector<core::Nanos> edges;
  for (std::int64_t decade = 1; decade * 1000 <= top_ns; decade *= 10) {
    for (const auto m : mantissas_ns) {
      if (m * decade <= top_ns) edges.emplace_back(m * decade);
    }
  }
  return edges;
}

}  // namespace

const std::vector<core::Nanos>& lateness_edges() {
  static const std::vector<core::Nanos> edges = decades({1000, 2000, 5000}, 100'000'000);
  return edges;
}

const std::vector<core::Nanos>& sojourn_edges() {
  static const std::vector<core::Nanos> edges = decades({1000, 2500, 5000}, 10'000'000'000);
  return edges;
}

std::string metrics_text(const ControlTarget& target) {
  const nlohmann::json identity = target.identity();
  const std::string engine = identity.value("name", "");
  const auto& names = target.lane_names();
  std::vector<std::array<DirectionState, 2>> states;
  for (std::size_t l = 0; l < names.size(); ++l) {
    states.push_back({target.state(l, 0), target.state(l, 1)});
  }
  // Label values escape backslash, quote and newline (the text format's rule).
  const auto escape = [](const std::string& text) { return core::backslash_escaped(text); };
  std::string text;
  const auto family = [&](const char* name, const char* type, const char* help, auto value) {
    text += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (std::size_t l = 0; l < names.size(); ++l) {
      for (int d = 0; d < 2; ++d) {
        const std::string labels =
            fmt::format("lab=\"{}\",lane=\"{}\",direction=\"{}\"", escape(engine), escape(names[l]),
                        kDirectionNames[d]);
        value(labels, states[l][static_cast<std::size_t>(d)]);
      }
    }
  };
  const auto simple = [&](const char* name, const char* type, const char* help, auto get) {
    family(name, type, help, [&](const std::string& labels, const DirectionState& state) {
      text += fmt::format("{}{{{}}} {}\n", name, labels, get(state));
    });
  };
  simple("longhaul_packets_in_total", "counter", "Wire packets that entered the direction.",
         [](const DirectionState& s) { return s.counters.packets_in; });
  simple("longhaul_bytes_in_total", "counter", "L2 bytes that entered the direction.",
         [](const DirectionState& s) { return s.counters.bytes_in; });
  simple("longhaul_packets_out_total", "counter", "Wire packets the direction delivered.",
         [](const DirectionState& s) { return s.counters.packets_out; });
  simple("longhaul_bytes_out_total", "counter", "L2 bytes the direction delivered.",
         [](const DirectionState& s) { return s.counters.bytes_out; });
  for (const bool bytes : {false, true}) {
    const char* name = bytes ? "longhaul_dropped_bytes_total" : "longhaul_dropped_packets_total";
    family(name, "counter",
           bytes ? "L2 bytes dropped, by cause." : "Wire packets dropped, by cause.",
           [&](const std::string& labels, const DirectionState& state) {
             for (int c = 0; c < core::kDropCauseCount; ++c) {
               const auto index = static_cast<std::size_t>(c);
               text += fmt::format("{}{{{},cause=\"{}\"}} {}\n", name, labels,
                                   core::drop_cause_name(static_cast<core::DropCause>(c)),
                                   bytes ? state.counters.dropped_bytes[index]
                                         : state.counters.dropped_packets[index]);
             }
           });
  }
  simple("longhaul_queue_packets", "gauge", "Wire packets inside the direction now.",
         [](const DirectionState& s) { return s.counters.packets_queued; });
  simple("longhaul_queue_bytes", "gauge", "L2 bytes inside the direction now.",
         [](const DirectionState& s) { return s.counters.bytes_queued; });
  simple("longhaul_configured_delay_seconds", "gauge", "One-way propagation delay in force.",
         [](const DirectionState& s) { return core::to_seconds(s.delay); });
  simple("longhaul_configured_rate_bps", "gauge", "Bottleneck rate in force (0: unlimited).",
         [](const DirectionState& s) { return s.rate_bps; });
  simple("longhaul_configured_loss_ratio", "gauge", "Independent loss probability in force.",
         [](const DirectionState& s) { return s.loss; });
  simple("longhaul_changes_applied_total", "counter", "Schedule, trace and live changes applied.",
         [](const DirectionState& s) { return s.changes_applied; });
  simple("longhaul_live_changes_late_total", "counter",
         "Live changes that reached the direction after their instant.",
         [](const DirectionState& s) { return s.live_late; });
  simple("longhaul_bottleneck_packets", "gauge",
         "Wire packets waiting for the bottleneck rate or on the wire now.",
         [](const DirectionState& s) { return s.bottleneck_packets; });
  simple("longhaul_bottleneck_bytes", "gauge",
         "Wire bytes (L2 plus per-packet overhead) waiting for the bottleneck rate or on the wire.",
         [](const DirectionState& s) { return s.bottleneck_bytes; });
  const auto histogram = [&](const char* name, const char* help, auto figures_of) {
    family(name, "histogram", help, [&](const std::string& labels, const DirectionState& state) {
      const core::HistogramFigures figures = figures_of(state);
      for (const auto& [edge, below] : figures.below) {
        text += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, core::to_seconds(edge),
                            below);
      }
      text += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, figures.count);
      text += fmt::format("{}_sum{{{}}} {}\n", name, labels, core::to_seconds(figures.sum));
      text += fmt::format("{}_count{{{}}} {}\n", name, labels, figures.count);
    });
  };
  histogram("longhaul_release_lateness_seconds",
            "Actual hand-off to the kernel minus the model's release time, per frame released.",
            [](const DirectionState& s) { return s.lateness; });
  histogram("longhaul_queue_sojourn_seconds",
            "Wait of each wire packet at the bottleneck, from its arrival to the start of its "
            "serialisation (directions with a rate).",
            [](const DirectionState& s) {
              return core::histogram_figures<core::SojournBuckets>(s.sojourn, sojourn_edges());
            });
  return text;
}

}  // namespace longhaul::control
