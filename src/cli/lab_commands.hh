#pragma once
// Lab subcommands: up, status, exec, shell. Flags only; the work is in lab/lab_session.
#include <CLI/CLI.hpp>

#include <string>

#include <vector>
#include "cli/api_flags.hh"
#include "cli/engine_flags.hh"

namespace longhaul::cli {

class UpCommand {
 public:
  explicit UpCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int execute();

 private:
  CLI::App* command_;
  std::string file_;
  std::string name_;
  EngineFlags engine_;
  ApiFlags api_;
  bool check_only_ = false;
  bool quiet_ = false;
};

class StatusCommand {
 public:
  explicit StatusCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int execute();

 private:
  CLI::App* command_;
  std::string lab_;
  bool json_ = false;
};

/// `exec SITE -- COMMAND` and `shell SITE` (the same with the user's shell).
class ExecCommand {
 public:
  ExecCommand(CLI::App& app, bool shell);
  bool selected() const { return command_->parsed(); }
  int execute();

 private:
  CLI::App* command_;
  bool shell_;
  std::string lab_;
  std::string site_;
  std::vector<std::string> argv_;
};

}  // namespace longhaul::cli
