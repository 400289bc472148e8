#pragma once
// Pictures of bench results, drawn by gnuplot (Debian package gnuplot-nox):
// a figure is described as data (panels sharing one x axis, series of points),
// turned into a self-contained gnuplot script with the data inline, and
// rendered to SVG or PNG by the file name's extension. The description and the
// script are pure (unit-tested); only render_plot runs a program.
//
// Figures here: throughput, congestion window and RTT over time for one test
// (`bench client --plot`), and throughput against RTT, measured and predicted,
// one line per profile (for sweeps).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/units.hh"
#include "measure/bench_result.hh"

namespace longhaul::measure {

struct PlotSeries {
  std::string title;  ///< the legend's text
  std::vector<std::pair<double, double>> points;
  bool dashed = false;  ///< predictions and limits: dashed, no markers
  int color = 0;        ///< index into the palette; the same colour for a profile's lines
};

struct PlotPanel {
  std::string y_label;  ///< with its unit: "Goodput (Mbit/s)"
  std::vector<PlotSeries> series;
  bool log_y = false;
};

struct PlotFigure {
  std::string title;
  std::string x_label;            ///< with its unit: "Time (s)"
  std::vector<PlotPanel> panels;  ///< stacked top to bottom, sharing the x axis
  bool log_x = false;
  /// A shaded span of x with a label (the omitted slow start), if any.
  std::optional<std::pair<double, double>> shaded;
  std::string shaded_label;
};

enum class PlotFormat { svg, png };

/// The format a file name asks for (".svg" or ".png", any case); the error names the file.
core::Parsed<PlotFormat> plot_format_for(const std::string& path);

/// A complete gnuplot script drawing `figure` into `output_path`.
std::string gnuplot_script(const PlotFigure& figure, PlotFormat format,
                           const std::string& output_path);

/// Runs gnuplot on the script; throws BenchError saying what failed (gnuplot missing:
/// which package to install; gnuplot's own message otherwise).
void render_plot(const PlotFigure& figure, const std::string& output_path);

/// Goodput (receivers), congestion window and RTT (senders) per interval, per direction.
PlotFigure throughput_figure(const BenchResult& result);

/// One profile of a sweep: throughput measured (and predicted) at each RTT.
struct SweepPoint {
  double rtt_ms = 0;
  std::optional<double> measured_bps;
  std::optional<double> predicted_bps;
};
struct SweepProfile {
  std::string name;  ///< "default", "tuned"
  std::vector<SweepPoint> points;
};

/// Throughput against RTT: a solid line with markers per profile (measured) and a dashed
/// line of the same colour (predicted); log y so 0.7 and 1100 MiB/s both read.
PlotFigure sweep_figure(const std::vector<SweepProfile>& profiles, const std::string& title);

}  // namespace longhaul::measure
