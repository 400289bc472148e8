#pragma once
// Human text and JSON documents of `bench rr` and `bench churn` results
// (schema longhaul.bench/1 with "kind": "rr" or "churn"). Pure: results in, text out.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "measure/transactions/rr_client.hh"
#include "measure/transactions/transaction_result.hh"

namespace longhaul::measure {

nlohmann::json to_json(const RrPhase& phase);
nlohmann::json to_json(const SocketCensus& census);
nlohmann::json to_json(const PortSettings& settings);

/// The rr document: start (config, load), end (alone, under_load, load, latency_increase_us).
nlohmann::json rr_document(const RrResult& result);
/// The rr report for people: a table of the phases side by side, the load, the error.
std::string rr_human(const RrResult& result);

/// The churn document: start (config, client_namespace), intervals, end (totals, latency,
/// first_eaddrnotavail with explanation and fixes).
nlohmann::json churn_document(const ChurnResult& result);
/// One churn interval as the document's "intervals" holds it (and --json-stream's "interval").
nlohmann::json churn_interval_json(const ChurnInterval& interval);
/// A document of the two above as --json-stream events, one per line: "start" (the document's
/// start with its schema and kind), "interval" for each of its intervals, "error" if it has
/// one, "end" (the same event names as `bench client --json-stream`).
std::vector<nlohmann::json> document_events(const nlohmann::json& document);
/// Header (configuration and the namespace's port settings) and column titles.
std::string churn_human_header(const ChurnResult& result);
/// One line per interval.
std::string churn_human_interval(const ChurnInterval& interval);
/// Totals, latencies, TIME_WAIT and ports, the first EADDRNOTAVAIL explained, the error.
std::string churn_human_summary(const ChurnResult& result);

}  // namespace longhaul::measure
