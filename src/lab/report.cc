#include "lab/report.hh"

#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <utility>

#include "io/error.hh"
#include "io/process.hh"

namespace longhaul::lab {

nlohmann::json direction_config_json(const core::DirectionConfig& config) {
  nlohmann::json queue = nlohmann::json::object();
  if (config.queue.max_packets != 0) queue["max_packets"] = config.queue.max_packets;
  if (config.queue.max_bytes != 0) queue["max_bytes"] = config.queue.max_bytes;
  if (config.queue.max_delay.count() != 0) queue["max_delay_ns"] = config.queue.max_delay.count();
  nlohmann::json json = {{"delay_ns", config.delay.count()},
                         {"rate_bps", config.rate_bps},
                         {"loss_probability", config.loss},
                         {"overhead_bytes", config.overhead_bytes},
                         {"queue", queue},
                         {"seed", config.seed}};
  if (config.rate_bps != 0) {
    json["qdisc"] = {{"discipline", core::queue_discipline_name(config.qdisc.discipline)},
                     {"ecn", config.qdisc.ecn}};
    if (config.qdisc.discipline == core::QueueDiscipline::red) {
      const auto red = core::red_thresholds(config.rate_bps, config.queue, config.qdisc.red);
      json["qdisc"]["red"] = {{"min_bytes", red.min_bytes},
                              {"max_bytes", red.max_bytes},
                              {"max_probability", config.qdisc.red.max_probability},
                              {"weight", config.qdisc.red.weight}};
    } else if (config.qdisc.discipline == core::QueueDiscipline::codel) {
      json["qdisc"]["codel"] = {{"target_ns", config.qdisc.codel.target.count()},
                                {"interval_ns", config.qdisc.codel.interval.count()}};
    } else if (config.qdisc.discipline == core::QueueDiscipline::pie) {
      json["qdisc"]["pie"] = {{"target_ns", config.qdisc.pie.target.count()},
                              {"tupdate_ns", config.qdisc.pie.tupdate.count()},
                              {"alpha", config.qdisc.pie.alpha},
                              {"beta", config.qdisc.pie.beta}};
    }
  }
  if (config.cell_bytes != 0) {
    json["cell"] = {{"cell_bytes", config.cell_bytes},
                    {"payload_bytes", config.cell_payload_bytes}};
  }
  if (config.has_jitter()) {
    json["jitter"] = {
        {"jitter_ns", config.jitter.count()},
        {"correlation", config.jitter_correlation},
        {"distribution", core::jitter_shape_name(config.jitter_shape)},
        {"order_preserving", config.jitter_mode == core::JitterMode::order_preserving}};
  }
  if (config.duplicate.probability > 0)
    json["duplicate_probability"] = config.duplicate.probability;
  if (config.corrupt.probability > 0) json["corrupt_probability"] = config.corrupt.probability;
  if (config.corrupt.bit_error_rate > 0) json["bit_error_rate"] = config.corrupt.bit_error_rate;
  if (config.reorder.probability > 0) {
    json["reorder"] = {{"probability", config.reorder.probability}, {"gap", config.reorder.gap}};
  }
  nlohmann::json outages = nlohmann::json::array();
  for (const auto& window : config.loss_model.schedule.windows) {
    outages.push_back({{"start_ns", window.start.count()}, {"end_ns", window.end.count()}});
  }
  if (!outages.empty()) json["outages"] = outages;
  if (!config.schedule.empty()) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& step : config.schedule.steps) {
      nlohmann::json entry = {{"at_ns", step.at.count()}};
      if (step.change.rate_bps) entry["rate_bps"] = *step.change.rate_bps;
      if (step.change.delay) entry["delay_ns"] = step.change.delay->count();
      if (step.change.loss) entry["loss_probability"] = *step.change.loss;
      steps.push_back(entry);
    }
    json["schedule"] = {{"steps", steps}, {"period_ns", config.schedule.period.count()}};
  }
  if (!config.capacity_trace.empty()) {
    json["capacity_trace"] = {{"steps", config.capacity_trace.steps.size()},
                              {"period_ns", config.capacity_trace.period.count()},
                              {"max_rate_bps", config.capacity_trace.max_rate_bps()}};
  }
  if (config.mtu_bytes != 0) {
    json["mtu_bytes"] = config.mtu_bytes;
    json["mtu_icmp"] = config.mtu_icmp;
  }
  return json;
}

nlohmann::json direction_model_json(const engine::WorkerStats& stats) {
  return {{"ecn_marked_frames", stats.ecn_marked.get()},
          {"aqm_dropped_frames", stats.aqm_dropped.get()},
          {"outage_dropped_frames", stats.outage_dropped.get()},
          {"schedule_changes", stats.schedule_changes.get()}};
}

namespace {

nlohmann::json histogram_json(const core::LatenessHistogram& histogram) {
  return {{"samples", histogram.count()},
          {"p50", histogram.quantile(0.5).count()},
          {"p99", histogram.quantile(0.99).count()},
          {"p999", histogram.quantile(0.999).count()},
          {"max", histogram.max().count()}};
}

std::string histogram_text(const char* name, const core::LatenessHistogram& histogram) {
  return fmt::format(
      "      {}: p50 {} us, p99 {} us, p99.9 {} us, max {} us ({} frames)\n", name,
      histogram.quantile(0.5).count() / 1000, histogram.quantile(0.99).count() / 1000,
      histogram.quantile(0.999).count() / 1000, histogram.max().count() / 1000, histogram.count());
}

}  // namespace

