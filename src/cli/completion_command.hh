#pragma once
// `longhaul completion bash|zsh`: shell completion scripts generated from the CLI11 definitions
// themselves (every subcommand, option, option that takes a value, choice lists and positional
// kinds), so they cannot drift from the parser. `longhaul completion names KIND` lists the labs,
// sites or lanes that are up, for the scripts to offer. Hidden from --help.
#include <CLI/CLI.hpp>
#include <string>

namespace longhaul::cli {

class CompletionCommand {
 public:
  explicit CompletionCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int execute();
  /// `completion names KIND`: it reads the labs that are up.
  bool lists_names() const { return names_->parsed(); }

 private:
  CLI::App* root_;
  CLI::App* command_;
  CLI::App* names_;
  std::string shell_;
  std::string kind_;
};

}  // namespace longhaul::cli
