#include <fmt/format.h>

#include <iostream>

#include "cli/commands.hh"
#include "lab/run_session.hh"
#include "lab/run_state.hh"

namespace longhaul::cli {

DownCommand::DownCommand(CLI::App& app) {
  command_ = app.add_subcommand("down", "Remove what crashed or killed runs left behind");
  command_->footer(
      "Removes the namespaces, links, processes and state (under /run/longhaul) of every run\n"
      "whose longhaul process is gone. Live runs are left alone unless --all is given.");
  command_->add_flag("--all", all_, "Also tear down runs whose longhaul process is still alive");
}

int DownCommand::execute() {
  lab::check_privileges();
  std::size_t removed = 0;
  if (all_) {
    for (const auto& state : lab::list_runs()) {
      lab::tear_down_run(state);
      std::cout << fmt::format("removed run {} (pid {})\n", state.id(), state.pid);
      ++removed;
    }
  } else {
    for (const auto& state : lab::sweep_stale_runs()) {
      std::cout << fmt::format("removed stale run {} (pid {} is gone)\n", state.id(), state.pid);
      ++removed;
    }
    for (const auto& state : lab::list_runs()) {
      std::cout << fmt::format("left live run {} (pid {}); use --all to remove it\n", state.id(),
                               state.pid);
    }
  }
  if (removed == 0) std::cout << "nothing to remove\n";
  return 0;
}

}  // namespace longhaul::cli
