#pragma once
// Commands that talk to a running lab, run or bridge through its control API (docs/api.md): `set`
// changes a lane live, `watch` shows the lanes' counters as they move, `web` serves the dashboard
// for an engine started without --web.
#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "cli/api_flags.hh"
#include "cli/set_request.hh"

namespace longhaul::cli {

class SetCommand {
 public:
  explicit SetCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int execute();

 private:
  CLI::App* command_;
  std::string lab_;  ///< the lab, or the lane when only one name is given
  std::string lane_;
  std::vector<GivenFlag> flags_;
  bool up_ = false;
  bool down_ = false;
  std::optional<std::string> at_;
  std::optional<std::string> outage_;
  bool json_ = false;
};

class WatchCommand {
 public:
  explicit WatchCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int execute();

 private:
  CLI::App* command_;
  std::string lab_;
  std::string interval_ = "1s";
  std::optional<std::uint64_t> count_;
};

class WebCommand {
 public:
  explicit WebCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int execute();

 private:
  CLI::App* command_;
  std::string lab_;
  std::string listen_ = "127.0.0.1:0";
  std::optional<std::string> token_file_;
};

}  // namespace longhaul::cli
