#include "tune/macos.hh"

#include <fmt/format.h>

#include <algorithm>

namespace longhaul::tune {

namespace {

constexpr std::int64_t kMaxSockBufDefault = 8 << 20;
constexpr std::int64_t kAutoBufMaxDefault = 4 << 20;
constexpr std::int64_t kPortFirstDefault = 49152;
constexpr std::int64_t kPortLast = 65535;
constexpr double kMacTimeWaitSeconds = 30;  // 2 x net.inet.tcp.msl (15000 ms)

Recommendation row(std::string setting, Action action, std::string recommended, std::string why) {
  Recommendation r;
  r.setting = std::move(setting);
  r.scope = Scope::global;
  r.action = action;
  r.recommended = std::move(recommended);
  r.why = std::move(why);
  return r;
}

}  // namespace

PathFigures analyse_macos_path(const TuneRequest& request) {
  // Nothing is read from a Mac: default MTU and initial window, window = buffer.
  PathFigures p = analyse_path(HostSettings{}, request, 1.0);
  p.notes.push_back(
      "macOS has no BBR (CUBIC is its default) and no per-route initial window; apply with "
      "`sudo sysctl -w NAME=VALUE` (never lowering what `sysctl -n NAME` shows), persist in "
      "/etc/sysctl.conf");
  return p;
}

std::vector<Recommendation> recommend_macos(const TuneRequest& request) {
  const PathFigures p = analyse_macos_path(request);
  const auto tier = static_cast<std::int64_t>(p.buffer_tier_bytes);
  const auto allows = [&](double window) {
    return std::min(window_limited_bps(window, request.rtt) * request.streams,
                    static_cast<double>(request.rate_bps));
  };
  std::vector<Recommendation> rows;
  rows.push_back(row("kern.ipc.maxsockbuf", Action::set,
                     std::to_string(std::max<std::int64_t>(2 * tier, kMaxSockBufDefault)),
                     fmt::format("caps every socket buffer, mbuf overhead included (typical "
                                 "default {}); \"Result too large\": use the largest accepted",
                                 kMaxSockBufDefault)));
  for (const char* name : {"net.inet.tcp.autorcvbufmax", "net.inet.tcp.autosndbufmax"}) {
    Recommendation r =
        row(name, Action::set, std::to_string(tier),
            fmt::format("autotuning stops here (typical default {}); must hold the "
                        "{} window per stream",
                        kAutoBufMaxDefault, core::format_bytes(p.window_per_stream_bytes)));
    r.allows = Allows{"bit/s", allows(static_cast<double>(kAutoBufMaxDefault)),
                      allows(static_cast<double>(tier))};
    rows.push_back(std::move(r));
  }
  const double churn = request.churn_per_s.value_or(0);
  const double default_ports = static_cast<double>(kPortLast - kPortFirstDefault + 1);
  const double wide_ports = static_cast<double>(kPortLast - kWidePortLow + 1);
  Recommendation first = row(
      "net.inet.ip.portrange.first", Action::keep, std::to_string(kPortFirstDefault),
      fmt::format("{:.0f} ports held 30 s (2 x msl) after close: {:.0f} new connections/s to one "
                  "server address:port",
                  default_ports, default_ports / kMacTimeWaitSeconds));
  if (churn > default_ports / kMacTimeWaitSeconds) {
    first.action = Action::set;
    first.recommended = std::to_string(kWidePortLow);
    first.why += fmt::format("; {:g}/s needs more", churn);
  }
  first.allows =
      Allows{"connections/s", default_ports / kMacTimeWaitSeconds,
             (first.action == Action::set ? wide_ports : default_ports) / kMacTimeWaitSeconds};
  rows.push_back(std::move(first));
  rows.push_back(row("net.inet.tcp.msl", Action::keep, "15000",
                     "TIME_WAIT is 2 x msl; shortening it risks old segments corrupting new "
                     "connections: reuse connections instead"));
  Recommendation mtu = row("mtu", Action::keep, "1500", "standard frames suffice at this rate");
  mtu.scope = Scope::interface;
  if (request.rate_bps >= 10'000'000'000ULL) {
    mtu.action = Action::advise;
    mtu.recommended = "9000";
    mtu.why =
        "jumbo frames (networksetup -setMTU DEVICE 9000) only if every hop and the peer carry them";
  }
  rows.push_back(std::move(mtu));
  return rows;
}

}  // namespace longhaul::tune
