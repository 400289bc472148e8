#pragma once
// `longhaul bench server|client`: flags only; the tester lives in measure/.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "measure/transactions/transaction_config.hh"

namespace longhaul::cli {

class BenchCommand {
 public:
  explicit BenchCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int execute();

 private:
  int execute_server();
  int execute_client();
  int execute_rr();
  int execute_churn();
  int execute_sweep();
  void add_transaction_flags(CLI::App* app);
  /// The transaction flags shared by rr and churn, checked (UsageError names the flag).
  measure::TransactionConfig transaction_config(measure::TransactionKind kind) const;

  CLI::App* command_;
  CLI::App* server_;
  CLI::App* client_;
  CLI::App* rr_;
  CLI::App* churn_;
  CLI::App* sweep_;

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
  std::optional<std::string> plot_;

  // rr and churn (one of them runs per invocation, so they share the fields)
  std::string tx_host_;
  std::uint16_t tx_port_;
  std::optional<std::string> tx_time_, request_size_, response_size_, tx_connect_timeout_,
      load_ramp_, rate_connections_, tx_interval_, load_congestion_;
  std::optional<std::uint64_t> tx_count_;
  bool under_load_ = false;
  std::uint32_t load_streams_ = 1;
  bool load_reverse_ = false;
  bool reuse_ = false;
  std::uint32_t concurrency_ = 100;
  bool tx_json_ = false;
  bool tx_json_stream_ = false;
  bool tx_no_progress_ = false;

  // sweep
  std::string sweep_rate_;
  std::string sweep_rtts_;
  std::string sweep_profiles_ = "default,tuned";
  std::optional<std::string> sweep_time_, sweep_omit_, sweep_loss_, sweep_window_, sweep_json_,
      sweep_plot_, sweep_name_;
  std::uint32_t sweep_streams_ = 1;
  bool sweep_no_progress_ = false;
};

}  // namespace longhaul::cli
