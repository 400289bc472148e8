#include "measure/report/reporter.hh"

#include <fmt/format.h>

#include "measure/report/bench_json.hh"
#include "measure/report/human_report.hh"

namespace longhaul::measure {

ConsoleReporter::ConsoleReporter(std::ostream& out, OutputFormat format, Mode mode, bool per_stream,
                                 TerminalProgress* progress)
    : out_(out), format_(format), mode_(mode), per_stream_(per_stream), progress_(progress) {}

void ConsoleReporter::write(const std::string& text) {
  if (progress_ != nullptr) progress_->clear();
  out_ << text;
  out_.flush();
}

void ConsoleReporter::on_start(const StartInfo& start) {
  started_ = true;
  switch (format_) {
    case OutputFormat::human:
      write((mode_ == Mode::client ? human_header(start) : human_server_header(start)) +
            human_columns());
      break;
    case OutputFormat::json_stream:
      write(stream_event("start", start_json(start)).dump() + "\n");
      break;
    case OutputFormat::json:
      break;  // the whole document is written at the end
  }
}

void ConsoleReporter::on_interval(const SideInterval& interval, const BenchConfig& config) {
  switch (format_) {
    case OutputFormat::human:
      write(human_interval(interval, config, per_stream_));
      break;
    case OutputFormat::json_stream:
      write(stream_event("interval", interval_json(interval, config)).dump() + "\n");
      break;
    case OutputFormat::json:
      break;
  }
}

void ConsoleReporter::on_progress(const ProgressState& state) {
  if (progress_ != nullptr) progress_->update(state);
}

void ConsoleReporter::on_finish(const BenchResult& result) {
  switch (format_) {
    case OutputFormat::human:
      if (started_) {
        write(human_summary(result));
      } else if (mode_ == Mode::server && result.error) {
        // The client's own command reports its failures; a server says which test failed.
        write(fmt::format("longhaul bench server: test from {} failed: {}\n",
                          result.start.host.empty() ? "a client" : result.start.host,
                          *result.error));
      }
      break;
    case OutputFormat::json_stream:
      if (!started_) write(stream_event("start", start_json(result.start)).dump() + "\n");
      if (result.error) write(stream_event("error", {{"message", *result.error}}).dump() + "\n");
      write(stream_event("end", end_json(result)).dump() + "\n");
      break;
    case OutputFormat::json:
      write(bench_document(result).dump(2) + "\n");
      break;
  }
  started_ = false;  // a server reports one test after another
}

nlohmann::json to_json(const TransactionServerReport& report) {
  nlohmann::json out = {{"schema", kSchema},
                        {"kind", report.kind},
                        {"client", {{"host", report.host}, {"port", report.port}}},
                        {"config", to_json(report.config)},
                        {"server",
                         {{"connections", report.connections},
                          {"transactions", report.transactions},
                          {"rejected_connections", report.rejected}}}};
  if (report.error) out["error"] = *report.error;
  return out;
}

void ConsoleReporter::on_transaction_test(const TransactionServerReport& report) {
  switch (format_) {
    case OutputFormat::human:
      write(fmt::format(
          "longhaul bench server: {} test from {}: {} connections, {} transactions "
          "answered{}\n",
          report.kind, report.host.empty() ? "a client" : report.host, report.connections,
          report.transactions, report.error ? "; failed: " + *report.error : std::string()));
      break;
    case OutputFormat::json_stream:
      write(stream_event("end", to_json(report)).dump() + "\n");
      break;
    case OutputFormat::json:
      write(to_json(report).dump(2) + "\n");
      break;
  }
}

}  // namespace longhaul::measure
