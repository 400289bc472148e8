#include "tune/format.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "tune/macos.hh"

namespace longhaul::tune {

namespace {

using nlohmann::json;

std::string target_text(const TuneRequest& request) {
  if (request.os == Os::macos_os) return "macOS";
  return request.target == TargetKind::host ? std::string("the host")
                                            : "network namespace " + request.netns;
}

std::string request_line(const Report& report) {
  const TuneRequest& r = report.request;
  std::string line = fmt::format(
      "{} x {} round trip, {} stream{}", core::format_rate(static_cast<double>(r.rate_bps)),
      core::format_duration(r.rtt), r.streams, r.streams == 1 ? "" : "s");
  if (r.loss) line += fmt::format(", {:g}% loss", *r.loss * 100);
  if (r.churn_per_s) line += fmt::format(", {:g} new connections/s", *r.churn_per_s);
  return line;
}

std::string display_setting(const Recommendation& row) {
  if (row.scope == Scope::interface && row.object.starts_with("dev ")) {
    return row.setting + " (" + row.object.substr(4) + ")";
  }
  if (row.scope == Scope::route) return row.setting + " (route)";
  return row.setting;
}

std::string allows_value(const Allows& allows, double value) {
  if (!std::isfinite(value)) return "unlimited";
  if (allows.unit == "bit/s") return core::format_rate(value);
  return fmt::format("{:.0f} conn/s", value);
}

std::string allows_text(const Recommendation& row) {
  if (!row.allows) return "";
  const Allows& a = *row.allows;
  if (row.action == Action::keep || !a.recommended) {
    return a.current ? allows_value(a, *a.current) : "";
  }
  const std::string after = allows_value(a, *a.recommended);
  if (!a.current) return "-> " + after;
  const std::string before = allows_value(a, *a.current);
  return before == after ? after : before + " -> " + after;
}

json optional_number(const std::optional<double>& value) {
  if (!value || !std::isfinite(*value)) return nullptr;
  return *value;
}

json optional_text(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}

json changes_json(const std::vector<SavedChange>& changes) {
  json out = json::array();
  for (const auto& change : changes) {
    out.push_back(json{{"kind", to_string(change.kind)},
                       {"setting", change.setting},
                       {"object", change.object.empty() ? json(nullptr) : json(change.object)},
                       {"previous", optional_text(change.previous)},
                       {"applied", change.applied}});
  }
  return out;
}

std::string change_name(const SavedChange& change) {
  if (change.kind == SavedChange::Kind::sysctl) return change.setting;
  return change.setting + " (" + change.object + ")";
}

}  // namespace

Report make_report(const TuneRequest& request, std::optional<HostSettings> settings) {
  Report report;
  report.request = request;
  if (request.os == Os::macos_os) {
    report.path = analyse_macos_path(request);
    report.rows = recommend_macos(request);
    return report;
  }
  const HostSettings& host = settings ? *settings : HostSettings{};
  report.path = analyse_path(host, request);
  report.rows = recommend(host, request);
  report.settings = std::move(settings);
  return report;
}

std::string format_table(const Report& report) {
  const PathFigures& p = report.path;
  std::string out =
      fmt::format("longhaul tune: {}, for {}", request_line(report), target_text(report.request));
  if (report.settings) out += fmt::format(" (Linux {})", report.settings->kernel.release);
  out += "\n";
  out += fmt::format(
      "  bandwidth-delay product {}; per stream a {} window, {} of socket buffer ({:g}x)\n",
      core::format_bytes(p.bdp_bytes), core::format_bytes(p.window_per_stream_bytes),
      core::format_bytes(p.buffer_needed_bytes), p.buffer_per_window);
  out += fmt::format("  MSS {} B; slow start from {} segments: {} round trips, {}, {} sent\n",
                     p.mss_bytes, p.initcwnd, p.slow_start.rounds,
                     core::format_duration(p.slow_start.time),
                     core::format_bytes(p.slow_start.bytes_sent));
  if (p.mathis_bps_per_stream) {
    out += fmt::format("  loss-limited (Mathis): {} per stream\n",
                       core::format_rate(*p.mathis_bps_per_stream));
  }
  if (report.settings && report.settings->route) {
    const RouteSettings& route = *report.settings->route;
    out += "  route: " + route.description;
    if (report.settings->link) {
      const LinkSettings& link = *report.settings->link;
      out += fmt::format(" (mtu {}, txqueuelen {}, qdisc {})", link.mtu, link.txqueuelen,
                         link.qdisc.empty() ? "?" : link.qdisc);
    }
    out += "\n";
  }
  out += "\n";

  const std::vector<std::string> headers{"SETTING", "SCOPE",  "CURRENT", "RECOMMENDED",
                                         "ACTION",  "ALLOWS", "WHY"};
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : report.rows) {
    cells.push_back({display_setting(row), std::string(to_string(row.scope)),
                     row.current.value_or(report.request.os == Os::macos_os ? "?" : "-"),
                     row.action == Action::keep ? "" : row.recommended,
                     // The words of docs/tune.md and the JSON's "action": one vocabulary.
                     std::string(to_string(row.action)), allows_text(row), row.why});
  }
  std::vector<std::size_t> widths(headers.size());
  for (std::size_t i = 0; i < headers.size(); ++i) widths[i] = headers[i].size();
  for (const auto& line : cells) {
    for (std::size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], line[i].size());
  }
  const auto emit = [&](const std::vector<std::string>& line) {
    std::string text;
    for (std::size_t i = 0; i < line.size(); ++i) {
      text += i + 1 == line.size() ? line[i] : fmt::format("{:<{}}  ", line[i], widths[i]);
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  emit(headers);
  for (const auto& line : cells) emit(line);

  std::vector<std::string> notes = p.notes;
  if (report.settings) {
    notes.insert(notes.begin(), report.settings->notes.begin(), report.settings->notes.end());
  }
  if (!notes.empty()) out += "\n";
  for (const auto& note : notes) out += "note: " + note + "\n";
  const auto to_set = std::count_if(report.rows.begin(), report.rows.end(),
                                    [](const auto& row) { return row.action == Action::set; });
  if (report.request.os == Os::linux_os) {
    out += to_set == 0 ? "\nnothing to change.\n"
                       : fmt::format(
                             "\n{} to change: --format sysctl prints a sysctl.conf snippet; "
                             "--apply with --netns NAME or --host applies (--revert undoes)\n",
                             to_set);
  }
  return out;
}

std::string format_sysctl(const Report& report) {
  const bool mac = report.request.os == Os::macos_os;
  std::string out =
      fmt::format("# longhaul tune: {}, for {}", request_line(report), target_text(report.request));
  if (report.settings) out += fmt::format(" (Linux {})", report.settings->kernel.release);
  out += "\n";
  out += fmt::format("# Bandwidth-delay product {}; per stream a {} window.\n",
                     core::format_bytes(report.path.bdp_bytes),
                     core::format_bytes(report.path.window_per_stream_bytes));
  out += mac ? "# Apply now with `sudo sysctl -w NAME=VALUE`; persist in /etc/sysctl.conf.\n"
               "# Never lower: skip a line where `sysctl -n NAME` already shows more.\n"
             : "# Save as /etc/sysctl.d/90-longhaul.conf and load with `sysctl --system`.\n";
  std::vector<std::string> commands;
  std::vector<std::string> advice;
  bool any = false;
  for (const auto& row : report.rows) {
    if (row.action == Action::keep) continue;
    const bool sysctl = row.scope == Scope::global || row.scope == Scope::netns;
    if (sysctl && !(mac && row.setting == "mtu")) {
      const std::string line = mac ? fmt::format("{}={}", row.setting, row.recommended)
                                   : fmt::format("{} = {}", row.setting, row.recommended);
      if (row.action == Action::set) {
        std::string comment = row.why;
        if (!mac && row.scope == Scope::global) comment += " [host-global]";
        out += "\n# " + comment + "\n" + line + "\n";
        any = true;
      } else {
        advice.push_back("# " + line + "   (" + row.why + ")");
      }
      continue;
    }
    const std::string dev = row.object.starts_with("dev ") ? row.object.substr(4) : "DEVICE";
    std::string command;
    if (row.setting == "mtu") {
      command = mac ? "networksetup -setMTU " + dev + " " + row.recommended
                    : "ip link set dev " + dev + " mtu " + row.recommended;
    } else if (row.setting == "txqueuelen") {
      command = "ip link set dev " + dev + " txqueuelen " + row.recommended;
    }
    if (!command.empty()) {
      (row.action == Action::set ? commands : advice)
          .push_back("#   " + command + (row.action == Action::set ? "" : "   (" + row.why + ")"));
    }
  }
  // initcwnd and initrwnd go into one `ip route change` carrying the route's other attributes,
  // which a replace would otherwise drop.
  if (report.settings && report.settings->route) {
    std::string windows;
    bool set = true;
    for (const auto& row : report.rows) {
      if (row.scope != Scope::route) continue;
      const std::string value =
          row.action == Action::keep ? row.current.value_or("") : row.recommended;
      if (value.empty() || value.starts_with("default")) continue;
      if (row.action == Action::advise) set = false;
      windows += " " + row.setting + " " + value;
    }
    const bool changes = std::any_of(report.rows.begin(), report.rows.end(), [](const auto& row) {
      return row.scope == Scope::route && row.action != Action::keep;
    });
    if (changes) {
      (set ? commands : advice)
          .push_back("#   ip route change " + report.settings->route->ip_arguments + windows);
    }
  }
  if (!any) out += "\n# No sysctl to change.\n";
  if (!commands.empty()) {
    out +=
        "\n# Not sysctls: run these as root (they last until a reboot or the interface or\n"
        "# route is re-created; persist them in your network configuration):\n";
    for (const auto& line : commands) out += line + "\n";
  }
  if (!advice.empty()) {
    out += "\n# Advice, not applied (depends on things longhaul cannot see):\n";
    for (const auto& line : advice) out += line + "\n";
  }
  return out;
}

std::string format_json(const Output& output) {
  const TuneRequest& r = output.request;
  json document;
  document["schema"] = kJsonSchema;
  document["request"] = json{
      {"rate_bps", r.rate_bps},
      {"rtt_ns", r.rtt.count()},
      {"streams", r.streams},
      {"os", r.os == Os::linux_os ? "linux" : "macos"},
      {"target", r.target == TargetKind::host ? "host" : "netns"},
      {"netns", r.netns.empty() ? json(nullptr) : json(r.netns)},
      {"peer", r.peer.empty() ? json(nullptr) : json(r.peer)},
      {"loss", optional_number(r.loss)},
      {"churn_per_s", optional_number(r.churn_per_s)},
  };
  document["kernel"] = nullptr;
  document["path"] = nullptr;
  document["link"] = nullptr;
  document["route"] = nullptr;
  document["recommendations"] = json::array();
  document["notes"] = json::array();
  if (output.report) {
    const Report& report = *output.report;
    const PathFigures& p = report.path;
    document["path"] = json{
        {"bdp_bytes", p.bdp_bytes},
        {"window_per_stream_bytes", p.window_per_stream_bytes},
        {"buffer_per_window", p.buffer_per_window},
        {"buffer_needed_bytes", p.buffer_needed_bytes},
        {"buffer_tier_bytes", p.buffer_tier_bytes},
        {"mss_bytes", p.mss_bytes},
        {"initcwnd", p.initcwnd},
        {"slow_start", json{{"rounds", p.slow_start.rounds},
                            {"time_ns", p.slow_start.time.count()},
                            {"bytes_sent", p.slow_start.bytes_sent}}},
        {"mathis_bps_per_stream", optional_number(p.mathis_bps_per_stream)},
        {"streams_to_fill", p.streams_to_fill},
    };
    std::vector<std::string> notes = p.notes;
    if (report.settings) {
      const HostSettings& s = *report.settings;
      document["kernel"] = json{{"release", s.kernel.release},
                                {"major", s.kernel.major},
                                {"minor", s.kernel.minor},
                                {"patch", s.kernel.patch}};
      if (s.link) {
        document["link"] = json{{"name", s.link->name},
                                {"mtu", s.link->mtu},
                                {"txqueuelen", s.link->txqueuelen},
                                {"qdisc", s.link->qdisc}};
      }
      if (s.route) {
        const auto metric = [](const std::optional<std::uint32_t>& v) {
          return v ? json(*v) : json(nullptr);
        };
        document["route"] = json{
            {"description", s.route->description},
            {"ip_arguments", s.route->ip_arguments},
            {"dev", s.route->dev},
            {"initcwnd", metric(s.route->initcwnd)},
            {"initrwnd", metric(s.route->initrwnd)},
            {"unsupported",
             s.route->unsupported.empty() ? json(nullptr) : json(s.route->unsupported)},
        };
      }
      notes.insert(notes.begin(), s.notes.begin(), s.notes.end());
    }
    for (const auto& row : report.rows) {
      json allows = nullptr;
      if (row.allows) {
        allows = json{{"unit", row.allows->unit},
                      {"current", optional_number(row.allows->current)},
                      {"recommended", optional_number(row.allows->recommended)}};
      }
      document["recommendations"].push_back(json{
          {"setting", row.setting},
          {"object", row.object.empty() ? json(nullptr) : json(row.object)},
          {"scope", to_string(row.scope)},
          {"action", to_string(row.action)},
          {"current", optional_text(row.current)},
          {"recommended", row.recommended},
          {"why", row.why},
          {"allows", allows},
      });
    }
    document["notes"] = notes;
  }
  document["apply"] = nullptr;
  if (output.apply) {
    json refused = json::array();
    for (const auto& refusal : output.apply->refused) {
      refused.push_back(
          json{{"setting", refusal.setting},
               {"object", refusal.object.empty() ? json(nullptr) : json(refusal.object)},
               {"reason", refusal.reason}});
    }
    document["apply"] = json{
        {"state_file",
         output.apply->state_path.empty() ? json(nullptr) : json(output.apply->state_path)},
        {"changed", changes_json(output.apply->changed)},
        {"refused", std::move(refused)},
    };
  }
  document["revert"] = nullptr;
  if (output.revert) {
    document["revert"] = json{
        {"state_file",
         output.revert->state_path.empty() ? json(nullptr) : json(output.revert->state_path)},
        {"restored", changes_json(output.revert->restored)},
        {"problems", output.revert->problems},
        {"message", output.revert->message.empty() ? json(nullptr) : json(output.revert->message)},
    };
  }
  document["error"] = output.error ? json(*output.error) : json(nullptr);
  return document.dump(2) + "\n";
}

std::string format_apply(const ApplyResult& result, const TuneRequest& request) {
  std::string out;
  if (result.changed.empty()) {
    out += fmt::format("longhaul tune: nothing changed on {}\n", target_text(request));
  } else {
    out += fmt::format("longhaul tune: changed on {}:\n", target_text(request));
    for (const auto& change : result.changed) {
      out += fmt::format("  {}: {} -> {}\n", change_name(change),
                         normalize_value(change.previous.value_or("default")),
                         normalize_value(change.applied));
    }
    out += fmt::format("previous values saved in {}; undo with --revert\n", result.state_path);
  }
  for (const auto& refusal : result.refused) {
    out += fmt::format("not applied: {}{}: {}\n", refusal.setting,
                       refusal.object.empty() ? "" : " (" + refusal.object + ")", refusal.reason);
  }
  return out;
}

std::string format_revert(const RevertResult& result, const TuneRequest& request) {
  std::string out;
  if (!result.message.empty()) out += "longhaul tune: " + result.message + "\n";
  if (!result.restored.empty()) {
    out += fmt::format("longhaul tune: restored on {}:\n", target_text(request));
    for (const auto& change : result.restored) {
      out += fmt::format("  {}: {} -> {}\n", change_name(change), normalize_value(change.applied),
                         normalize_value(change.previous.value_or("default")));
    }
  }
  for (const auto& problem : result.problems) out += "not restored: " + problem + "\n";
  if (!result.problems.empty()) {
    out += fmt::format("what was not restored stays in {}\n", result.state_path);
  }
  return out;
}

}  // namespace longhaul::tune
