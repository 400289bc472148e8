#include "cli/bench_command.hh"

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <random>

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "cli/commands.hh"
#include "core/topology.hh"
#include "lab/run_session.hh"
#include "lab/sweep.hh"
#include "measure/bulk/client.hh"
#include "measure/bulk/server.hh"
#include "measure/report/bench_json.hh"
#include "measure/report/link_fidelity.hh"
#include "measure/report/plot.hh"
#include "measure/signals.hh"
#include "measure/transactions/churn_client.hh"
#include "measure/transactions/rr_client.hh"
#include "measure/transactions/transaction_report.hh"

namespace longhaul::cli {

namespace {

constexpr const char* kVersion = "longhaul 0.1.0";

void text_option(CLI::App* app, const std::string& name, std::optional<std::string>& target,
                 const std::string& help, const char* type) {
  app->add_option_function<std::string>(
         name, [&target](const std::string& value) { target = value; }, help)
      ->type_name(type);
}

template <class T>
T parsed_or_usage(const core::Parsed<T>& parsed, const char* flag) {
  if (!parsed) throw UsageError(fmt::format("{}: {}", flag, parsed.error));
  return *parsed;
}

// Exit status of a finished client: 0, 1 for a failed test, 128+N when signal N stopped it.
/// HOST, refused when empty: "$LONGHAUL_REMOTE" typed on `longhaul run`'s command line is
/// expanded by the calling shell, where it is unset, before the link exists.
const std::string& nonempty_host(const std::string& host) {
  if (host.empty()) {
    throw UsageError(
        "HOST is empty. If you wrote \"$LONGHAUL_REMOTE\" after `longhaul run ... --`, your "
        "shell expanded it before longhaul started, where it is not set: write {remote} "
        "instead, which longhaul run replaces with the address");
  }
  return host;
}

int client_status(const measure::BenchResult& result, const measure::SignalWatch& signals) {
  if (signals.received() != 0) return 128 + signals.received();
  return result.error ? 1 : 0;
}

}  // namespace

BenchCommand::BenchCommand(CLI::App& app)
    : server_port_(measure::kDefaultPort),
      port_(measure::kDefaultPort),
      tx_port_(measure::kDefaultPort) {
  command_ =
      app.add_subcommand("bench", "Measure TCP throughput between two hosts (built-in tester)");
  command_->require_subcommand(1);
  command_->footer(
      "Run `longhaul bench server` on one host and `longhaul bench client HOST` on the other\n"
      "(or inside `longhaul run`, with HOST {remote}, which run replaces). See docs/bench.md.");

  server_ = command_->add_subcommand("server", "Wait for bench clients and run their tests");
  server_
      ->add_option("-p,--port", server_port_,
                   fmt::format("TCP port for control and data (default {}; 0: any free port, "
                               "printed at start)",
                               measure::kDefaultPort))
      ->type_name("N");
  text_option(server_, "--bind", bind_, "Listen on this address only (default: all, IPv6 and IPv4)",
              "ADDRESS");
  server_->add_flag("--once", once_, "Exit after one test (status 0 if it succeeded, else 1)");
  server_->add_flag("--json", server_json_, "Write each test's result as one JSON document");
  server_->add_flag("--json-stream", server_json_stream_, "Write one JSON event per line");

  client_ = command_->add_subcommand("client", "Run a test against a bench server");
  client_->footer(
      "Units: seconds as a bare number or a duration (10, 1.5, 500ms); sizes in B, kB, MB,\n"
      "KiB, MiB (256KiB); rates in bit, kbit, mbit, gbit (100mbit).\n"
      "Exit status: 0 success, 1 the test failed, 2 bad usage, 128+N stopped by signal N.\n"
      "Example: longhaul run --rtt 80ms --rate 1gbit -- longhaul bench client {remote} "
      "-t 30 -O 5 --path-rate 1gbit");
  auto* c = client_;
  c->add_option("host", host_, "The server's name or address")->required();
  c->add_option("-p,--port", port_, fmt::format("Server port (default {})", measure::kDefaultPort))
      ->type_name("N");
  text_option(c, "-t,--time", time_,
              "Seconds each sender sends, after the omitted period (default 10, at most 3600)",
              "SECONDS");
  text_option(c, "-n,--bytes", bytes_, "Send this many bytes per direction instead of for a time",
              "SIZE");
  c->add_option("-P,--parallel", streams_, "Parallel streams per direction (1 to 128)")
      ->type_name("N");
  c->add_flag("-R,--reverse", reverse_, "The server sends (download)");
  c->add_flag("--bidir", bidir_, "Both send at once (streams in each direction)");
  text_option(c, "-C,--congestion", congestion_,
              "Congestion control on both ends (e.g. cubic, bbr)", "NAME");
  text_option(c, "-w,--window", window_,
              "SO_SNDBUF and SO_RCVBUF on both ends (disables autotuning; the kernel may clamp it)",
              "SIZE");
  text_option(c, "--sndbuf", sndbuf_, "SO_SNDBUF on both ends (overrides --window)", "SIZE");
  text_option(c, "--rcvbuf", rcvbuf_, "SO_RCVBUF on both ends (overrides --window)", "SIZE");
  text_option(c, "--pacing-rate", pacing_rate_,
              "Pace each sending stream at this rate (SO_MAX_PACING_RATE)", "RATE");
  text_option(c, "-i,--interval", interval_, "Seconds between samples (default 1; 0.1 to 60)",
              "SECONDS");
  text_option(c, "-O,--omit", omit_,
              "Leave the first SECONDS out of the totals (slow start); they still count for the "
              "time to fill",
              "SECONDS");
  text_option(c, "--path-rate", path_rate_,
              "The path's rate, to report the time to fill the pipe (first interval at 90% of it)",
              "RATE");
  c->add_flag("--json", json_, "Write one JSON document (schema longhaul.bench/1) at the end");
  c->add_flag("--json-stream", json_stream_, "Write one JSON event per line as the test runs");
  c->add_flag("--per-stream", per_stream_, "With -P > 1, print every stream, not only the sums");
  c->add_flag("--no-progress", no_progress_, "No progress line (it is shown only on a terminal)");
  c->add_option_function<std::uint64_t>(
       "--seed", [this](std::uint64_t seed) { seed_ = seed; },
       "Seed of the payload; printed and recorded for replay")
      ->type_name("N");
  text_option(c, "--connect-timeout", connect_timeout_,
              "Seconds to wait for each connection (default 10)", "SECONDS");
  text_option(c, "--plot", plot_,
              "Also draw throughput, cwnd and RTT over time into FILE (.svg or .png; needs "
              "gnuplot)",
              "FILE");

  rr_ = command_->add_subcommand(
      "rr", "Request/response latency over one connection, alone and optionally under load");
  rr_->footer(
      "Each transaction is a request of --request-size bytes answered by --response-size bytes,\n"
      "back to back on one TCP connection (TCP_NODELAY), timed from the request's first byte\n"
      "written to the response's last byte read. --under-load repeats the timing while a bulk\n"
      "test (-P streams, -R for download) fills the same path: latency under load.\n"
      "Exit status: 0 success, 1 the test failed, 2 bad usage, 128+N stopped by signal N.\n"
      "Example: longhaul run --rtt 20ms --rate 50mbit -- longhaul bench rr {remote} "
      "--under-load");
  add_transaction_flags(rr_);
  rr_->add_flag("--under-load", under_load_,
                "Then time the same transactions while a bulk flow loads the path");
  rr_->add_option("-P,--parallel", load_streams_, "Streams of the load (1 to 128; default 1)")
      ->type_name("N");
  rr_->add_flag("-R,--reverse", load_reverse_, "The load flows from the server (download)");
  text_option(rr_, "-C,--congestion", load_congestion_, "Congestion control of the load", "NAME");
  text_option(rr_, "--load-ramp", load_ramp_,
              "Seconds the load runs before timing starts, so its queue has built (default 2)",
              "SECONDS");

  churn_ = command_->add_subcommand(
      "churn", "Many short connections at a target rate: rate, latency, TIME_WAIT, ports");
  churn_->footer(
      "Each connection: connect, one request, the response, close (the client closes first,\n"
      "so its socket stays in TIME_WAIT for 60 s). --reuse sends the same requests over a pool\n"
      "of kept-alive connections instead. Reports connections/s, connect latency, TIME_WAIT\n"
      "sockets and ephemeral ports in use (from /proc/net/tcp{,6} of the client's namespace),\n"
      "and the first EADDRNOTAVAIL explained with this namespace's ip_local_port_range and\n"
      "tcp_tw_reuse.\n"
      "Exit status: 0 the test ran (failed connections are results), 1 it could not run,\n"
      "2 bad usage, 128+N stopped by signal N.\n"
      "Example: longhaul run --rtt 20ms -- longhaul bench churn {remote} "
      "--rate-connections 500 -t 10");
  add_transaction_flags(churn_);
  text_option(churn_, "--rate-connections", rate_connections_,
              "Connections (or transactions with --reuse) started per second (default 100)", "N/s");
  churn_->add_flag("--reuse", reuse_,
                   "Keep connections alive and reuse them (a pool of up to --concurrency)");
  churn_
      ->add_option("--concurrency", concurrency_,
                   "At most this many connections open at once (default 100, at most 4096)")
      ->type_name("N");
  text_option(churn_, "-i,--interval", tx_interval_,
              "Seconds between lines and socket counts (default 1)", "SECONDS");

  sweep_ = command_->add_subcommand(
      "sweep", "Throughput against RTT with host defaults and tuned, beside the model (root)");
  sweep_->footer(
      "For each RTT a two-site lab named sw-PID or --name (sites client and server, one lane with "
      "that\n"
      "RTT, --rate and --loss) comes up; each profile's test runs in it (an upload, server and\n"
      "client inside the sites) and the lab goes down again, also on errors and Ctrl-C.\n"
      "Profiles: default = the sites as created (the host's per-namespace settings, or --window);\n"
      "tuned = what `longhaul tune --rate R --rtt X` recommends, applied in both sites (host-\n"
      "global settings are not applied: they cap only buffers applications set, and the tests\n"
      "leave buffers to autotuning). Each cell is printed beside the model's prediction,\n"
      "min(link goodput, window / RTT, Mathis with --loss), with an explanation when they differ\n"
      "by more than 10 %. Run time: cells x (-O + -t) plus about 1 s per RTT for the lab: the\n"
      "default 10 RTTs x 2 profiles x 13 s take about 4.5 minutes.\n"
      "Exit status: 0 every cell measured, 1 a cell or the sweep failed, 2 bad usage, 3 not root,\n"
      "128+N stopped by signal N.\n"
      "Example: sudo longhaul bench sweep --rate 1gbit --rtt 0,2,4,8,16,22,32,44,64,128ms "
      "--plot sweep.svg");
  sweep_->add_option("--rate", sweep_rate_, "The lane's rate (e.g. 1gbit)")
      ->required()
      ->type_name("RATE");
  sweep_
      ->add_option("--rtt", sweep_rtts_,
                   "Round-trip times, comma-separated; bare numbers take the last one's unit "
                   "(0,2,4,8ms)")
      ->required()
      ->type_name("LIST");
  sweep_
      ->add_option("--profile", sweep_profiles_,
                   "Profiles to measure: default, tuned or both (default: default,tuned)")
      ->type_name("LIST");
  text_option(sweep_, "-t,--time", sweep_time_,
              "Seconds counted per cell, after the omitted period (default 10)", "SECONDS");
  text_option(sweep_, "-O,--omit", sweep_omit_,
              "Seconds of slow start left out of each cell's figure (default 3)", "SECONDS");
  sweep_->add_option("-P,--parallel", sweep_streams_, "Parallel streams (1 to 128; default 1)")
      ->type_name("N");
  text_option(sweep_, "--loss", sweep_loss_, "Random loss on the lane (e.g. 0.01%)", "PERCENT");
  text_option(sweep_, "-w,--window", sweep_window_,
              "Start both sites with tcp_rmem/tcp_wmem maximum SIZE (a host with small buffers); "
              "tuned raises it again",
              "SIZE");
  text_option(sweep_, "--json", sweep_json_,
              "Also write the results to FILE (schema longhaul.sweep/1; - for stdout instead of "
              "the table)",
              "FILE");
  text_option(sweep_, "--plot", sweep_plot_,
              "Draw throughput against RTT, measured and predicted, into FILE (.svg or .png)",
              "FILE");
  text_option(sweep_, "--name", sweep_name_,
              "Name of the labs it brings up (default sw-PID, unique to this sweep, so two "
              "sweeps on one machine never collide)",
              "NAME");
  sweep_->add_flag("--no-progress", sweep_no_progress_,
                   "No progress line (it is shown only on a terminal)");
}

void BenchCommand::add_transaction_flags(CLI::App* app) {
  app->add_option("host", tx_host_, "The server's name or address")->required();
  app->add_option("-p,--port", tx_port_,
                  fmt::format("Server port (default {})", measure::kDefaultPort))
      ->type_name("N");
  text_option(app, "-t,--time", tx_time_,
              "Seconds during which transactions are started (default 10, at most 3600)",
              "SECONDS");
  app->add_option_function<std::uint64_t>(
         "-n,--count", [this](std::uint64_t n) { tx_count_ = n; },
         "At most this many transactions (connections for churn); -t still bounds the test")
      ->type_name("N");
  text_option(app, "--request-size", request_size_, "Bytes per request (default 64 B)", "SIZE");
  text_option(app, "--response-size", response_size_, "Bytes per response (default 64 B)", "SIZE");
  auto* json =
      app->add_flag("--json", tx_json_, "Write one JSON document (schema longhaul.bench/1)");
  app->add_flag("--json-stream", tx_json_stream_,
                "Write one JSON event per line (start, interval, error, end)")
      ->excludes(json);
  app->add_flag("--no-progress", tx_no_progress_,
                "No progress line (it is shown only on a terminal)");
  text_option(app, "--connect-timeout", tx_connect_timeout_,
              "Seconds to wait for each connection (default 10)", "SECONDS");
}

measure::TransactionConfig BenchCommand::transaction_config(measure::TransactionKind kind) const {
  measure::TransactionConfig config;
  config.kind = kind;
  if (tx_time_) config.duration = parsed_or_usage(measure::parse_seconds(*tx_time_), "-t/--time");
  config.count = tx_count_;
  const auto size = [](const std::optional<std::string>& text, const char* flag,
                       std::uint32_t fallback) {
    if (!text) return fallback;
    const auto bytes = parsed_or_usage(core::parse_bytes(*text), flag);
    if (bytes > measure::kMaxMessageSize) {
      throw UsageError(fmt::format("{}: {}; use at most 1 MiB", flag, *text));
    }
    return static_cast<std::uint32_t>(bytes);
  };
  config.request_bytes = size(request_size_, "--request-size", config.request_bytes);
  config.response_bytes = size(response_size_, "--response-size", config.response_bytes);
  if (rate_connections_) {
    std::string text = *rate_connections_;
    if (text.ends_with("/s")) text.resize(text.size() - 2);
    try {
      std::size_t used = 0;
      config.rate_per_s = std::stod(text, &used);
      if (used != text.size()) throw std::invalid_argument(text);
    } catch (const std::exception&) {
      throw UsageError(fmt::format(
          "--rate-connections: '{}' is not a rate; give connections per second (500 or 500/s)",
          *rate_connections_));
    }
  }
  config.reuse = reuse_;
  config.concurrency = concurrency_;
  if (tx_interval_) {
    config.interval = parsed_or_usage(measure::parse_seconds(*tx_interval_), "-i/--interval");
  }
  if (auto error = measure::validate(config); !error.empty()) throw UsageError(error);
  return config;
}

namespace {

/// Warns on stderr when the test ran through a `longhaul run` link whose fidelity verdict over
/// the test's span is degraded (the run names its live fidelity file in the environment:
/// measure/link_fidelity.hh). Outside a run it does nothing.
class LinkFidelityWatch {
 public:
  LinkFidelityWatch() : at_start_(measure::read_link_fidelity()) {}
  void warn(const char* who) const {
    if (!at_start_) return;
    const auto at_end = measure::read_link_fidelity();
    if (!at_end) return;
    for (const auto& warning : measure::link_fidelity_warnings(*at_start_, *at_end)) {
      std::cerr << "longhaul: " << who << ": warning: " << warning << "\n";
    }
  }

