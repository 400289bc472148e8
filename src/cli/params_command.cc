#include "cli/params_command.hh"

#include <iostream>

#include "link/schema_docs.hh"

namespace longhaul::cli {

ParamsCommand::ParamsCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "params", "List every link parameter: flag, topology key, unit, default, live or not");
  command_->footer(
      "Every link parameter of `run`, `bridge` and topology files ([defaults], [[lane]]) comes\n"
      "from one table; this prints it. A parameter's key is its topology key, its API key and\n"
      "its flag without \"--\"; per-direction parameters also take KEY-up and KEY-down. Live\n"
      "parameters can change while the link runs (--at, --schedule).\n"
      "Formats: table (default), json (schema longhaul.params/1), markdown-run and\n"
      "markdown-topology (the tables of docs/run.md and docs/topology.md), man (roff).\n"
      "Exit status: 0, or 2 for an unknown format.\n"
      "Example: longhaul params --json | jq '.params[] | select(.live) | .key'");
  command_->add_flag("--json", json_, "Same as --format json");
  command_->add_option("--format", format_, "table, json, markdown-run, markdown-topology or man")
      ->check(CLI::IsMember({"table", "json", "markdown-run", "markdown-topology", "man"}));
}

int ParamsCommand::execute() {
  if (json_) format_ = "json";
  if (format_ == "json") {
    std::cout << link::params_json().dump(2) << "\n";
  } else if (format_ == "markdown-run") {
    std::cout << link::run_flags_markdown();
  } else if (format_ == "markdown-topology") {
    std::cout << link::topology_keys_markdown();
  } else if (format_ == "man") {
    std::cout << link::man_link_flags();
  } else {
    std::cout << link::params_text();
  }
  return 0;
}

}  // namespace longhaul::cli