nlohmann::json direction_stats_json(const core::CountersSnapshot& counters,
                                    const engine::WorkerStats& stats) {
  nlohmann::json dropped = nlohmann::json::object();
  for (int i = 0; i < core::kDropCauseCount; ++i) {
    const auto index = static_cast<std::size_t>(i);
    dropped[core::drop_cause_name(static_cast<core::DropCause>(i))] = {
        {"packets", counters.dropped_packets[index]}, {"bytes", counters.dropped_bytes[index]}};
  }
  return {{"packets_in", counters.packets_in},
          {"bytes_in", counters.bytes_in},
          {"packets_out", counters.packets_out},
          {"bytes_out", counters.bytes_out},
          {"packets_queued", counters.packets_queued},
          {"bytes_queued", counters.bytes_queued},
          {"frames_in", counters.frames_in},
          {"frames_out", counters.frames_out},
          {"packets_duplicated", counters.packets_duplicated},
          {"bytes_duplicated", counters.bytes_duplicated},
          {"dropped", dropped},
          {"lost_before_ingress_frames", stats.lost_before_ingress.get()},
          {"icmp_too_big_sent", stats.too_big_replies.get()},
          {"reconciles", counters.reconciles()},
          {"release_lateness_ns", histogram_json(stats.release_lateness)},
          {"ingress_wait_ns", histogram_json(stats.ingress_wait)}};
}

std::string counters_table(const engine::Lane& lane, bool detailed) {
  // "dup" stands beside "packets in" because the two add up: in + dup = out + drops + queued.
  std::string text = fmt::format(
      "{:<5} {:>11} {:>7} {:>11} {:>9} {:>9} {:>9} {:>7} {:>12} {:>12}\n", "dir", "packets in",
      "dup", "packets out", "queue", "loss", "other", "queued", "bytes out", "late p99");
  for (const auto direction : {engine::Direction::up, engine::Direction::down}) {
    const auto counters = lane.counters(direction);
    const auto& stats = lane.worker(direction).stats();
    const auto dropped = [&](core::DropCause cause) {
      return counters.dropped_packets[static_cast<std::size_t>(cause)];
    };
    // "queue" is everything the bottleneck dropped (its limit and the discipline's early drops).
    const std::uint64_t queue_drops =
        dropped(core::DropCause::queue_full) + dropped(core::DropCause::aqm);
    const std::uint64_t other =
        counters.packets_dropped() - queue_drops - dropped(core::DropCause::loss);
    text += fmt::format("{:<5} {:>11} {:>7} {:>11} {:>9} {:>9} {:>9} {:>7} {:>12} {:>9} us\n",
                        engine::direction_name(direction), counters.packets_in,
                        counters.packets_duplicated, counters.packets_out, queue_drops,
                        dropped(core::DropCause::loss), other, counters.packets_queued,
                        counters.bytes_out, stats.release_lateness.quantile(0.99).count() / 1000);
    // What the models did, whenever it is not nothing: the columns above lump
    // these into their causes.
    const std::pair<const char*, std::uint64_t> models[] = {
        {"ECN marks", stats.ecn_marked.get()},
        {"AQM drops", dropped(core::DropCause::aqm)},
        {"outage drops", stats.outage_dropped.get()},
        {"MTU drops", dropped(core::DropCause::mtu)},
        {"ICMP too-big sent", stats.too_big_replies.get()},
        {"schedule/trace changes", stats.schedule_changes.get()},
    };
    std::string line;
    for (const auto& [name, count] : models) {
      if (count != 0) line += fmt::format("{}{} {}", line.empty() ? "" : ", ", name, count);
    }
    if (!line.empty()) text += fmt::format("      {}\n", line);
    if (detailed) {
      for (int i = 0; i < core::kDropCauseCount; ++i) {
        const auto index = static_cast<std::size_t>(i);
        if (counters.dropped_packets[index] == 0) continue;
        text += fmt::format("      dropped {}: {} packets, {} bytes\n",
                            core::drop_cause_name(static_cast<core::DropCause>(i)),
                            counters.dropped_packets[index], counters.dropped_bytes[index]);
      }
      if (counters.packets_duplicated != 0) {
        text += fmt::format("      duplicated: {} packets, {} bytes\n", counters.packets_duplicated,
                            counters.bytes_duplicated);
      }
      if (const auto lost = stats.lost_before_ingress.get(); lost != 0) {
        text +=
            fmt::format("      lost before ingress (kernel socket buffer full): {} frames\n", lost);
      }
      text += histogram_text("release lateness", stats.release_lateness);
      text += histogram_text("ingress wait (kernel receive to engine)", stats.ingress_wait);
    }
  }
  return text;
}

void write_json_report(const nlohmann::json& report, const std::string& path) {
  if (path == "-") {
    std::cout << report.dump(2) << std::endl;
    return;
  }
  std::ofstream out(path);
  out << report.dump(2) << '\n';
  out.close();
  if (!out) io::throw_errno("write", path);
  // Under sudo the file belongs to the user who asked for it (as capture's pcap does).
  if (const auto user = io::sudo_invoker()) {
    if (::chown(path.c_str(), user->uid, user->gid) != 0) io::throw_errno("chown", path);
  }
}

}  // namespace longhaul::lab
