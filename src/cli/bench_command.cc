#include "cli/bench_command.hh"

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <random>

#include "cli/commands.hh"
#include "measure/client.hh"
#include "measure/server.hh"
#include "measure/signals.hh"

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
int client_status(const measure::BenchResult& result, const measure::SignalWatch& signals) {
  if (signals.received() != 0) return 128 + signals.received();
  return result.error ? 1 : 0;
}

}  // namespace

BenchCommand::BenchCommand(CLI::App& app)
    : server_port_(measure::kDefaultPort), port_(measure::kDefaultPort) {
  command_ =
      app.add_subcommand("bench", "Measure TCP throughput between two hosts (built-in tester)");
  command_->require_subcommand(1);
  command_->footer(
      "Run `longhaul bench server` on one host and `longhaul bench client HOST` on the other\n"
      "(or inside `longhaul run`, with HOST \"$LONGHAUL_REMOTE\"). See docs/bench.md.");

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
      "Example: longhaul run --rtt 80ms --rate 1gbit -- longhaul bench client \"$LONGHAUL_REMOTE\" "
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
}

int BenchCommand::execute() {
  if (server_->parsed()) return execute_server();
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

  measure::ClientOptions options;
  options.host = host_;
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
  const auto result = measure::run_client(options, reporter);
  progress.clear();
  signals.take();
  if (result.error && format == measure::OutputFormat::human) {
    std::cerr << "longhaul: bench: " << *result.error << "\n";
  }
  return client_status(result, signals);
}

}  // namespace longhaul::cli
