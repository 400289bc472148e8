#pragma once
// Where a running test's events go. The client and server call an observer;
// ConsoleReporter turns events into human text, one JSON document (--json) or
// one JSON event per line (--json-stream). Other consumers (a sweep collecting
// results, a lab dashboard) implement BenchObserver themselves.
#include <ostream>

#include "measure/bench_result.hh"
#include "measure/report/progress.hh"
#include "measure/transactions/transaction_config.hh"

namespace longhaul::measure {

/// What a server saw of a transaction test.
struct TransactionServerReport {
  std::string kind;  ///< "rr" or "churn"
  std::string host;  ///< the client
  std::uint16_t port = 0;
  TransactionConfig config;
  std::uint64_t connections = 0;
  std::uint64_t transactions = 0;
  std::uint64_t rejected = 0;
  std::optional<std::string> error;
};

nlohmann::json to_json(const TransactionServerReport& report);

class BenchObserver {
 public:
  virtual ~BenchObserver() = default;
  /// The test was agreed and its data connections are up.
  virtual void on_start(const StartInfo& start) = 0;
  /// One interval, merged from both sides where both were available in time.
  virtual void on_interval(const SideInterval& interval, const BenchConfig& config) = 0;
  /// Now and then while the test runs.
  virtual void on_progress(const ProgressState& /*state*/) {}
  /// The end, successful or not (`result.error`); `result` is complete (finish_result done).
  virtual void on_finish(const BenchResult& result) = 0;
  /// A server's `bench rr` or `bench churn` test ended (successful or not).
  virtual void on_transaction_test(const TransactionServerReport& /*report*/) {}
};

enum class OutputFormat { human, json, json_stream };

class ConsoleReporter : public BenchObserver {
 public:
  enum class Mode { client, server };
  /// Writes to `out`; `progress` (may be null) is cleared before each write.
  ConsoleReporter(std::ostream& out, OutputFormat format, Mode mode, bool per_stream,
                  TerminalProgress* progress);

  void on_start(const StartInfo& start) override;
  void on_interval(const SideInterval& interval, const BenchConfig& config) override;
  void on_progress(const ProgressState& state) override;
  void on_finish(const BenchResult& result) override;
  void on_transaction_test(const TransactionServerReport& report) override;

 private:
  void write(const std::string& text);

  std::ostream& out_;
  OutputFormat format_;
  Mode mode_;
  bool per_stream_;
  TerminalProgress* progress_;
  bool started_ = false;
};

}  // namespace longhaul::measure
