#pragma once
// Human-readable bench output: a header, one line per stream (or sum) and role
// per interval, and a summary with the totals, the time to fill the pipe and
// what limited the senders. Pure: returns text.
#include <string>

#include "measure/bench_result.hh"

namespace longhaul::measure {

/// "1 stream, upload (client sends), 10 s after 2 s omitted".
std::string describe_test(const BenchConfig& config);
/// The client's header: where, what, seed, socket settings and warnings (each line ends in \n).
std::string human_header(const StartInfo& start);
/// The server's header for a test it accepted from `start.host`.
std::string human_server_header(const StartInfo& start);
/// The column titles.
std::string human_columns();
/// Lines for one interval: per stream (when `per_stream` or there is one stream per
/// direction) and sums (when there are several), sender before receiver.
std::string human_interval(const SideInterval& interval, const BenchConfig& config,
                           bool per_stream);
/// Totals per direction and role, time to fill, limits, and the error if any.
std::string human_summary(const BenchResult& result);

}  // namespace longhaul::measure
