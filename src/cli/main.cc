// longhaul command line: subcommands only; the logic lives in lab/ and below.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <iostream>
#include <new>
#include <random>
#include <sstream>

#include "cli/api_commands.hh"
#include "cli/bench_command.hh"
#include "cli/capture_bridge_commands.hh"
#include "cli/commands.hh"
#include "cli/completion_command.hh"
#include "cli/lab_commands.hh"
#include "cli/params_command.hh"
#include "cli/tune_command.hh"
#include "core/printable.hh"
#include "io/error.hh"
#include "io/rootless.hh"
#include "lab/run_session.hh"

namespace {

/// Prints an error the way every command does: "longhaul: ..." with any bytes a file put in
/// it (a schedule line, a .dist token) escaped, never raw. Returns `exit_status`.
int report(const std::string& message, int exit_status) {
  std::cerr << "longhaul: " << longhaul::core::printable(message) << "\n";
  return exit_status;
}

/// `tune` reads the host without any namespace; only a target or a change needs the session.
bool needs_namespaces(const CLI::App& tune) {
  if (!tune.parsed()) return false;
  for (const char* option : {"--netns", "--site", "--apply", "--revert"}) {
    if (tune.get_option(option)->count() > 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace longhaul;
  CLI::App app{
      "longhaul: a long-fat-network (WAN) emulator.\n"
      "Runs a command over an emulated link, or brings up a multi-site lab from a topology\n"
      "file, with per-direction delay, jitter, rate, queue, loss and more.\n"
      "Addresses come from 198.18.0.0/15 and 2001:2::/48 (benchmarking ranges).",
      "longhaul"};
  app.require_subcommand(1);
  // Version, the revision it was built from, and what this build can do.
  app.set_version_flag("--version", "longhaul " LONGHAUL_VERSION " (git " LONGHAUL_GIT_REVISION
                                    ")\n"
                                    "features: port packet (AF_PACKET), port xdp (AF_XDP), capture "
                                    "(pcap), rootless labs, control API (/v1, /metrics), web "
                                    "dashboard, bench, tune");
  cli::RunCommand run(app);
  cli::UpCommand up(app);
  cli::StatusCommand status(app);
  cli::ExecCommand exec(app, false);
  cli::ExecCommand shell(app, true);
  cli::DownCommand down(app);
  cli::SetCommand set(app);
  cli::WatchCommand watch(app);
  cli::WebCommand web(app);
  cli::CaptureCommand capture(app);
  cli::BridgeCommand bridge(app);
  cli::BenchCommand bench(app);
  cli::TuneCommand tune(app);
  bool force_rootless = false;
  app.add_flag("--rootless", force_rootless,
               "Work in your own user namespace even as root (automatic when not root): labs "
               "under $XDG_RUNTIME_DIR/longhaul, see docs/rootless.md");
  cli::ParamsCommand params(app);
  cli::CompletionCommand completion(app);  // last: it walks every command above
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    std::string names;
    for (const auto* subcommand : app.get_subcommands({})) {
      known |= subcommand->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + subcommand->get_name();
    }
    if (!known) {
      std::cerr << "longhaul: unknown command '" << core::printable(argv[1], 200)
                << "'; commands are: " << names << " (see `longhaul --help`)\n";
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
    // argv[1] is a known subcommand here (checked above) unless it is an option of the root.
    const std::string command = argc > 1 && argv[1][0] != '-' ? argv[1] : "";
    std::cerr << "longhaul: unknown option or argument: " << core::printable(unknown, 400)
              << (command == "run" || command.empty()
                      ? "\n  (put the command to run after --; see `longhaul run --help`)\n"
                      : "\n  (see `longhaul " + command + " --help`)\n");
    return lab::kExitUsage;
  } catch (const CLI::RequiredError& error) {
    // CLI11 says "--write is required" without our prefix and with the long name only.
    std::string message = error.what();
    const std::string name = message.substr(0, message.find(' '));
    for (const CLI::App* command = &app; command != nullptr;) {
      const CLI::App* selected = nullptr;
      for (const CLI::App* sub : command->get_subcommands()) selected = sub;
      if (const CLI::Option* option = command->get_option_no_throw(name);
          option != nullptr && name.starts_with("-")) {
        message.replace(0, name.size(), option->get_name(false, true));
      }
      command = selected;
    }
    std::cerr << "longhaul: " << message << " (see `longhaul "
              << (argc > 1 ? std::string(argv[1]) + " " : std::string()) << "--help`)\n";
    return lab::kExitUsage;
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : lab::kExitUsage;
  }
  try {
    if (force_rootless || ::geteuid() != 0) {
      const auto* bench_app = app.get_subcommand("bench");
      const bool sweep = bench_app->get_subcommand("sweep")->parsed();
      if (run.selected()) {
        throw lab::EnvironmentError(
            "longhaul run needs root: its far side is this host's own network namespace, which "
            "a user namespace cannot join; run it with sudo, or without root bring up a lab "
            "(longhaul up FILE; docs/rootless.md)");
      }
      if (bridge.selected()) {
        throw lab::EnvironmentError(
            "longhaul bridge needs root: it takes over real network interfaces of this host; run "
            "it with sudo");
      }
      // Everything that reads or makes labs works in the user's own session (docs/rootless.md);
      // `bench client/server` and plain `tune` advice need no namespace at all.
      if (up.selected() || status.selected() || exec.selected() || shell.selected() ||
          down.selected() || set.selected() || watch.selected() || capture.selected() || sweep ||
          completion.lists_names() || needs_namespaces(*app.get_subcommand("tune"))) {
        try {
          io::enter_rootless_session();
        } catch (const std::exception& error) {
          // Disabled user namespaces, an unusable state directory: the machine, not the request.
          throw lab::EnvironmentError(error.what());
        }
      }
    }
    if (run.selected()) return run.execute();
    if (up.selected()) return up.execute();
    if (status.selected()) return status.execute();
    if (exec.selected()) return exec.execute();
    if (shell.selected()) return shell.execute();
    if (down.selected()) return down.execute();
    if (set.selected()) return set.execute();
    if (watch.selected()) return watch.execute();
    if (web.selected()) return web.execute();
    if (capture.selected()) return capture.execute();
    if (bridge.selected()) return bridge.execute();
    if (bench.selected()) return bench.execute();
    if (tune.selected()) return tune.execute();
    if (completion.selected()) return completion.execute();
    if (params.selected()) return params.execute();
  } catch (const cli::UsageError& error) {
    return report(error.what(), lab::kExitUsage);
  } catch (const lab::EnvironmentError& error) {
    return report(error.what(), lab::kExitEnvironment);
  } catch (const io::ExecError& error) {
    if (error.code() == ENOENT) {
      return report(std::string("command not found: ") + error.what(), lab::kExitNotFound);
    }
    if (error.code() == EACCES) {
      return report(std::string("command not executable: ") + error.what(),
                    lab::kExitNotExecutable);
    }
    return report(error.what(), lab::kExitSetup);
  } catch (const io::SystemError& error) {
    return report(error.what(), lab::kExitSetup);
  } catch (const std::bad_alloc&) {
    // Plans are checked against memory before anything is built; this is what slipped past.
    return report(
        "ran out of memory (the kernel refused an allocation); free some memory or ask for "
        "smaller buffers (a lower --rate, a shorter --delay or --queue)",
        lab::kExitSetup);
  } catch (const std::exception& error) {
    return report(error.what(), lab::kExitSetup);
  }
  return 0;
}
