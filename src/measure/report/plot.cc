#include "measure/report/plot.hh"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/printable.hh"
#include "measure/bench_error.hh"
#include "measure/report/human_report.hh"

extern char** environ;

namespace longhaul::measure {

namespace {

// Colour-blind-safe palette (Okabe–Ito), distinguishable in print too.
constexpr const char* kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                    "#E69F00", "#56B4E9", "#000000"};

// A gnuplot double-quoted string (the terminal is noenhanced, so only \ and " matter).
std::string quoted(const std::string& text) {
  return "\"" + core::backslash_escaped(text) + "\"";
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

core::Parsed<PlotFormat> plot_format_for(const std::string& path) {
  core::Parsed<PlotFormat> out;
  const std::string name = lower(path);
  if (name.ends_with(".svg")) {
    out.value = PlotFormat::svg;
  } else if (name.ends_with(".png")) {
    out.value = PlotFormat::png;
  } else {
    out.error = fmt::format("'{}': the file name must end in .svg or .png (the format)", path);
  }
  return out;
}

std::string gnuplot_script(const PlotFigure& figure, PlotFormat format,
                           const std::string& output_path) {
  std::ostringstream s;
  const std::size_t n = std::max<std::size_t>(figure.panels.size(), 1);
  // Taller for more panels; each panel gets about 260 px.
  const int width = 1100;
  const int height = static_cast<int>(140 + 260 * n);
  if (format == PlotFormat::svg) {
    s << "set terminal svg size " << width << "," << height
      << " dynamic noenhanced font \"Helvetica,14\" background \"white\"\n";
  } else {
    s << "set terminal pngcairo size " << width << "," << height
      << " noenhanced font \"Sans,11\" background \"white\"\n";
  }
  s << "set output " << quoted(output_path) << "\n";
  s << "set encoding utf8\n";
  // Data inline as named blocks: one file, nothing to clean up.
  for (std::size_t p = 0; p < figure.panels.size(); ++p) {
    const auto& panel = figure.panels[p];
    for (std::size_t i = 0; i < panel.series.size(); ++i) {
      s << "$p" << p << "s" << i << " << EOD\n";
      for (const auto& [x, y] : panel.series[i].points) {
        if (std::isfinite(x) && std::isfinite(y)) s << fmt::format("{:.6g} {:.6g}\n", x, y);
      }
      s << "EOD\n";
    }
  }
  s << "set multiplot title " << quoted(figure.title) << " font \",16\"\n";
  s << "set grid xtics ytics lc rgb \"#d0d0d0\" lw 1\n";
  s << "set border 3 lw 1\nset tics nomirror\n";
  s << "set key top right opaque box lc rgb \"#c0c0c0\"\n";
  if (figure.log_x) s << "set logscale x\n";
  // One x range for every panel: the axis is shared, so the panels must agree.
  double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min;
  for (const auto& panel : figure.panels) {
    for (const auto& series : panel.series) {
      for (const auto& [x, y] : series.points) {
        if (!std::isfinite(x) || (figure.log_x && x <= 0)) continue;
        x_min = std::min(x_min, x);
        x_max = std::max(x_max, x);
      }
    }
  }
  if (figure.shaded) x_max = std::max(x_max, figure.shaded->second);
  if (x_max > x_min) {
    s << fmt::format("set xrange [{:.6g}:{:.6g}]\n", figure.log_x ? x_min : std::min(0.0, x_min),
                     x_max);
  }
  // Explicit margins so every panel's plot area lines up on the shared x axis.
  const double top = 1.0 - 90.0 / height;
  const double bottom = 70.0 / height;
  const double gap = 16.0 / height;
  const double h = (top - bottom) / static_cast<double>(n);
  s << "set lmargin at screen 0.09\nset rmargin at screen 0.97\n";
  if (figure.shaded) {
    s << fmt::format(
        "set object 1 rect from {:.6g}, graph 0 to {:.6g}, graph 1 behind fc rgb \"#ececec\" "
        "fs solid noborder\n",
        figure.shaded->first, figure.shaded->second);
  }
  for (std::size_t p = 0; p < figure.panels.size(); ++p) {
    const auto& panel = figure.panels[p];
    const double panel_top = top - h * static_cast<double>(p);
    s << fmt::format("set tmargin at screen {:.4f}\nset bmargin at screen {:.4f}\n", panel_top,
                     panel_top - h + gap);
    s << "set ylabel " << quoted(panel.y_label) << "\n";
    // Headroom above the data, so the legend never sits on the last points.
    s << (panel.log_y ? "set logscale y\nset yrange [*:*]\nset offsets 0, 0, graph 0.1, 0\n"
                      : "unset logscale y\nset yrange [0:*]\nset offsets 0, 0, graph 0.2, 0\n");
    if (figure.shaded && p == 0 && !figure.shaded_label.empty()) {
      s << "set label 1 " << quoted(figure.shaded_label)
        << fmt::format(" at {:.6g}, graph 0.94 left tc rgb \"#707070\"\n", figure.shaded->first);
    } else {
      s << "unset label 1\n";
    }
    const bool last = p + 1 == figure.panels.size();
    s << (last ? "set format x \"%g\"\nset xlabel " + quoted(figure.x_label) + "\n"
               : std::string("set format x \"\"\nunset xlabel\n"));
    std::vector<std::string> plots;
    for (std::size_t i = 0; i < panel.series.size(); ++i) {
      const auto& series = panel.series[i];
      const std::string colour = kPalette[static_cast<std::size_t>(series.color) %
                                          (sizeof(kPalette) / sizeof(kPalette[0]))];
      if (series.points.empty()) continue;
      plots.push_back(fmt::format("$p{}s{} using 1:2 with {} lw {} lc rgb \"{}\"{} title {}", p, i,
                                  series.dashed ? "lines" : "linespoints", series.dashed ? 2 : 2.5,
                                  colour, series.dashed ? " dt 2" : " pt 7 ps 0.6",
                                  quoted(series.title)));
    }
    if (plots.empty()) {
      // An empty panel still shows its axes (e.g. no sender figures reached us).
      s << "set yrange [0:1]\nplot 1/0 notitle\n";
      continue;
    }
    s << "plot ";
    for (std::size_t i = 0; i < plots.size(); ++i) s << (i > 0 ? ", \\\n     " : "") << plots[i];
    s << "\n";
  }
  s << "unset multiplot\nset output\n";
  return s.str();
}

void render_plot(const PlotFigure& figure, const std::string& output_path) {
  const auto format = plot_format_for(output_path);
  if (!format) throw BenchError("--plot " + format.error);
  char script_path[] = "/tmp/longhaul-plot-XXXXXX.gp";
  const int script_fd = ::mkstemps(script_path, 3);
  if (script_fd < 0)
    throw BenchError(
        fmt::format("cannot create a temporary file for gnuplot: {}", std::strerror(errno)));
  char log_path[] = "/tmp/longhaul-plot-XXXXXX.log";
  const int log_fd = ::mkstemps(log_path, 4);
  const std::string script = gnuplot_script(figure, *format, output_path);
  const bool written =
      ::write(script_fd, script.data(), script.size()) == static_cast<ssize_t>(script.size());
  ::close(script_fd);
  struct Cleanup {
    const char* a;
    const char* b;
    ~Cleanup() {
      ::unlink(a);
      ::unlink(b);
    }
  } cleanup{script_path, log_path};
  if (!written || log_fd < 0) {
    if (log_fd >= 0) ::close(log_fd);
    throw BenchError("cannot write the gnuplot script to /tmp");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::string program = "gnuplot";
  std::vector<char*> argv = {program.data(), script_path, nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(log_fd);
  if (rc == ENOENT) {
    throw BenchError(
        "--plot needs gnuplot, which is not installed: install the Debian package gnuplot-nox "
        "(sudo apt-get install gnuplot-nox)");
  }
  if (rc != 0) throw BenchError(fmt::format("cannot run gnuplot: {}", std::strerror(rc)));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream log(log_path);
    std::string message((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    if (message.size() > 2000) message.resize(2000);
    throw BenchError(fmt::format("gnuplot failed drawing {}: {}", output_path,
                                 message.empty() ? "no message" : message));
  }
  if (::access(output_path.c_str(), F_OK) != 0) {
    throw BenchError(fmt::format("gnuplot did not write {}", output_path));
  }
}

PlotFigure throughput_figure(const BenchResult& result) {
  const BenchConfig& config = result.start.config;
  PlotFigure figure;
  std::string cc;
  if (result.start.client && !result.start.client->congestion.empty()) {
    cc = ", " + result.start.client->congestion;
  }
  figure.title = fmt::format("longhaul bench: {} port {}, {}{}", result.start.host,
                             result.start.port, describe_test(config), cc);
  if (config.sndbuf_bytes || config.rcvbuf_bytes) {
    figure.title += fmt::format(
        "\nSO_SNDBUF {}, SO_RCVBUF {}",
        config.sndbuf_bytes ? format_size(*config.sndbuf_bytes) : std::string("autotuned"),
        config.rcvbuf_bytes ? format_size(*config.rcvbuf_bytes) : std::string("autotuned"));
  }
  figure.x_label = "Time since start (s)";
  if (config.omit > Nanos{0}) {
    figure.shaded = std::pair{0.0, to_seconds(config.omit)};
    figure.shaded_label = " omitted (-O)";
  }
  // The cwnd unit follows its size, so the axis reads "KB" or "MB" rather than 1e+06.
  std::uint64_t max_cwnd = 0;
  for (const auto& interval : result.intervals) {
    for (const auto direction : directions(config)) {
      if (const auto sum = sum_interval(interval.streams, direction, Role::sender)) {
        max_cwnd = std::max(max_cwnd, sum->snd_cwnd_bytes);
      }
    }
  }
  const bool mb = max_cwnd >= 2'000'000;
  double max_goodput = 0;
  for (const auto& interval : result.intervals) {
    for (const auto direction : directions(config)) {
      if (const auto sum = sum_interval(interval.streams, direction, Role::receiver)) {
        max_goodput = std::max(max_goodput, sum->bits_per_second);
      }
    }
  }
  const bool gbit = max_goodput >= 2e9;
  const double rate_unit = gbit ? 1e9 : 1e6;
  PlotPanel goodput{gbit ? "Goodput (Gbit/s)" : "Goodput (Mbit/s)", {}, false};
  PlotPanel cwnd{mb ? "Congestion window (MB)" : "Congestion window (kB)", {}, false};
  PlotPanel rtt{"Smoothed RTT (ms)", {}, false};
  int colour = 0;
  for (const auto direction : directions(config)) {
    const std::string name(direction_name(direction));
    PlotSeries g{name + ", as received", {}, false, colour};
    PlotSeries w{name + ", sender's cwnd", {}, false, colour};
    PlotSeries r{name + ", sender's srtt", {}, false, colour};
    for (const auto& interval : result.intervals) {
      const double mid = (to_seconds(interval.start) + to_seconds(interval.end)) / 2;
      if (const auto sum = sum_interval(interval.streams, direction, Role::receiver)) {
        g.points.emplace_back(mid, sum->bits_per_second / rate_unit);
      }
      if (const auto sum = sum_interval(interval.streams, direction, Role::sender)) {
        w.points.emplace_back(mid, static_cast<double>(sum->snd_cwnd_bytes) / (mb ? 1e6 : 1e3));
        if (sum->mean_rtt_us > 0) r.points.emplace_back(mid, sum->mean_rtt_us / 1000.0);
      }
    }
    goodput.series.push_back(std::move(g));
    cwnd.series.push_back(std::move(w));
    rtt.series.push_back(std::move(r));
    ++colour;
  }
  if (config.path_rate_bps && !result.intervals.empty()) {
    const double rate = static_cast<double>(*config.path_rate_bps) / rate_unit;
    goodput.series.push_back(
        {fmt::format("path rate {}", core::format_rate(static_cast<double>(*config.path_rate_bps))),
         {{0.0, rate}, {to_seconds(result.intervals.back().end), rate}},
         true,
         6});
  }
  figure.panels = {std::move(goodput), std::move(cwnd), std::move(rtt)};
  return figure;
}

PlotFigure sweep_figure(const std::vector<SweepProfile>& profiles, const std::string& title) {
  PlotFigure figure;
  figure.title = title;
  figure.x_label = "Round-trip time (ms)";
  PlotPanel panel{"Throughput (Mbit/s, log scale)", {}, true};
  int colour = 0;
  for (const auto& profile : profiles) {
    PlotSeries measured{profile.name + " measured", {}, false, colour};
    PlotSeries predicted{profile.name + " predicted", {}, true, colour};
    for (const auto& point : profile.points) {
      if (point.measured_bps && *point.measured_bps > 0) {
        measured.points.emplace_back(point.rtt_ms, *point.measured_bps / 1e6);
      }
      if (point.predicted_bps && *point.predicted_bps > 0) {
        predicted.points.emplace_back(point.rtt_ms, *point.predicted_bps / 1e6);
      }
    }
    panel.series.push_back(std::move(measured));
    panel.series.push_back(std::move(predicted));
    ++colour;
  }
  figure.panels.push_back(std::move(panel));
  return figure;
}

}  // namespace longhaul::measure