 private:
  std::optional<std::map<std::string, core::FidelityEvidence>> at_start_;
};

}  // namespace

int BenchCommand::execute() {
  if (server_->parsed()) return execute_server();
  if (rr_->parsed()) return execute_rr();
  if (churn_->parsed()) return execute_churn();
  if (sweep_->parsed()) return execute_sweep();
  return execute_client();
}

int BenchCommand::execute_server() {
  if (server_json_ && server_json_stream_)
    throw UsageError("--json and --json-stream exclude each other");
  measure::SignalWatch signals;  // before any thread starts
  measure::ServerOptions options;
  options.bind_address = bind_;
  options.port = server_port_;
  options.once = once_;
  options.version = kVersion;
  options.interrupt_fd = signals.fd();
  measure::BenchServer server(options);
  std::cerr << fmt::format("longhaul bench server: listening on port {}{}\n", server.port(),
                           once_ ? " (one test)" : "");
  std::cerr.flush();
  const auto format = server_json_          ? measure::OutputFormat::json
                      : server_json_stream_ ? measure::OutputFormat::json_stream
                                            : measure::OutputFormat::human;
  measure::ConsoleReporter reporter(std::cout, format, measure::ConsoleReporter::Mode::server, true,
                                    nullptr);
  const int status = server.serve(reporter);
  if (signals.take() != 0 || signals.received() != 0) return 0;  // stopping a server is normal
  return status;
}

int BenchCommand::execute_client() {
  if (json_ && json_stream_) throw UsageError("--json and --json-stream exclude each other");
  if (time_ && bytes_) throw UsageError("-t/--time and -n/--bytes exclude each other");
  measure::BenchConfig config;
  config.streams = streams_;
  if (time_) config.duration = parsed_or_usage(measure::parse_seconds(*time_), "-t/--time");
  if (bytes_) config.bytes = parsed_or_usage(core::parse_bytes(*bytes_), "-n/--bytes");
  config.reverse = reverse_;
  config.bidir = bidir_;
  config.congestion = congestion_;
  if (window_) {
    const auto size = parsed_or_usage(core::parse_bytes(*window_), "-w/--window");
    config.sndbuf_bytes = size;
    config.rcvbuf_bytes = size;
  }
  if (sndbuf_) config.sndbuf_bytes = parsed_or_usage(core::parse_bytes(*sndbuf_), "--sndbuf");
  if (rcvbuf_) config.rcvbuf_bytes = parsed_or_usage(core::parse_bytes(*rcvbuf_), "--rcvbuf");
  if (pacing_rate_) {
    config.pacing_rate_bps = parsed_or_usage(core::parse_rate_bps(*pacing_rate_), "--pacing-rate");
  }
  if (interval_)
    config.interval = parsed_or_usage(measure::parse_seconds(*interval_), "-i/--interval");
  if (omit_) config.omit = parsed_or_usage(measure::parse_seconds(*omit_), "-O/--omit");
  if (path_rate_)
    config.path_rate_bps = parsed_or_usage(core::parse_rate_bps(*path_rate_), "--path-rate");
  if (seed_) {
    config.seed = *seed_;
  } else {
    std::random_device entropy;
    config.seed = (std::uint64_t{entropy()} << 32) | entropy();
  }
  if (const auto error = measure::validate(config); !error.empty()) throw UsageError(error);
  if (plot_) {
    // Before the test, not after it: a wrong name must not cost a whole run.
    if (const auto format = measure::plot_format_for(*plot_); !format) {
      throw UsageError("--plot: " + format.error);
    }
  }

  measure::ClientOptions options;
  options.host = nonempty_host(host_);
  options.port = port_;
  options.config = config;
  options.version = kVersion;
  if (connect_timeout_) {
    options.connect_timeout =
        parsed_or_usage(measure::parse_seconds(*connect_timeout_), "--connect-timeout");
  }
  measure::SignalWatch signals;  // before any thread starts
  options.interrupt_fd = signals.fd();
  // A progress line for long tests, on stderr, only when it is a terminal.
  const bool long_test = config.bytes || config.omit + config.duration >= std::chrono::seconds(5);
  measure::TerminalProgress progress(stderr, !no_progress_ && long_test);
  const auto format = json_          ? measure::OutputFormat::json
                      : json_stream_ ? measure::OutputFormat::json_stream
                                     : measure::OutputFormat::human;
  measure::ConsoleReporter reporter(std::cout, format, measure::ConsoleReporter::Mode::client,
                                    per_stream_, &progress);
  const LinkFidelityWatch fidelity;
  const auto result = measure::run_client(options, reporter);
  progress.clear();
  signals.take();
  fidelity.warn("bench");
  if (plot_ && !result.intervals.empty()) {
    try {
      measure::render_plot(measure::throughput_figure(result), *plot_);
    } catch (const std::exception& error) {
      std::cerr << "longhaul: bench: " << error.what() << "\n";
      if (!result.error) return 1;
    }
  }
  if (result.error && format == measure::OutputFormat::human) {
    std::cerr << "longhaul: bench: " << *result.error << "\n";
  }
  return client_status(result, signals);
}

int BenchCommand::execute_rr() {
  measure::RrOptions options;
  options.host = nonempty_host(tx_host_);
  options.port = tx_port_;
  options.config = transaction_config(measure::TransactionKind::rr);
  options.version = kVersion;
  if (tx_connect_timeout_) {
    options.connect_timeout =
        parsed_or_usage(measure::parse_seconds(*tx_connect_timeout_), "--connect-timeout");
  }
  if (load_ramp_) {
    options.load_ramp = parsed_or_usage(measure::parse_seconds(*load_ramp_), "--load-ramp");
  }
  if (under_load_) {
    measure::BenchConfig load;
    load.streams = load_streams_;
    load.reverse = load_reverse_;
    load.congestion = load_congestion_;
    std::random_device entropy;
    load.seed = (std::uint64_t{entropy()} << 32) | entropy();
    options.load = load;
    if (const auto error = measure::validate(measure::load_config_for(options)); !error.empty()) {
      throw UsageError("--under-load: " + error);
    }
  } else if (load_streams_ != 1 || load_reverse_ || load_congestion_ || load_ramp_) {
    throw UsageError("-P, -R, -C and --load-ramp describe the load: add --under-load");
  }
  measure::SignalWatch signals;  // before any thread starts
  options.interrupt_fd = signals.fd();
  const auto total = options.config.duration * (under_load_ ? 2 : 1) + options.load_ramp;
  measure::TerminalProgress progress(stderr, !tx_no_progress_ && total >= std::chrono::seconds(5));
  const LinkFidelityWatch fidelity;
  const auto result = measure::run_rr(
      options, [&](const measure::ProgressState& state) { progress.update(state); });
  progress.clear();
  signals.take();
  fidelity.warn("bench rr");
  if (tx_json_) {
    std::cout << measure::rr_document(result).dump(2) << "\n";
  } else if (tx_json_stream_) {
    // rr's phases are summaries: every event is known only at the end.
    for (const auto& event : measure::document_events(measure::rr_document(result))) {
      std::cout << event.dump() << "\n";
    }
  } else {
    std::cout << measure::rr_human(result);
    if (result.error) std::cerr << "longhaul: bench rr: " << *result.error << "\n";
  }
  std::cout.flush();
  if (signals.received() != 0) return 128 + signals.received();
  return result.error ? 1 : 0;
}

int BenchCommand::execute_churn() {
  measure::ChurnOptions options;
  options.host = nonempty_host(tx_host_);
  options.port = tx_port_;
  options.config = transaction_config(measure::TransactionKind::churn);
  options.version = kVersion;
  if (tx_connect_timeout_) {
    options.connect_timeout =
        parsed_or_usage(measure::parse_seconds(*tx_connect_timeout_), "--connect-timeout");
  }
  measure::SignalWatch signals;  // before any thread starts
  options.interrupt_fd = signals.fd();
  measure::TerminalProgress progress(
      stderr, !tx_no_progress_ && options.config.duration >= std::chrono::seconds(5));
  bool header_done = false;
  measure::ChurnResult header_source;
  header_source.start.host = options.host;
  header_source.start.port = options.port;
  header_source.config = options.config;
  header_source.settings = measure::read_port_settings();
  measure::ChurnCallbacks callbacks;
  const auto write = [&](const std::string& text) {
    progress.clear();
    std::cout << text;
    std::cout.flush();
  };
  if (tx_json_stream_) {
    // The start event before the first interval, each interval as it closes.
    write(measure::document_events(measure::churn_document(header_source)).front().dump() + "\n");
    callbacks.on_interval = [&](const measure::ChurnInterval& interval) {
      write(measure::stream_event("interval", measure::churn_interval_json(interval)).dump() +
            "\n");
    };
  } else if (!tx_json_) {
    callbacks.on_interval = [&](const measure::ChurnInterval& interval) {
      if (!header_done) write(measure::churn_human_header(header_source));
      header_done = true;
      write(measure::churn_human_interval(interval));
    };
  }
  callbacks.on_progress = [&](const measure::ProgressState& state) { progress.update(state); };
  const LinkFidelityWatch fidelity;
  const auto result = measure::run_churn(options, callbacks);
  progress.clear();
  signals.take();
  fidelity.warn("bench churn");
  if (tx_json_) {
    std::cout << measure::churn_document(result).dump(2) << "\n";
  } else if (tx_json_stream_) {
    for (const auto& event : measure::document_events(measure::churn_document(result))) {
      const std::string name = event.at("event").get<std::string>();
      if (name == "error" || name == "end") write(event.dump() + "\n");
    }
  } else {
    if (!header_done && !result.error) write(measure::churn_human_header(result));
    if (header_done || !result.error) write(measure::churn_human_summary(result));
    if (result.error) std::cerr << "longhaul: bench churn: " << *result.error << "\n";
  }
  std::cout.flush();
  if (signals.received() != 0) return 128 + signals.received();
  return result.error ? 1 : 0;
}

int BenchCommand::execute_sweep() {
  lab::SweepRequest request;
  auto& s = request.settings;
  s.rate_bps = parsed_or_usage(core::parse_rate_bps(sweep_rate_), "--rate");
  s.rtts = parsed_or_usage(lab::parse_rtt_list(sweep_rtts_), "--rtt");
  std::istringstream profiles(sweep_profiles_);
  for (std::string profile; std::getline(profiles, profile, ',');) s.profiles.push_back(profile);
  s.duration = sweep_time_ ? parsed_or_usage(measure::parse_seconds(*sweep_time_), "-t/--time")
                           : std::chrono::seconds(10);
  s.omit = sweep_omit_ ? parsed_or_usage(measure::parse_seconds(*sweep_omit_), "-O/--omit")
                       : std::chrono::seconds(3);
  s.streams = sweep_streams_;
  if (sweep_loss_) {
    s.loss = parsed_or_usage(core::parse_probability(*sweep_loss_), "--loss");
    if (*s.loss <= 0 || *s.loss >= 1) throw UsageError("--loss: must be above 0% and below 100%");
  }
  if (sweep_window_)
    s.window_bytes = parsed_or_usage(core::parse_bytes(*sweep_window_), "-w/--window");
  request.lab_name = sweep_name_.value_or(fmt::format("sw-{}", ::getpid()));
  if (!core::valid_topology_name(request.lab_name, core::kMaxLabNameLength)) {
    throw UsageError(fmt::format(
        "--name {}: use lowercase letters, digits and '-', starting with a letter, at most {} "
        "characters",
        request.lab_name, core::kMaxLabNameLength));
  }
  if (const auto error = lab::validate(request); !error.empty()) throw UsageError(error);
  if (sweep_plot_) {
    if (const auto format = measure::plot_format_for(*sweep_plot_); !format) {
      throw UsageError("--plot: " + format.error);
    }
  }
  if (::geteuid() != 0) {
    throw lab::EnvironmentError(
        "longhaul bench sweep needs root to bring up its labs and tune their sites; run it with "
        "sudo");
  }
  request.version = kVersion;
  const bool json_to_stdout = sweep_json_ && *sweep_json_ == "-";
  measure::SignalWatch signals;  // before any thread starts (the labs' engines, the tests)
  request.interrupt_fd = signals.fd();
  measure::TerminalProgress progress(stderr, !sweep_no_progress_);
  request.on_progress = [&](const measure::ProgressState& state) { progress.update(state); };
  auto result = lab::run_sweep(request);
  progress.clear();
  signals.take();
  if (json_to_stdout) {
    std::cout << measure::sweep_json(result).dump(2) << "\n";
  } else {
    std::cout << measure::sweep_table(result);
  }
  std::cout.flush();
  int status = 0;
  if (sweep_json_ && !json_to_stdout) {
    std::ofstream out(*sweep_json_);
    out << measure::sweep_json(result).dump(2) << "\n";
    if (!out) {
      std::cerr << "longhaul: bench sweep: cannot write " << *sweep_json_ << "\n";
      status = 1;
    }
  }
  if (sweep_plot_ && !result.cells.empty()) {
    try {
      measure::render_plot(
          measure::sweep_figure(measure::sweep_plot_profiles(result),
                                fmt::format("TCP throughput against RTT at {}, {} stream{}",
                                            core::format_rate(static_cast<double>(s.rate_bps)),
                                            s.streams, s.streams == 1 ? "" : "s")),
          *sweep_plot_);
    } catch (const std::exception& error) {
      std::cerr << "longhaul: bench sweep: " << error.what() << "\n";
      status = 1;
    }
  }
  if (result.error) {
    std::cerr << "longhaul: bench sweep: " << *result.error << "\n";
    status = 1;
  }
  for (const auto& cell : result.cells) {
    if (cell.error) status = 1;
  }
  if (signals.received() != 0) return 128 + signals.received();
  return status;
}

}  // namespace longhaul::cli
