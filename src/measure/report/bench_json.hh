#pragma once
// The JSON forms of bench results, schema "longhaul.bench/1" (iperf3-like:
// start / intervals / end; units in key names). The same stream-interval and
// socket-report objects travel from server to client on the control connection,
// so each has a reader next to its writer.
//
// Document:
//   {"schema": "longhaul.bench/1",
//    "start": {"version", "connecting_to": {"host", "port"}, "timestamp_unix_s", "seed",
//              "config": {...}, "connected": [...], "socket_options": {"client", "server"},
//              "warnings": [...]},
//    "intervals": [{"index", "start_s", "end_s", "seconds", "omitted", "streams": [...],
//                   "sum_sent", "sum_received", ("sum_sent_bidir_reverse", ...)}],
//    "end": {"streams": [...], "sum_sent", "sum_received", "time_to_fill", (..._bidir_reverse)},
//    "error": "..." (only when the test failed)}
// "sum_sent"/"sum_received" describe the test's direction (upload, or download
// with --reverse); with --bidir they are the upload and the "_bidir_reverse"
// keys the download.
#include <nlohmann/json.hpp>

#include <string_view>

#include "measure/bench_result.hh"

namespace longhaul::measure {

nlohmann::json to_json(const LimitedBy& limits);
nlohmann::json to_json(const StreamInterval& interval);
/// One side's interval as sent on the control connection (no sums).
nlohmann::json to_json(const SideInterval& interval);
nlohmann::json to_json(const BufferReport& report);
nlohmann::json to_json(const SocketReport& report);
nlohmann::json to_json(const Totals& totals);
nlohmann::json to_json(const FillTime& fill);

core::Parsed<SideInterval> side_interval_from_json(const nlohmann::json& json);
core::Parsed<SocketReport> socket_report_from_json(const nlohmann::json& json);

/// "start" object of the document.
nlohmann::json start_json(const StartInfo& start);
/// One merged interval with its sums, as it appears in "intervals".
nlohmann::json interval_json(const SideInterval& interval, const BenchConfig& config);
/// "end" object of the document (call finish_result first).
nlohmann::json end_json(const BenchResult& result);
/// The whole document; a failed test carries "error" and whatever was measured.
nlohmann::json bench_document(const BenchResult& result);
/// One line of --json-stream: {"event": NAME, "data": DATA}.
nlohmann::json stream_event(std::string_view name, nlohmann::json data);

}  // namespace longhaul::measure
