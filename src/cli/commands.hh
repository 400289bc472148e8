#pragma once
// One class per subcommand: declares its flags on construction, runs on execute().
#include <CLI/CLI.hpp>
#include <optional>
#include <stdexcept>

#include "cli/api_flags.hh"
#include "cli/engine_flags.hh"
#include "link/link_options.hh"

namespace longhaul::cli {

/// A request that parsed but makes no sense (exit code 2).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RunCommand {
 public:
  explicit RunCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int execute();

 private:
  CLI::App* command_;
  link::LinkFlags flags_;
  std::vector<std::string> argv_;
  bool stats_ = false;
  bool quiet_ = false;
  bool check_only_ = false;
  std::optional<std::string> json_;
  EngineFlags engine_;
  ApiFlags api_;
  bool strict_ = false;
};

class DownCommand {
 public:
  explicit DownCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int execute();

 private:
  CLI::App* command_;
  bool all_ = false;
  bool stale_ = false;
  std::string lab_;
};

}  // namespace longhaul::cli
