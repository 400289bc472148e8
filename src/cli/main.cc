// longhaul command line: subcommands only; the logic lives in lab/ and below.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <random>
#include <sstream>

#include "cli/bench_command.hh"
#include "cli/capture_bridge_commands.hh"
#include "cli/commands.hh"
#include "cli/lab_commands.hh"
#include "cli/params_command.hh"
#include "cli/tune_command.hh"
#include "io/error.hh"
#include "lab/run_session.hh"

int main(int argc, char** argv) {
  using namespace longhaul;
  CLI::App app{
      "longhaul: a long-fat-network (WAN) emulator.\n"
      "Runs a command over an emulated link, or brings up a multi-site lab from a topology\n"
      "file, with per-direction delay, jitter, rate, queue, loss and more.\n"
      "Addresses come from 198.18.0.0/15 and 2001:2::/48 (benchmarking ranges).",
      "longhaul"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "longhaul 0.1.0");
  cli::RunCommand run(app);
  cli::UpCommand up(app);
  cli::StatusCommand status(app);
  cli::ExecCommand exec(app, false);
  cli::ExecCommand shell(app, true);
  cli::DownCommand down(app);
  cli::CaptureCommand capture(app);
  cli::BridgeCommand bridge(app);
  cli::BenchCommand bench(app);
  cli::TuneCommand tune(app);
  cli::ParamsCommand params(app);
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    std::string names;
    for (const auto* subcommand : app.get_subcommands({})) {
      known |= subcommand->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + subcommand->get_name();
    }
    if (!known) {
      std::cerr << "longhaul: unknown command '" << argv[1] << "'; commands are: " << names
                << " (see `longhaul --help`)\n";
      return lab::kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ExtrasError& error) {
    // CLI11 lists the separator too ("-- --foo"); name only what was not understood.
    std::string message = error.what();
    std::string unknown;
    const auto colon = message.find(": ");
    std::istringstream words(colon == std::string::npos ? message : message.substr(colon + 2));
    for (std::string word; words >> word;) {
      if (word != "--") unknown += (unknown.empty() ? "" : " ") + word;
    }
    std::cerr << "longhaul: unknown option or argument: " << unknown
              << "\n  (put the command to run after --; see `longhaul run --help`)\n";
    return lab::kExitUsage;
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : lab::kExitUsage;
  }
  try {
    if (run.selected()) return run.execute();
    if (up.selected()) return up.execute();
    if (status.selected()) return status.execute();
    if (exec.selected()) return exec.execute();
    if (shell.selected()) return shell.execute();
    if (down.selected()) return down.execute();
    if (capture.selected()) return capture.execute();
    if (bridge.selected()) return bridge.execute();
    if (bench.selected()) return bench.execute();
    if (tune.selected()) return tune.execute();
    if (params.selected()) return params.execute();
  } catch (const cli::UsageError& error) {
    std::cerr << "longhaul: " << error.what() << "\n";
    return lab::kExitUsage;
  } catch (const lab::EnvironmentError& error) {
    std::cerr << "longhaul: " << error.what() << "\n";
    return lab::kExitEnvironment;
  } catch (const io::SystemError& error) {
    if (error.code() == ENOENT && std::string_view(error.what()).starts_with("execvp")) {
      std::cerr << "longhaul: command not found: " << error.what() << "\n";
      return lab::kExitNotFound;
    }
    if (error.code() == EACCES && std::string_view(error.what()).starts_with("execvp")) {
      std::cerr << "longhaul: command not executable: " << error.what() << "\n";
      return lab::kExitNotExecutable;
    }
    std::cerr << "longhaul: " << error.what() << "\n";
    return lab::kExitSetup;
  } catch (const std::exception& error) {
    std::cerr << "longhaul: " << error.what() << "\n";
    return lab::kExitSetup;
  }
  return 0;
}
