#pragma once
// `longhaul tune`: flags only; the rules live in tune/ (see docs/tune.md).
#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace longhaul::cli {

class TuneCommand {
 public:
  explicit TuneCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int execute();

 private:
  CLI::App* command_;
  std::optional<std::string> rate_;
  std::optional<std::string> rtt_;
  unsigned streams_ = 1;
  std::string os_ = "linux";
  std::string peer_;
  std::optional<std::string> loss_;
  std::optional<std::string> churn_;
  std::string netns_;
  std::string lab_;   ///< --lab: a lab's name (with --site: that site's namespace)
  std::string site_;  ///< --site: a site of --lab (or of the only lab that is up)
  bool host_ = false;
  bool apply_ = false;
  bool revert_ = false;
  std::string format_ = "table";
};

}  // namespace longhaul::cli
