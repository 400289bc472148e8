#pragma once
// `longhaul bench server|client`: flags only; the tester lives in measure/.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace longhaul::cli {

class BenchCommand {
 public:
  explicit BenchCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int execute();

 private:
  int execute_server();
  int execute_client();

  CLI::App* command_;
  CLI::App* server_;
  CLI::App* client_;

  // server
  std::uint16_t server_port_;
  std::optional<std::string> bind_;
  bool once_ = false;
  bool server_json_ = false;
  bool server_json_stream_ = false;

  // client
  std::string host_;
  std::uint16_t port_;
  std::optional<std::string> time_, bytes_, interval_, omit_, congestion_, window_, sndbuf_,
      rcvbuf_, pacing_rate_, path_rate_, connect_timeout_;
  std::uint32_t streams_ = 1;
  bool reverse_ = false;
  bool bidir_ = false;
  bool json_ = false;
  bool json_stream_ = false;
  bool per_stream_ = false;
  bool no_progress_ = false;
  std::optional<std::uint64_t> seed_;
};

}  // namespace longhaul::cli
