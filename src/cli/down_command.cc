#include <fmt/format.h>

#include <iostream>

#include "cli/commands.hh"
#include "lab/engine_directory.hh"
#include "lab/lab_session.hh"
#include "lab/lab_state.hh"
#include "lab/run_session.hh"
#include "lab/run_state.hh"

namespace longhaul::cli {

DownCommand::DownCommand(CLI::App& app) {
  command_ = app.add_subcommand("down", "Take a lab down; remove what crashed runs and labs left");
  command_->footer(
      "With a lab name, takes that lab down. Without one, takes down the lab that is up (if\n"
      "exactly one is) and removes the namespaces, links, processes and state (under\n"
      "/run/longhaul) of every run or lab whose longhaul process is gone. Live runs are left\n"
      "alone unless --all is given; --all also takes down every lab. --stale removes only what\n"
      "dead runs and labs left and touches nothing live (safe on a machine others share).");
  auto* lab = command_->add_option("lab", lab_, "The lab to take down");
  auto* all = command_->add_flag("--all", all_, "Also tear down live runs, and every lab");
  command_
      ->add_flag("--stale", stale_,
                 "Only remove what dead runs and labs left; leave every live run and lab alone")
      ->excludes(lab)
      ->excludes(all);
}

int DownCommand::execute() {
  lab::check_privileges(
      "to remove labs and runs: their processes, network namespaces, links and the state under "
      "/run/longhaul (CAP_NET_ADMIN and CAP_SYS_ADMIN)");
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
  }
  for (const auto& broken : lab::sweep_unreadable_runs()) {
    std::cout << fmt::format("removed {} ({})\n", broken.path, broken.problem);
    ++removed;
  }
  for (const auto& name : lab::sweep_stale_bridges()) {
    std::cout << fmt::format("removed the control socket of bridge {} (the bridge was gone)\n",
                             name);
    ++removed;
  }
  bool named_lab_swept = false;
  for (const auto& state : lab::sweep_stale_labs()) {
    std::cout << fmt::format("removed lab {} (its engine, pid {}, was gone)\n", state.name,
                             state.pid);
    named_lab_swept |= state.name == lab_;
    ++removed;
  }
  for (const auto& broken : lab::sweep_unreadable_labs()) {
    std::cout << fmt::format("removed {} ({})\n", broken.path, broken.problem);
    ++removed;
  }
  std::vector<lab::LabState> labs;
  if (stale_) {
    // Nothing live is touched.
  } else if (named_lab_swept) {
    // The lab named was already dead and is removed: that is what was asked for.
  } else if (!lab_.empty()) {
    labs.push_back(lab::choose_lab(lab_));
  } else if (all_) {
    labs = lab::list_labs();
  } else if (const auto live = lab::list_labs(); live.size() == 1) {
    labs = live;
  } else if (live.size() > 1) {
    std::string names;
    for (const auto& state : live) names += (names.empty() ? "" : ", ") + state.name;
    throw UsageError(
        fmt::format("several labs are up ({}): name the one to take down, or use --all", names));
  }
  for (const auto& state : labs) {
    lab::lab_down(state);
    std::cout << fmt::format("took down lab {}\n", state.name);
    ++removed;
  }
  if (!all_) {
    for (const auto& state : lab::list_runs()) {
      std::cout << fmt::format("left live run {} (pid {}); use --all to remove it\n", state.id(),
                               state.pid);
    }
  }
  if (removed == 0) std::cout << "nothing to remove\n";
  return 0;
}

}  // namespace longhaul::cli
