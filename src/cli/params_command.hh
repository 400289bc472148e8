#pragma once
// `longhaul params`: the link parameter schema (link/schema.hh) for people and programs.
#include <CLI/CLI.hpp>

#include <string>

namespace longhaul::cli {

class ParamsCommand {
 public:
  explicit ParamsCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int execute();

 private:
  CLI::App* command_;
  bool json_ = false;
  std::string format_ = "table";
};

}  // namespace longhaul::cli
