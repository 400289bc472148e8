#pragma once
// `longhaul capture` and `longhaul bridge`: flags only; the work is in lab/capture_session and
// lab/bridge_session.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "link/link_options.hh"

#include "cli/api_flags.hh"
#include "cli/engine_flags.hh"
#include "lab/engine_directory.hh"

namespace longhaul::cli {

class CaptureCommand {
 public:
  explicit CaptureCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int execute();

 private:
  CLI::App* command_;
  std::string lane_;
  std::string lab_;
  std::string direction_ = "both";
  bool before_ = false;
  std::string path_;
  std::optional<std::uint64_t> count_;
  std::optional<std::string> duration_;
  bool quiet_ = false;
};

class BridgeCommand {
 public:
  explicit BridgeCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int execute();

 private:
  CLI::App* command_;
  std::vector<std::string> lanes_;
  std::string topology_;
  std::string netns_;
  link::LinkFlags flags_;
  bool stats_ = false;
  bool quiet_ = false;
  bool check_only_ = false;
  std::optional<std::string> json_;
  EngineFlags engine_;
  bool strict_ = false;
  std::string name_ = lab::kDefaultBridgeName;
  ApiFlags api_;
};

}  // namespace longhaul::cli
